"""Rebuild the golden trees: ``tests/golden/<name>/`` from every fixture spec ``tests/specs/<name>/openapi.yaml``.

    python scripts/regen_golden.py            # every fixture spec
    python scripts/regen_golden.py tiny       # only the named ones

Each tree is built with :func:`imagewire.generator.regen.build` (what ``imagewire regen`` writes) as a first build,
so its version and changelog are those of a first release, keeping only the files of the generated tree (no tool
caches), and replaces the old golden tree in one rename. Golden
trees whose fixture spec is gone are removed. Review the diff (``git diff tests/golden``) before committing:
a golden tree is the reviewed record of what the generator emits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from imagewire.generator import regen, write
from imagewire.generator.engine import EngineError
from imagewire.generator.problems import SpecError

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "tests" / "specs"
GOLDEN = ROOT / "tests" / "golden"


def fixture_specs() -> dict[str, Path]:
    """Fixture name -> its root OpenAPI document."""
    return {spec.parent.name: spec for spec in sorted(SPECS.glob("*/openapi.yaml"))}


def rebuild(name: str, spec: Path, golden_root: Path = GOLDEN) -> int:
    """Replace ``golden_root/name`` with a fresh build of ``spec``; returns the file count."""
    golden_root.mkdir(parents=True, exist_ok=True)
    target = golden_root / name
    with tempfile.TemporaryDirectory(prefix=f".{name}.golden-", dir=golden_root) as tmp:
        built = Path(tmp) / "built"
        # a first build (no previous tree): version and changelog stay those of a first release
        regen.build(regen.Paths(spec=spec, out=Path(tmp) / "none"), built)
        clean = Path(tmp) / "clean"
        files = list(write.tree_files(built))
        for rel in files:
            (clean / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(built / rel, clean / rel)
        old = Path(tmp) / "old"
        if target.exists():
            os.rename(target, old)
        os.rename(clean, target)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="fixture specs to rebuild (default: all)")
    args = parser.parse_args(argv)
    specs = fixture_specs()
    unknown = sorted(set(args.names) - set(specs))
    if unknown:
        print(f"no fixture spec named {', '.join(unknown)} in {SPECS}; known: {', '.join(specs)}", file=sys.stderr)
        return 2
    status = 0
    for name in args.names or specs:
        try:
            count = rebuild(name, specs[name])
        except (SpecError, EngineError) as err:
            print(f"{name}: not rebuilt:\n{err}", file=sys.stderr)
            status = 1
            continue
        print(f"{name}: {count} files -> {(GOLDEN / name).relative_to(ROOT)}")
    if not args.names and GOLDEN.is_dir():
        for stale in sorted(p for p in GOLDEN.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if stale.name not in specs:
                shutil.rmtree(stale)
                print(f"{stale.name}: removed (no fixture spec)")
    return status


if __name__ == "__main__":
    sys.exit(main())
