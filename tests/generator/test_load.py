"""Reading spec files: JSON pointers, YAML syntax errors (where and which line), duplicate keys, JSON errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagewire.generator import spec
from imagewire.generator.load import Document, load
from imagewire.generator.problems import Problem, SpecError, pointer, unescape

TINY = Path(__file__).resolve().parents[1] / "specs" / "tiny"

# --- pointers and problems ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        ((), ""),
        (("models",), "/models"),
        (("models", "vendor/model", "extends"), "/models/vendor~1model/extends"),
        (("paths", "/images/edits", "post"), "/paths/~1images~1edits/post"),
        (("a~b",), "/a~0b"),
        (("~1",), "/~01"),  # a literal "~1" must not read back as "/"
        (("a/~b",), "/a~1~0b"),
        (("items", 0, "x"), "/items/0/x"),
        (("",), "/"),
    ],
)
def test_pointer_escapes_per_rfc_6901(tokens: tuple[str | int, ...], expected: str) -> None:
    assert pointer(*tokens) == expected


@pytest.mark.parametrize(("token", "expected"), [("a~1b", "a/b"), ("a~0b", "a~b"), ("~01", "~1"), ("~10", "/0")])
def test_unescape_reads_tilde_sequences_in_the_right_order(token: str, expected: str) -> None:
    assert unescape(token) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab/~01 "), max_size=6), max_size=4))
def test_pointer_tokens_round_trip(tokens: list[str]) -> None:
    ptr = pointer(*tokens)
    assert ptr.count("/") == len(tokens)
    assert [unescape(t) for t in ptr.split("/")[1:]] == tokens


def test_problem_text_names_file_pointer_line_and_rule() -> None:
    problem = Problem("tiny/models.yaml", "/models/vendor~1model/extends", "unknown model 'x'", "catalog:model-ref", 18)
    assert (
        str(problem)
        == "tiny/models.yaml#/models/vendor~1model/extends (line 18): unknown model 'x' [catalog:model-ref]"
    )
    assert str(Problem("a.yaml", "", "file not found", "load")) == "a.yaml#/: file not found [load]"


def test_spec_error_sorts_and_deduplicates_its_problems() -> None:
    b = Problem("b.yaml", "/x", "second", "r", 2)
    a = Problem("a.yaml", "/y", "first", "r", 9)
    err = SpecError([b, a, b])
    assert list(err.problems) == [a, b]
    assert str(err).splitlines() == ["2 problems in the spec:", f"  {a}", f"  {b}"]
    assert str(SpecError([a])).startswith("1 problem in the spec:")


def test_document_problem_takes_the_line_of_the_nearest_known_pointer(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("x: 0\na: {b: {c: 1}}\nd: [1,\n  2]\n", encoding="utf-8")
    doc = load(path, "doc.yaml")
    assert isinstance(doc, Document)
    assert (doc.lines["/x"], doc.lines["/a/b/c"], doc.lines["/d/0"], doc.lines["/d/1"]) == (1, 2, 3, 4)
    assert doc.problem("/d/1", "m", "r").line == 4
    assert doc.problem("/a/b/missing/deeper", "m", "r").line == 2  # falls back to /a/b
    assert doc.problem("/zzz", "m", "r").line == 1  # the root


# --- YAML syntax errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ptr", "line"),
    [
        pytest.param("a: 1\nb: [\n", "/b", 3, id="unclosed-bracket-at-end"),
        pytest.param("{a: 1\n", "/a", 2, id="unclosed-brace"),
        pytest.param(
            "paths:\n  /x:\n    post:\n      operationId: a\n     tags: [x]\n",
            "/paths/~1x/post/operationId",
            5,
            id="bad-indentation",
        ),
        pytest.param("a:\n  b:\n    c: 1\n  d: 2\n e: 3\n", "/a/d", 5, id="dedent-after-nested"),
        pytest.param(
            "tags:\n  - name: a\n  - name: b\n    x: [1\n  - name: c\n", "/tags/1/x/0", 5, id="in-sequence-of-maps"
        ),
        pytest.param("a:\n  - [1, 2]\n  - [3, 4\n", "/a/1/1", 4, id="sequence-of-sequences"),
        pytest.param("a/b:\n  c~d: {x: 1\n", "/a~1b/c~0d/x", 3, id="escaped-keys"),
        pytest.param('a:\n  b: "oops\n  c: 1\n', "/a/b", 4, id="unclosed-quote"),
        pytest.param("a: &x 1\nb: *y\n", "/b", 2, id="undefined-alias"),
        pytest.param("a:\n\tb: 1\n", "/a", 2, id="tab-indentation"),
    ],
)
def test_yaml_syntax_error_names_the_last_key_read_and_the_line(tmp_path: Path, text: str, ptr: str, line: int) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    problem = load(path, "doc.yaml")
    assert isinstance(problem, Problem), problem
    assert (problem.file, problem.pointer, problem.line, problem.rule) == ("doc.yaml", ptr, line, "yaml")
    assert problem.message.startswith("YAML syntax error")


def test_yaml_syntax_error_in_the_spec_is_reported_by_read(tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    shutil.copytree(TINY, folder)
    text = (folder / "openapi.yaml").read_text(encoding="utf-8")
    (folder / "openapi.yaml").write_text(
        text.replace("tags: [{name: images}]", "tags: [{name: images}"), encoding="utf-8"
    )
    with pytest.raises(SpecError) as caught:
        spec.read(folder / "openapi.yaml")
    [problem] = caught.value.problems
    assert (problem.file, problem.pointer, problem.rule) == ("spec/openapi.yaml", "/tags/0/name", "yaml")
    assert problem.line is not None and problem.line >= 4


# --- duplicate keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ptr", "line"),
    [
        pytest.param("a: 1\nb: 2\na: 3\n", "/a", 3, id="top-level"),
        pytest.param("x:\n  y:\n    n: 1\n    m: 2\n    n: 3\n", "/x/y/n", 5, id="nested"),
        pytest.param("s:\n  - {k: 1, k: 2}\n", "/s/0/k", 2, id="in-a-flow-mapping-in-a-sequence"),
        pytest.param("paths:\n  /a/b: {}\n  /a/b: {}\n", "/paths/~1a~1b", 3, id="escaped"),
    ],
)
def test_duplicate_yaml_key_is_a_problem_at_the_second_occurrence(
    tmp_path: Path, text: str, ptr: str, line: int
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    problem = load(path, "doc.yaml")
    assert isinstance(problem, Problem), problem
    assert (problem.pointer, problem.line, problem.rule) == (ptr, line, "yaml")
    assert "duplicate key" in problem.message


def test_same_key_in_different_mappings_is_not_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text("a: {n: 1}\nb: {n: 2}\nc: [{n: 1}, {n: 2}]\n", encoding="utf-8")
    doc = load(path, "doc.yaml")
    assert isinstance(doc, Document)
    assert doc.data == {"a": {"n": 1}, "b": {"n": 2}, "c": [{"n": 1}, {"n": 2}]}


# --- other files: JSON, missing, unreadable -----------------------------------------------------------


def test_json_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"a": {"b": [1, 2]}}', encoding="utf-8")
    doc = load(path, "doc.json")
    assert isinstance(doc, Document)
    assert doc.data == {"a": {"b": [1, 2]}}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param('{"a": 1,\n "b": 2,\n}\n', 3, id="trailing-comma"),
        pytest.param('{"a": 1\n', 2, id="unclosed"),
        pytest.param("{\n\n 'a': 1}\n", 3, id="single-quotes"),
    ],
)
def test_json_syntax_error_is_a_problem_with_its_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "doc.json"
    path.write_text(text, encoding="utf-8")
    problem = load(path, "doc.json")
    assert isinstance(problem, Problem), problem
    assert (problem.file, problem.rule, problem.line) == ("doc.json", "json", line)
    assert problem.message.startswith("JSON syntax error")


def test_duplicate_json_key_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"a": 1,\n "a": 2}\n', encoding="utf-8")
    problem = load(path, "doc.json")
    assert isinstance(problem, Problem), problem
    assert problem.rule == "json"
    assert "duplicate key 'a'" in problem.message


def test_duplicate_json_key_names_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text('{"x": {"a": 1,\n "a": 2}}\n', encoding="utf-8")
    problem = load(path, "doc.json")
    assert isinstance(problem, Problem), problem
    assert (problem.pointer, problem.line) == ("/x/a", 2)


def test_json_catalog_with_a_syntax_error_is_reported_by_read(tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    shutil.copytree(TINY, folder)
    api = (folder / "openapi.yaml").read_text(encoding="utf-8")
    (folder / "openapi.yaml").write_text(
        api.replace("{models: models.yaml}", "{models: models.json}"), encoding="utf-8"
    )
    (folder / "models.json").write_text('{"version": 1,\n "models": {\n}}}\n', encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        spec.read(folder / "openapi.yaml")
    [problem] = caught.value.problems
    assert (problem.file, problem.rule, problem.line) == ("spec/models.json", "json", 3)
    assert str(problem).startswith("spec/models.json#/ (line 3): JSON syntax error")


def test_missing_and_unreadable_files_are_problems(tmp_path: Path) -> None:
    missing = load(tmp_path / "nope.yaml", "nope.yaml")
    assert missing == Problem("nope.yaml", "", "file not found", "load")
    binary = tmp_path / "bad.yaml"
    binary.write_bytes(b"a: \xff\xfe\n")
    problem = load(binary, "bad.yaml")
    assert isinstance(problem, Problem)
    assert (problem.rule, problem.pointer) == ("load", "")
    assert problem.message.startswith("cannot read the file")


def test_a_document_that_is_not_a_mapping_is_a_problem(tmp_path: Path) -> None:
    for text in ("", "- a\n- b\n", "just text\n"):
        (tmp_path / "openapi.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(SpecError) as caught:
            spec.read(tmp_path / "openapi.yaml")
        [problem] = caught.value.problems
        assert (problem.pointer, problem.rule) == ("", "openapi"), text
