"""Who may import whom (ARCHITECTURE.md): nothing imports upward, and the kit uses only the client's public modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute module a file imports (at any depth, lazy imports included), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)]
            # ``from imagewire_client import _errors`` names a module too
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _offences(folder: Path, allowed: object) -> list[str]:
    assert callable(allowed)
    return [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in sorted(folder.rglob("*.py"))
        for line, module in _imports(path)
        if not allowed(module)
    ]


def test_the_generator_imports_nothing_of_the_kit() -> None:
    def allowed(module: str) -> bool:
        return not module.startswith("imagewire") or module.startswith(("imagewire.generator", "imagewire_client"))

    assert _offences(ROOT / "generator", allowed) == []


def test_the_client_runtime_imports_nothing_of_this_repository() -> None:
    def allowed(module: str) -> bool:
        return module.split(".")[0] not in {"imagewire", "imagewire_client", "generator"}

    assert _offences(ROOT / "generator" / "runtime", allowed) == []


@pytest.mark.parametrize("folder", ["imagewire", "scripts"])
def test_the_kit_imports_only_the_clients_public_modules(folder: str) -> None:
    def allowed(module: str) -> bool:
        parts = module.split(".")
        return parts[0] != "imagewire_client" or not any(part.startswith("_") for part in parts[1:])

    base = ROOT / folder
    # the generator is its own layer (links inside imagewire/); a benchmark may time a private function in place
    exempt = ("imagewire/generator", "imagewire/spec", "scripts/bench_checks.py")
    offences = [o for o in _offences(base, allowed) if not o.startswith(exempt)]
    assert offences == []


def test_a_planted_upward_import_is_found(tmp_path: Path) -> None:
    planted = tmp_path / "m.py"
    planted.write_text("def f():\n    from imagewire.drift.surface import from_openapi\n", encoding="utf-8")
    assert (2, "imagewire.drift.surface") in _imports(planted)
