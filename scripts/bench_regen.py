"""Regeneration benchmark: full, unchanged (no-op) and drift check, beside the bare engine; upstream drift.

Each measurement is a fresh ``imagewire`` process (interpreter start and imports included, as a user
sees it), repeated; the table shows the median of the runs and the floor each must meet.

    python scripts/bench_regen.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - start


def _official() -> Path | None:
    """OpenAI's official document in shared/upstream beside (or above) the checkout, read in place."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "upstream" / "openai-openapi" / "openapi.yaml"
        if candidate.is_file():
            return candidate
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    imagewire = str(BIN / "imagewire")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    rows: list[tuple[str, list[float], float | None]] = []
    with tempfile.TemporaryDirectory(prefix="imagewire-bench-") as tmp:
        out = Path(tmp) / "generated_client"
        subprocess.run(
            [imagewire, "regen", "--out", str(out)], check=True, capture_output=True, cwd=ROOT
        )  # warm caches
        full = [timed([imagewire, "regen", "--force", "--out", str(out)]) for _ in range(runs)]
        noop = [timed([imagewire, "regen", "--out", str(out)]) for _ in range(runs)]
        check = [timed([imagewire, "regen", "--check", "--out", str(out)]) for _ in range(runs)]
        upstream = [timed([imagewire, "drift"]) for _ in range(runs)]
        official = _official()
        upstream_doc = (
            [timed([imagewire, "drift", "--openapi", str(official)]) for _ in range(runs)] if official else []
        )
        bare_out = Path(tmp) / "bare"
        bare_cmd = [str(BIN / "openapi-python-client"), "generate", "--path", str(SPEC), "--meta", "none"]
        bare_cmd += ["--output-path", str(bare_out), "--overwrite"]
        bare = []
        for _ in range(runs):
            shutil.rmtree(bare_out, ignore_errors=True)
            bare.append(timed(bare_cmd, env))
    rows = [
        ("full regeneration (imagewire regen --force)", full, 3.0),
        ("unchanged inputs (imagewire regen)", noop, 0.3),
        ("drift check (imagewire regen --check)", check, 5.0),
        ("bare openapi-python-client generate", bare, None),
        ("upstream drift (imagewire drift)", upstream, 2.0),
    ]
    if upstream_doc:
        rows.append(("drift with the official document (--openapi)", upstream_doc, 2.0))
    else:
        print("shared/upstream/openai-openapi/openapi.yaml is not beside the checkout: drift --openapi not measured")
    print(f"{'measurement':<46} {'median s':>9} {'min s':>7} {'max s':>7} {'floor s':>8}  verdict")
    failed = False
    for name, samples, floor in rows:
        median = statistics.median(samples)
        verdict = "-" if floor is None else ("ok" if median <= floor else "TOO SLOW")
        failed |= verdict == "TOO SLOW"
        floor_text = "-" if floor is None else f"{floor:.1f}"
        print(f"{name:<46} {median:>9.3f} {min(samples):>7.3f} {max(samples):>7.3f} {floor_text:>8}  {verdict}")
    print(f"\n{runs} runs each, fresh process per run; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
