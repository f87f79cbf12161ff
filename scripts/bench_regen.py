"""Regeneration benchmark: full, unchanged (no-op) and drift check, beside the bare engine; upstream drift.

Each measurement is a fresh ``imagewire`` process (interpreter start and imports included, as a user
sees it), repeated; the table shows the median of the runs and the floor each must meet. The full
regeneration runs on a copy of the spec that gains and loses a request field between runs, so every run
writes a change report (spec surface and griffe's API check) and bumps the version; its floor is 1.5x the
bare openapi-python-client generate of the same spec.

    python scripts/bench_regen.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
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
#: a request field added to (and removed from) the copy of the spec between full runs
SEED = "        seed:\n          type: [integer, 'null']\n          minimum: 0\n          maximum: 4294967295\n"
#: floors: the full regeneration against the bare engine, and seconds
FULL_RATIO, UNCHANGED_S, DRIFT_S = 1.5, 0.15, 2.0


#: CPU seconds (user + system, the process and what it waited for) of each timed run, by the list it went to
CPU: dict[int, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    cmd: list[str], env: dict[str, str] | None = None, expect: str | None = None, into: list[float] | None = None
) -> float:
    """Wall seconds of one run of ``cmd``; its CPU seconds go to ``CPU[id(into)]``."""
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT, text=True)
    elapsed = time.perf_counter() - start
    if into is not None:
        CPU.setdefault(id(into), []).append(_children_cpu() - cpu)
    if expect is not None and expect not in done.stdout:
        raise SystemExit(f"{' '.join(cmd)}: expected {expect!r} in its output, got:\n{done.stdout}")
    return elapsed


def _with_seed(text: str) -> str:
    at = text.index("        user:\n", text.index("    CreateImageRequest:\n"))
    return text[:at] + SEED + text[at:]


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
        spec_copy = Path(tmp) / "spec"
        shutil.copytree(SPEC.parent, spec_copy)
        plain = (spec_copy / "openapi.yaml").read_text(encoding="utf-8")
        seeded = _with_seed(plain)
        spec_args = ["--spec", str(spec_copy), "--out", str(out)]
        subprocess.run([imagewire, "regen", *spec_args], check=True, capture_output=True, cwd=ROOT)  # warm caches
        bare_out = Path(tmp) / "bare"
        bare_cmd = [str(BIN / "openapi-python-client"), "generate", "--path", str(SPEC), "--meta", "none"]
        bare_cmd += ["--output-path", str(bare_out), "--overwrite"]
        full: list[float] = []
        bare: list[float] = []
        for run in range(runs):  # interleaved; each run adds or removes the field: a report and a bump every time
            shutil.rmtree(bare_out, ignore_errors=True)
            bare.append(timed(bare_cmd, env, into=bare))
            (spec_copy / "openapi.yaml").write_text(seeded if run % 2 == 0 else plain, encoding="utf-8")
            full.append(
                timed([imagewire, "regen", *spec_args], expect="request field generations.json.seed", into=full)
            )
        noop = [timed([imagewire, "regen", *spec_args], expect="unchanged") for _ in range(runs)]
        out = Path(tmp) / "project"
        subprocess.run([imagewire, "regen", "--out", str(out)], check=True, capture_output=True, cwd=ROOT)
        check = [timed([imagewire, "regen", "--check", "--out", str(out)]) for _ in range(runs)]
        upstream = [timed([imagewire, "drift"]) for _ in range(runs)]
        official = _official()
        upstream_doc = (
            [timed([imagewire, "drift", "--openapi", str(official)]) for _ in range(runs)] if official else []
        )
    # the full regeneration is judged on CPU time against the bare engine's: on a shared machine wall time
    # also counts the waits for a core (both are printed)
    bare_median = statistics.median(bare)
    bare_cpu, full_cpu = statistics.median(CPU[id(bare)]), statistics.median(CPU[id(full)])
    rows = [
        ("full regeneration with change report", full, None),
        ("bare openapi-python-client generate", bare, None),
        ("unchanged inputs (imagewire regen)", noop, UNCHANGED_S),
        ("drift check (imagewire regen --check)", check, 5.0),
        ("upstream drift (imagewire drift)", upstream, DRIFT_S),
    ]
    if upstream_doc:
        rows.append(("drift with the official document (--openapi)", upstream_doc, DRIFT_S))
    else:
        print("shared/upstream/openai-openapi/openapi.yaml is not beside the checkout: drift --openapi not measured")
    print(f"{'measurement':<52} {'median s':>9} {'min s':>7} {'max s':>7} {'floor s':>8}  verdict")
    failed = False
    for name, samples, floor in rows:
        median = statistics.median(samples)
        verdict = "-" if floor is None else ("ok" if median <= floor else "TOO SLOW")
        failed |= verdict == "TOO SLOW"
        floor_text = "-" if floor is None else f"{floor:.2f}"
        print(f"{name:<52} {median:>9.3f} {min(samples):>7.3f} {max(samples):>7.3f} {floor_text:>8}  {verdict}")
    ratio = full_cpu / bare_cpu
    verdict = "ok" if ratio <= FULL_RATIO else "TOO SLOW"
    failed |= verdict == "TOO SLOW"
    print(
        f"\nfull / bare, CPU time: {full_cpu:.3f} s / {bare_cpu:.3f} s = {ratio:.2f}x (floor {FULL_RATIO}x)  {verdict}"
        f"\nfull / bare, wall time: {statistics.median(full):.3f} s / {bare_median:.3f} s = "
        f"{statistics.median(full) / bare_median:.2f}x"
    )
    print(f"{runs} runs each, fresh process per run; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
