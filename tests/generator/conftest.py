"""Shared fixtures for the generator tests: a pristine generated tree (built once per session from the
``tiny`` fixture spec), per-test copies of it, and helpers to prove a tree was not touched."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from imagewire.generator import regen

TESTS = Path(__file__).resolve().parents[1]
SPECS = TESTS / "specs"
TINY = SPECS / "tiny" / "openapi.yaml"


def snapshot_tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (tool caches and hidden files included): file -> sha256, folder -> "dir"."""
    entries: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        entries[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return entries


def leftovers_beside(target: Path) -> list[str]:
    """Scratch (``.<name>.tmp-*``) and set-aside (``.<name>.old-*``) folders a regeneration may leave."""
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}."))


@pytest.fixture(scope="session")
def _pristine_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pristine") / "generated_client"


@pytest.fixture
def pristine(_pristine_dir: Path) -> Path:
    """A tree generated from tests/specs/tiny, shared by the session: copy it (``tree``), never modify it.

    Brought up to date before each test (a no-op taking milliseconds when nothing changed), so an edit of
    the generator or its templates while the session runs does not make the tests compare stale trees.
    """
    result = regen.regen(regen.Paths(spec=TINY, out=_pristine_dir))
    assert result.status in ("written", "unchanged"), result
    return _pristine_dir


@pytest.fixture
def tree(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the pristine tree, in a folder of its own (so leftovers beside it are visible)."""
    target = tmp_path / "work" / "generated_client"
    shutil.copytree(pristine, target, symlinks=True)
    return target


@pytest.fixture
def tiny_paths(tree: Path) -> regen.Paths:
    return regen.Paths(spec=TINY, out=tree)


@pytest.fixture
def snapshot() -> Callable[[Path], dict[str, str]]:
    return snapshot_tree


@pytest.fixture
def leftovers() -> Callable[[Path], list[str]]:
    return leftovers_beside
