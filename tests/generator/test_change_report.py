"""The change report of a regeneration: spec surface changes, the client API through griffe, the version bump,
and the tree's version and changelog carried over so a rebuild of unchanged inputs changes nothing."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest

from imagewire.generator import changes, regen, write
from imagewire.generator.changes import Change, api_changes, bump, level_of, spec_changes

TINY = Path(__file__).resolve().parents[1] / "specs" / "tiny" / "openapi.yaml"


def test_versions_follow_semver() -> None:
    assert bump("0.1.0", "major") == "1.0.0"
    assert bump("1.4.2", "minor") == "1.5.0"
    assert bump("1.4.2", "patch") == "1.4.3"
    assert bump("1.4.2", "none") == "1.4.2"
    with pytest.raises(ValueError, match=r"MAJOR\.MINOR\.PATCH"):
        bump("1.4", "patch")
    assert level_of([Change("spec", "added", "x"), Change("api", "removed", "y", True)], True) == "major"
    assert level_of([Change("spec", "added", "x")], True) == "minor"
    assert (level_of([], True), level_of([], False)) == ("patch", "none")


def _field(**overrides: Any) -> dict[str, Any]:
    return {"type": "integer", "enum": None, "required": False, "bounds": {}, **overrides}


def _model(**overrides: Any) -> dict[str, Any]:
    op = {"params": {"n": {"min": 1, "max": 10}}, "rules": {}, "encodings": [], "other": {}}
    base = {"vendor": "openai", "status": "live", "retired_on": None, "replacement": [], "prompt_max_length": 100}
    return {**base, "operations": {"generations": op}, **overrides}


def _texts(found: list[Change]) -> list[tuple[str, bool]]:
    return [(f"{c.kind} {c.text}", c.breaking) for c in found]


def test_request_bounds_narrowed_are_breaking_and_widened_are_not() -> None:
    old = {"fields": {"generations.json.n": _field(bounds={"minimum": 1, "maximum": 10})}}
    narrowed = {"fields": {"generations.json.n": _field(bounds={"minimum": 1, "maximum": 4})}}
    widened = {"fields": {"generations.json.n": _field(bounds={"minimum": 0})}}
    assert _texts(spec_changes(old, narrowed)) == [("changed request field generations.json.n: maximum 10 -> 4", True)]
    assert _texts(spec_changes(old, widened)) == [
        ("changed request field generations.json.n: maximum 10 -> None", False),
        ("changed request field generations.json.n: minimum 1 -> 0", False),
    ]


def test_fields_and_values_added_and_removed() -> None:
    old = {
        "fields": {
            "response.created": _field(required=True),
            "generations.json.q": _field(type="string", enum=["a", "b"]),
        }
    }
    new = {
        "fields": {
            "generations.json.q": _field(type="string", enum=["a", "c"]),
            "generations.json.k": _field(required=True),
        }
    }
    assert _texts(spec_changes(old, new)) == [
        ("added request field generations.json.k (integer, required)", True),
        ("removed values b of request field generations.json.q", True),
        ("added values c of request field generations.json.q", False),
        ("removed response field response.created", True),
    ]


def test_model_lifecycle_params_and_rules() -> None:
    old = {"models": {"m": _model(), "gone": _model()}}
    new_model = copy.deepcopy(_model(status="retired", retired_on="2027-01-01", replacement=["m2"]))
    ops = new_model["operations"]["generations"]
    ops["params"]["seed"] = {}
    ops["params"]["n"] = {"min": 1, "max": 4}
    ops["rules"] = {"r1": {"check": "a", "text": "b"}}
    new = {"models": {"m": new_model, "m2": _model()}}
    assert _texts(spec_changes(old, new)) == [
        ("removed model gone", True),
        ("changed model m: live -> retired on 2027-01-01, replacement m2", True),
        ("changed model m generations: n max 10 -> 4", True),
        ("added model m generations: accepts seed", False),
        ("added model m generations: rule r1", True),
        ("added model m2 (live; generations)", False),
    ]
    reworded = copy.deepcopy(new)
    reworded["models"]["m"]["operations"]["generations"]["rules"]["r1"]["text"] = "c"
    assert _texts(spec_changes(new, reworded)) == [("changed model m generations: rule r1", False)]


def _package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    return package


INIT = "from ._impl import Api as Api\nfrom ._impl import Size as Size\n__all__ = ['Api', 'Size']\n"


def test_api_changes_come_from_griffe_and_literals_are_compared(tmp_path: Path) -> None:
    old = _package(
        tmp_path / "old",
        {
            "__init__.py": INIT,
            "_impl.py": "from typing import Literal\nSize = Literal['a', 'b']\n"
            "class Api:\n    def go(self, *, n: int = 1, q: str = '') -> None: ...\n"
            "def helper() -> None: ...\n",
            "extra.py": "def tool() -> None: ...\n",
        },
    )
    new = _package(
        tmp_path / "new",
        {
            "__init__.py": INIT,
            "_impl.py": "from typing import Literal\nSize = Literal['a', 'c']\n"
            "class Api:\n    def go(self, *, n: int = 1, seed: int = 0) -> None: ...\n",
        },
    )
    assert _texts(api_changes(old, new)) == [
        ("removed `pkg._impl.Api.go` parameter `q`: parameter was removed", True),
        ("changed `pkg._impl.Size` narrowed: b removed", True),
        ("removed module pkg.extra", True),
        ("added `pkg._impl.Api.go` keyword `seed`", False),
        ("changed `pkg._impl.Size` widened: c added", False),
    ]  # helper(), in a private module and not exported, is not part of the API


@pytest.fixture
def tiny(tmp_path: Path) -> regen.Paths:
    shutil.copytree(TINY.parent, tmp_path / "tiny")
    return regen.Paths(spec=tmp_path / "tiny" / "openapi.yaml", out=tmp_path / "out")


def _tree(root: Path) -> dict[str, bytes]:
    return {rel.as_posix(): (root / rel).read_bytes() for rel in write.tree_files(root)}


def test_a_first_build_then_unchanged_rebuilds_keep_version_and_changelog(tiny: regen.Paths) -> None:
    first = regen.regen(tiny)
    assert first.report is not None and (first.report.level, first.report.version) == ("first", "0.1.0")
    assert "## 0.1.0" in (tiny.out / changes.CHANGELOG_NAME).read_text(encoding="utf-8")
    before = _tree(tiny.out)
    forced = regen.regen(tiny, force=True)
    assert forced.report is not None and forced.report.level == "none"
    assert _tree(tiny.out) == before
    checked = regen.check(tiny)
    assert checked.status == "clean" and checked.report is not None and checked.report.level == "none"
    assert _tree(tiny.out) == before


def test_a_spec_change_bumps_stamps_and_prepends(tiny: regen.Paths) -> None:
    regen.regen(tiny)
    openapi = tiny.spec.read_text(encoding="utf-8")
    catalog = tiny.spec.parent / "models.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("title: Tiny 1", "title: Tiny One"), "utf-8")
    patch = regen.regen(tiny)
    assert patch.report is not None and (patch.report.level, patch.report.version) == ("patch", "0.1.1")
    assert '__version__ = "0.1.1"' in next(tiny.out.glob("*/_version.py")).read_text(encoding="utf-8")
    assert "0.1.1" not in (tiny.out / "pyproject.toml").read_text(encoding="utf-8")  # dynamic: no uv.lock churn
    text = (tiny.out / changes.CHANGELOG_NAME).read_text(encoding="utf-8")
    assert text.startswith("<!-- Code generated by imagewire") and text.index("## 0.1.1") < text.index("## 0.1.0")
    drifted = regen.check(tiny)  # the check of a tree that is current reports no bump
    assert drifted.status == "clean" and drifted.report is not None and drifted.report.level == "none"
    assert tiny.spec.read_text(encoding="utf-8") == openapi
