"""Spec checks beyond the broken-spec folders: fixture specs are valid, malformed catalogs are reported
(never a crash), and ``extends`` is honoured by the catalog cross-checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imagewire.generator import spec
from imagewire.generator.problems import SpecError

SPECS = Path(__file__).resolve().parents[1] / "specs"
TINY = SPECS / "tiny"


@pytest.mark.parametrize("name", sorted(p.parent.name for p in SPECS.glob("*/openapi.yaml")))
def test_fixture_specs_pass_every_check(name: str) -> None:
    checked = spec.read(SPECS / name / "openapi.yaml")
    assert checked.operations
    for op in checked.operations.values():
        assert set(spec.ERROR_STATUSES) | {"200"} <= set(op.data["responses"]), op.key
        assert len(op.data["tags"]) == 1


def _tiny_with(
    tmp_path: Path, catalog_edit: str | None = None, append: str = "", api: tuple[str, str] | None = None
) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    catalog = (folder / "models.yaml").read_text(encoding="utf-8")
    if catalog_edit is not None:
        old, new = catalog_edit.split(" => ")
        assert old in catalog, old
        catalog = catalog.replace(old, new)
    (folder / "models.yaml").write_text(catalog + append, encoding="utf-8")
    if api is not None:
        text = (folder / "openapi.yaml").read_text(encoding="utf-8")
        assert api[0] in text
        (folder / "openapi.yaml").write_text(text.replace(api[0], api[1]), encoding="utf-8")
    return folder / "openapi.yaml"


@pytest.mark.parametrize(
    ("edit", "append", "where"),
    [
        pytest.param(
            "n: {min: 1, max: 4} => n:", "", "/models/tiny-1/operations/generations/params/n", id="null-param"
        ),
        pytest.param(None, "  tiny-2:\n", "/models/tiny-2", id="null-model"),
        pytest.param(
            'max: "2:1"} => max: "2:0"}',
            "",
            "/models/tiny-1/operations/generations/params/size/rule/aspect",
            id="zero-ratio",
        ),
        pytest.param("max: 4} => max: [4]}", "", "/models/tiny-1/operations/generations/params/n", id="list-bound"),
        pytest.param(
            None,
            '    operations:\n      generations:\n        params:\n          size: {rule: {aspect: {min: "3:1"}}}\n',
            "/models/tiny-0/operations/generations/params/size",
            id="partial-aspect-override",
        ),
    ],
)
def test_a_malformed_catalog_is_reported_never_a_crash(
    tmp_path: Path, edit: str | None, append: str, where: str
) -> None:
    """These crashed (TypeError, KeyError, ZeroDivisionError) in the cross-checks with the placeholder
    catalog schema; whatever rejects them, the answer must be a problem at (or under) ``where``."""
    with pytest.raises(SpecError) as caught:
        spec.read(_tiny_with(tmp_path, edit, append))
    pointers = [p.pointer for p in caught.value.problems if p.file.endswith("models.yaml")]
    assert any(ptr == where or ptr.startswith(where + "/") for ptr in pointers), caught.value


def test_catalog_problems_are_reported_with_openapi_problems(tmp_path: Path) -> None:
    path = _tiny_with(
        tmp_path,
        "extends: tiny-1 => extends: tiny-7",
        api=("        n: {type: integer}\n", "        n: {type: integer, default: 1}\n"),
    )
    with pytest.raises(SpecError) as caught:
        spec.read(path)
    found = {(p.file, p.rule) for p in caught.value.problems}
    assert found == {("tiny/models.yaml", "catalog:model-ref"), ("tiny/openapi.yaml", "house:request-default")}


def test_a_model_may_override_what_it_inherits(tmp_path: Path) -> None:
    """Overriding a whole inherited param (with a valid value) is fine."""
    append = (
        "    operations:\n      generations:\n        params:\n          n: {min: 1, max: 1}\n"
        "          size: {values: [256x256]}\n        defaults: {n: 1, size: 256x256}\n"
    )
    spec.read(_tiny_with(tmp_path, append=append))


def test_defaults_may_name_inherited_params(tmp_path: Path) -> None:
    """A model that extends another and sets only ``defaults`` names params it inherits."""
    append = "    operations:\n      generations:\n        defaults: {n: 2}\n"
    spec.read(_tiny_with(tmp_path, append=append))


def test_an_inherited_value_outside_the_spec_enum_is_reported_where_it_is_written(tmp_path: Path) -> None:
    append = "    operations:\n      generations:\n        params:\n          size: {values: [auto]}\n"
    with pytest.raises(SpecError) as caught:
        spec.read(_tiny_with(tmp_path, append=append))
    [problem] = caught.value.problems
    assert (problem.pointer, problem.rule) == (
        "/models/tiny-0/operations/generations/params/size/values/0",
        "catalog:enum",
    )
