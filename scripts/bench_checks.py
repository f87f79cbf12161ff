"""Range checks compare bounds and never build the range: time and memory of refusing ``seed=-1`` for 0..2**32-1.

Both pre-send checks are measured in this fresh process, as the client runs them before a request: the
spec's own schema constraints (``check_schema``, ``minimum``/``maximum`` of the field) and a model's range
in the catalog (``Param(min=..., max=...)``). Each is called 200 times; the median and the worst call are
reported, and the peak of Python allocations (tracemalloc) over one call. Floors: under 10 ms and 10 MB.
``tests/cli/test_regen_user_flow.py`` runs the same refusal through a regenerated ``Client``.

    .venv/bin/python scripts/bench_checks.py
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

from imagewire_client._catalog_types import Param
from imagewire_client._checks import CheckError, _check_value, check_schema

WIDE = 2**32 - 1
FLOOR_SECONDS = 0.010
FLOOR_BYTES = 10 * 1024 * 1024
ROUNDS = 200


def _schema() -> None:
    table = {"generations": {"json": {"seed": ({"type": "integer", "minimum": 0, "maximum": WIDE},)}}}
    check_schema("generations", "json", {"seed": -1}, schema=table)


def _catalog() -> None:
    _check_value("seed", -1, Param(min=0, max=WIDE), "gpt-image-3")


def _measure(call: Callable[[], None]) -> tuple[str, float, float, int]:
    def refused() -> str:
        try:
            call()
        except CheckError as err:
            return str(err)
        raise SystemExit(f"{call.__name__}: seed=-1 was not refused")

    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        message = refused()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    refused()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return message, statistics.median(times), max(times), peak


def main() -> int:
    missed = False
    print("| check | message | median | worst | peak allocated | floor |")
    print("|---|---|---|---|---|---|")
    for name, call in (("spec schema (minimum/maximum)", _schema), ("catalog range (Param min/max)", _catalog)):
        message, median, worst, peak = _measure(call)
        ok = worst < FLOOR_SECONDS and peak < FLOOR_BYTES and "4294967295" in message
        missed |= not ok
        print(
            f"| {name} | {message} | {median * 1e6:.1f} µs | {worst * 1e6:.1f} µs | {peak / 1024:.1f} KiB "
            f"| < 10 ms, < 10 MB: {'ok' if ok else 'MISSED'} |"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
