"""Benchmark: spec validation throughput over the recorded responses (tests/recordings).

The spec is compiled once (not timed: one openapi-core ``OpenAPI`` object), then every recorded response of
an Images API operation is validated, the set repeated to about 5,000 responses. This is the openapi-core
path of ``imagewire.check.validate``: a JSON body goes through openapi-core (the response chosen by status, the
media type among those declared for it, the schema), its schema validators compiled once per schema and
reused; an event stream is validated event by event with the kit's compiled event validators (openapi-core
reads no SSE); then extra-key naming and image format sniffing. Prints responses per second, how many went
each way, and that no validator was compiled during the timed run; exits 1 below the floor (2,000/s).
``--full`` also times request (openapi-core) + response validation and the full verdict (with the replay
through the generated client), for information.

    .venv/bin/python scripts/bench_validate.py [--count 5000] [--floor 2000] [--full] [--recordings DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from imagewire.check.validate import validator
from imagewire.record.recordings import discover, load

ROOT = Path(__file__).resolve().parents[1]


FLOOR = 2000.0


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="responses to validate (default 5000)")
    parser.add_argument("--floor", type=float, default=FLOOR, help="minimum responses per second (default 2000)")
    parser.add_argument("--recordings", type=Path, default=ROOT / "tests" / "recordings")
    parser.add_argument("--full", action="store_true", help="also time request+response validation and full verdicts")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    spec = validator()
    compiled = time.perf_counter() - started
    interactions = [i for path in discover(args.recordings) for i in load(path).interactions]
    judged = [(i, spec.operation_for(i.method, i.url)) for i in interactions]
    work = [(i, spec.request_info(i, op)[0]) for i, op in judged if op is not None]
    if not work:
        print(f"no recorded Images API responses under {args.recordings}", file=sys.stderr)
        return 2
    batch = (work * (args.count // len(work) + 1))[: args.count]
    findings = 0
    kinds: dict[str, int] = {}
    for item, request in work:  # warm-up: first-use costs (imports, caches) are not the steady state
        spec.validate_response(item, request)
    warm = spec.compiled_schemas

    started = time.perf_counter()
    for item, request in batch:
        validation = spec.validate_response(item, request)
        findings += len(validation.findings)
        kinds[validation.body_kind] = kinds.get(validation.body_kind, 0) + 1
    elapsed = time.perf_counter() - started
    rate = len(batch) / elapsed
    print(
        f"spec compiled once in {compiled * 1000:.0f} ms (openapi-core {_version('openapi-core')}, one OpenAPI "
        f"object); {len(work)} recorded responses repeated to {len(batch)}"
    )
    print(
        f"response validation: {rate:,.0f} responses/s ({elapsed * 1e6 / len(batch):.0f} µs each, {findings} findings)"
    )
    others = len(batch) - kinds.get("json", 0) - kinds.get("sse", 0)
    print(
        f"  {kinds.get('json', 0)} JSON bodies through openapi-core (status -> response, content type -> media type, "
        f"schema), {kinds.get('sse', 0)} event streams event by event (the kit's compiled event validators), "
        f"{others} without a JSON body (empty, not JSON)"
    )
    print(
        f"  openapi-core schema validators: {spec.compiled_schemas} compiled, "
        f"{spec.compiled_schemas - warm} of them during the timed run (each is reused)"
    )

    if args.full:
        from imagewire.check.verdict import Judge

        started = time.perf_counter()
        for item, _ in batch:
            spec.validate(item)
        elapsed_full = time.perf_counter() - started
        print(f"request (openapi-core) + response validation: {len(batch) / elapsed_full:,.0f} interactions/s")
        judge = Judge(spec)
        sample = batch[: min(len(batch), 1000)]
        started = time.perf_counter()
        for item, _ in sample:
            judge.judge(item)
        elapsed_judge = time.perf_counter() - started
        print(
            f"full verdicts (validation + replay through the client): {len(sample) / elapsed_judge:,.0f} interactions/s"
        )

    if rate < args.floor:
        print(f"FAIL: {rate:,.0f} responses/s is below the floor of {args.floor:,.0f}/s", file=sys.stderr)
        return 1
    print(f"ok: above the floor of {args.floor:,.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
