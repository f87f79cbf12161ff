"""Every spec under tests/broken_specs/ is refused: exit 1, every expected problem on stderr, nothing written.

Each case folder is a copy of tests/specs/tiny with one defect (``several-defects`` has several, in both
files) and an ``expected.txt``: lines that must all appear in the stderr of ``imagewire regen``. A case
that exposes a generator bug carries an ``xfail.txt`` whose text is the reason (strict: the marker must
go once the bug is fixed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from imagewire import cli

BROKEN = Path(__file__).resolve().parents[1] / "broken_specs"
CASES = sorted(p for p in BROKEN.iterdir() if p.is_dir())


def _expected(case: Path) -> list[str]:
    return [line for line in (case / "expected.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


def _param(case: Path) -> object:
    reason = case / "xfail.txt"
    marks = (
        [pytest.mark.xfail(strict=True, reason=reason.read_text(encoding="utf-8").strip())] if reason.exists() else []
    )
    return pytest.param(case, id=case.name, marks=marks)


def test_the_case_folders_are_complete() -> None:
    assert len(CASES) >= 12, CASES
    for case in CASES:
        assert (case / "openapi.yaml").is_file(), case
        expected = _expected(case)
        # the brief for a case: at least where (file#pointer) and by which rule
        assert any(re.search(r"\.(yaml|json)#/", line) for line in expected), f"{case.name}: no file#pointer line"
        assert any(re.search(r"\[[a-z:-]+\]", line) for line in expected), f"{case.name}: no [rule] line"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_broken_spec_is_refused_and_nothing_is_written(
    case: Path,
    tree: Path,
    snapshot: Callable[[Path], dict[str, str]],
    leftovers: Callable[[Path], list[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = snapshot(tree)

    code = cli.run("regen", ["--spec", str(case / "openapi.yaml"), "--out", str(tree)])

    out, err = capsys.readouterr()
    assert code == 1, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    missing = [line for line in _expected(case) if line not in err]
    assert not missing, "missing from stderr:\n  " + "\n  ".join(missing) + f"\n--- stderr:\n{err}"
    assert f"nothing was written; {tree} is unchanged" in err
    assert "Traceback" not in err
    assert out == ""
    assert snapshot(tree) == before, "the generated tree changed"
    assert leftovers(tree) == []


def test_several_defects_are_reported_in_one_run(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    """One run lists problems of both files and of every kind of check, not the first one alone."""
    code = cli.run("regen", ["--spec", str(BROKEN / "several-defects" / "openapi.yaml"), "--out", str(tree)])
    err = capsys.readouterr().err
    assert code == 1
    problems = [line.strip() for line in err.splitlines() if line.startswith("  ")]
    files = {line.split("#", 1)[0].rsplit("/", 1)[-1] for line in problems}
    rules = {line.rsplit("[", 1)[-1].rstrip("]") for line in problems}
    assert files == {"openapi.yaml", "models.yaml"}, problems
    assert {"ref", "house:errors", "house:request-default", "catalog:model-ref", "catalog:enum"} <= rules, rules
    assert err.startswith(f"{len(problems)} problems in the spec:")


def test_the_cause_comes_first_and_its_consequences_fold(capsys: pytest.CaptureFixture[str], tree: Path) -> None:
    """A request body whose $ref dangles hides every field the catalog names: one line, then a count."""
    case = BROKEN / "dangling-body-ref" / "openapi.yaml"
    assert cli.run("regen", ["--spec", str(case), "--out", str(tree)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "1 problem in the spec, and 2 more that follow from it:"
    assert lines[1].endswith("$ref '#/components/schemas/CreateImageBody' does not resolve [ref]")
    assert lines[2] == "      and 2 more that follow from it (--verbose lists them)"
    assert cli.run("regen", ["--spec", str(case), "--out", str(tree), "--verbose"]) == 1
    verbose = capsys.readouterr().err.splitlines()
    assert verbose[1] == lines[1]
    assert [line.split("#", 1)[1].split(" ", 1)[0] for line in verbose[2:4]] == [
        "/models/tiny-1/operations/generations/params/n",
        "/models/tiny-1/operations/generations/params/size",
    ]
    assert all(line.startswith("      follows: ") and line.endswith("[catalog:param]") for line in verbose[2:4])


def test_references_to_one_missing_target_fold_under_the_first(tmp_path: Path) -> None:
    from imagewire.generator.problems import Problem, SpecError

    first = Problem("openapi.yaml", "/a/$ref", "$ref '#/x' does not resolve", "ref")
    later = Problem("openapi.yaml", "/b/$ref", "$ref '#/x' does not resolve", "ref").because(first)
    plain = Problem("models.yaml", "/models/m", "something else", "catalog:param")
    err = SpecError([plain, later, first])
    assert list(err.roots) == [first, plain]  # the cause first, though models.yaml sorts before openapi.yaml
    assert list(err.problems) == [first, later, plain]
    assert "and 1 more that follows from it" in str(err)


def test_what_a_broken_extends_loses_follows_from_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    case = tmp_path / "spec"
    shutil.copytree(BROKEN / "unknown-extends", case)
    models = case / "models.yaml"
    models.write_text(
        models.read_text(encoding="utf-8") + "    operations:\n      generations:\n        defaults: {n: 2}\n",
        encoding="utf-8",
    )
    assert cli.run("regen", ["--spec", str(case / "openapi.yaml"), "--out", str(tmp_path / "out"), "--verbose"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "1 problem in the spec, and 1 more that follows from it:"
    assert lines[1].endswith("unknown model 'tiny-9' [catalog:model-ref]")
    assert lines[2].startswith("      follows: ") and "default for 'n', which is not a param" in lines[2]
