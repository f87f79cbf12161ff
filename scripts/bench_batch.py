"""Batch benchmark: ``imagewire batch`` against the reference provider, beside a plain openai SDK loop.

Everything runs on this machine: the reference provider (``imagewire serve``) in one process, each
contender in a fresh process of its own, so CPU time and peak RSS are the contender's alone.

* **Throughput.** 1,000 generations (dall-e-2, 256x256, b64) with 200 ms of injected latency at
  concurrency 64, through ``imagewire.batch`` (manifest checks, journal, limiter, files named by id,
  report) and through ``asyncio.gather`` + a semaphore over the openai SDK's ``AsyncOpenAI`` writing the
  same files; interleaved rounds, medians. Ideal wall time is 1,000 x 0.2 s / 64.
* **429 storm.** The provider allows 20 requests a second (``--rate-limit 20``): no item may fail, no
  second after the first 429 may hold more than the limit (plus 10 %), and the total stays within 1.2x
  the ideal ((items - the bucket's first 20) / 20 s).
* **Crash and resume.** ``imagewire batch`` killed with SIGKILL midway, rerun with ``--resume`` (the
  in-flight items are listed as unknown, exit 1, nothing answered is sent again), then with
  ``--retry-unknown``: the provider's log shows one send per item, apart from the unknowns.
* **Batch engine.** The same manifest through ``--engine openai-batch --wait``: the same files.

    python scripts/bench_batch.py [--items 1000] [--concurrency 64] [--latency-ms 200] [--rounds 3] [--quick]

Exits 1 when a floor fails. The reference provider renders each distinct picture once (its cache keeps
the last 64): the prompts cycle through 16, so its Pillow time does not starve the client of the shared
cores; the client's work per request (send, read, decode, write, journal) is the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROMPTS = 16


def manifest(path: Path, count: int, prefix: str = "shot") -> Path:
    with open(path, "w") as handle:
        for k in range(count):
            line = {
                "id": f"{prefix}-{k:04d}",
                "prompt": f"A paper crane, study {k % PROMPTS}",
                "model": "dall-e-2",
                "size": "256x256",
                "response_format": "b64_json",
            }
            handle.write(json.dumps(line) + "\n")
    return path


# --------------------------------------------------------------------------- contenders (child processes)


def child_imagewire(path: str, out: str, base_url: str, concurrency: int) -> dict[str, Any]:
    from imagewire.batch import Settings, drive
    from imagewire.batch.engine import prepare

    cpu0, wall0 = time.process_time(), time.perf_counter()
    batch = prepare(path, out, client_options={"provider": "local", "base_url": base_url})
    cpu1, wall1 = time.process_time(), time.perf_counter()

    async def go() -> list[Any]:
        return [r async for r in drive(batch, Settings(concurrency=concurrency))]

    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    results = asyncio.run(go())
    cpu2, wall2 = time.process_time(), time.perf_counter()
    usage2 = resource.getrusage(resource.RUSAGE_SELF)
    batch.journal.close()
    return {
        "items": len(batch.items),
        "done": sum(r.state == "done" for r in results),
        "failed": sum(r.state != "done" for r in results),
        "check_cpu": cpu1 - cpu0,
        "check_wall": wall1 - wall0,
        "cpu": cpu2 - cpu1,
        "user": usage2.ru_utime - usage1.ru_utime,
        "sys": usage2.ru_stime - usage1.ru_stime,
        "wall": wall2 - wall1,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_openai(base_url: str, count: int, concurrency: int, out: str) -> dict[str, Any]:
    import base64

    from openai import AsyncOpenAI

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)

    async def go() -> tuple[int, int, float, float]:
        client = AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=2)
        gate = asyncio.Semaphore(concurrency)

        async def one(k: int) -> bool:
            async with gate:
                try:
                    answer = await client.images.generate(
                        model="dall-e-2",
                        prompt=f"A paper crane, study {k % PROMPTS}",
                        size="256x256",
                        response_format="b64_json",
                    )
                except Exception:
                    return False
                data = base64.b64decode(answer.data[0].b64_json or "")  # type: ignore[index]
                (folder / f"shot-{k:04d}.png").write_bytes(data)
                return True

        cpu0, wall0 = time.process_time(), time.perf_counter()
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        outcomes = await asyncio.gather(*(one(k) for k in range(count)))
        cpu1, wall1 = time.process_time(), time.perf_counter()
        usage2 = resource.getrusage(resource.RUSAGE_SELF)
        user.append(usage2.ru_utime - usage1.ru_utime)
        user.append(usage2.ru_stime - usage1.ru_stime)
        await client.close()
        return sum(outcomes), count - sum(outcomes), cpu1 - cpu0, wall1 - wall0

    user: list[float] = []
    done, failed, cpu, wall = asyncio.run(go())
    return {
        "items": count,
        "done": done,
        "failed": failed,
        "cpu": cpu,
        "user": user[0],
        "sys": user[1],
        "wall": wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_bare(base_url: str, count: int, concurrency: int) -> dict[str, Any]:
    """The floor of the machine: one keep-alive asyncio stream per worker, prebuilt requests, answers read
    by content-length and dropped (no HTTP library, no JSON, no files, no journal)."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    bodies = [
        json.dumps(
            {
                "model": "dall-e-2",
                "prompt": f"A paper crane, study {k % PROMPTS}",
                "size": "256x256",
                "response_format": "b64_json",
            }
        ).encode()
        for k in range(count)
    ]
    head = f"POST {parts.path}/images/generations HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"

    async def go() -> tuple[float, float]:
        queue = list(range(count))

        async def worker() -> None:
            reader, writer = await asyncio.open_connection(host, port)
            while queue:
                body = bodies[queue.pop()]
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                raw = await reader.readuntil(b"\r\n\r\n")
                length = int(raw.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
            writer.close()

        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.process_time() - cpu0, time.perf_counter() - wall0

    cpu, wall = asyncio.run(go())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"items": count, "done": count, "failed": 0, "cpu": cpu, "wall": wall, "rss_mb": rss}


def run_child(*args: str) -> dict[str, Any]:
    answer = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, timeout=600, check=False
    )
    if answer.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{answer.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- scenarios


def throughput(tmp: Path, items: int, concurrency: int, latency_ms: int, rounds: int) -> dict[str, Any]:
    from imagewire.server import start

    path = manifest(tmp / "throughput.jsonl", items)
    runs: dict[str, list[dict[str, Any]]] = {"imagewire": [], "openai": [], "bare": []}
    with start("local", latency_ms=latency_ms) as server:
        run_child("openai", server.base_url, str(PROMPTS), "16", str(tmp / "warm"))  # fill the picture cache
        for k in range(rounds):
            order = ["imagewire", "openai", "bare"] if k % 2 == 0 else ["bare", "openai", "imagewire"]
            for name in order:
                out = tmp / f"{name}-{k}"
                if name == "imagewire":
                    runs[name].append(run_child("imagewire", str(path), str(out), server.base_url, str(concurrency)))
                elif name == "openai":
                    runs[name].append(run_child("openai", server.base_url, str(items), str(concurrency), str(out)))
                else:
                    runs[name].append(run_child("bare", server.base_url, str(items), str(concurrency)))
    ideal = items * latency_ms / 1000 / concurrency

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    return {
        "ideal": ideal,
        "items": items,
        "runs": runs,
        "wall": {n: med(n, "wall") for n in runs},
        "cpu_ms": {n: med(n, "cpu") / items * 1000 for n in runs},
        "rss_mb": {n: max(r["rss_mb"] for r in runs[n]) for n in runs},
        "failed": {n: max(r["failed"] for r in runs[n]) for n in runs},
        "check_cpu_ms": med("imagewire", "check_cpu") / items * 1000,
    }


def storm(tmp: Path, items: int, rate: int, concurrency: int) -> dict[str, Any]:
    from imagewire.server import start

    path = manifest(tmp / "storm.jsonl", items)
    with start("local", rate_limit=rate) as server:
        run_child("openai", server.base_url, str(PROMPTS), "4", str(tmp / "warm-storm"))
        time.sleep(1.5)  # the bucket fills again
        server.reset()
        result = run_child("imagewire", str(path), str(tmp / "storm"), server.base_url, str(concurrency))
        log = [e for e in server.requests() if str(e["path"]).endswith("/images/generations")]
    limited = sorted(e["time"] for e in log if e["status"] == 429)
    # the first wave (``concurrency`` requests) leaves before any answer can arrive: the limiter's reaction
    # shows in what is sent after it
    wave = {e["seq"] for e in sorted(log, key=lambda e: e["seq"])[:concurrency]}
    later = sorted(e["time"] for e in log if e["seq"] not in wave)
    first = limited[0] if limited else None
    after = [t for t in later if first is not None and t > first]
    peak = max((sum(1 for u in after if t <= u < t + 1.0) for t in after), default=0)
    # bursts right after each 429: requests (past the first wave) in the 100 ms that follow it
    burst = max((sum(1 for u in later if t < u <= t + 0.1) for t in limited), default=0)
    ideal = (items - rate) / rate
    return {
        "items": items,
        "rate": rate,
        "failed": result["failed"],
        "wall": result["wall"],
        "ideal": ideal,
        "limited": len(limited),
        "late_429": sum(1 for t in limited if first is not None and t > first + 1.0),
        "peak_per_second": peak,
        "burst_100ms": burst,
    }


def crash(tmp: Path, items: int, concurrency: int, latency_ms: int) -> dict[str, Any]:
    from imagewire.batch.journal import Journal
    from imagewire.server import start

    path = manifest(tmp / "crash.jsonl", items, prefix="crash")
    out = tmp / "crash"
    with start("local", latency_ms=latency_ms) as server:
        args = [str(path), "--out", str(out), "--provider", "local", "--base-url", server.base_url, "--quiet"]
        cmd = [sys.executable, "-m", "imagewire", "batch", *args, "--concurrency", str(concurrency)]
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            states = Journal.peek(out)
            if states.get("done", 0) >= items // 3 and states.get("sent", 0) > 0:
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"no moment to kill the batch ({states})")
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed = Journal.peek(out)
        time.sleep(latency_ms / 1000 + 0.3)
        resumed = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300, check=False)
        sends_after_resume = len([e for e in server.requests() if str(e["path"]).endswith("/images/generations")])
        unknown = Journal.peek(out).get("unknown", 0)
        retried = subprocess.run([*cmd, "--resume", "--retry-unknown"], capture_output=True, text=True, timeout=300)
        sends = len([e for e in server.requests() if str(e["path"]).endswith("/images/generations")])
        files = len(list((out / "images").iterdir()))
    return {
        "items": items,
        "answered_at_kill": killed.get("done", 0),
        "in_flight_at_kill": killed.get("sent", 0),
        "resume_exit": resumed.returncode,
        "unknown_listed": unknown,
        "sends_after_resume": sends_after_resume,
        "retry_exit": retried.returncode,
        "sends_total": sends,
        "files": files,
    }


def batch_engine(tmp: Path, items: int) -> dict[str, Any]:
    from imagewire.server import start

    path = manifest(tmp / "engine.jsonl", items, prefix="eng")
    with start("local") as server:
        common = ["--provider", "local", "--base-url", server.base_url, "--quiet"]
        cmd = [sys.executable, "-m", "imagewire", "batch", str(path)]
        local = subprocess.run([*cmd, "--out", str(tmp / "eng-local"), *common], capture_output=True, timeout=300)
        started = time.perf_counter()
        batched = subprocess.run(
            [*cmd, "--out", str(tmp / "eng-batch"), *common, "--engine", "openai-batch", "--wait"],
            capture_output=True,
            timeout=300,
        )
        wall = time.perf_counter() - started
    a = {p.name: p.read_bytes() for p in (tmp / "eng-local" / "images").iterdir()}
    b = {p.name: p.read_bytes() for p in (tmp / "eng-batch" / "images").iterdir()}
    return {
        "items": items,
        "local_exit": local.returncode,
        "batch_exit": batched.returncode,
        "same": a == b and len(a) == items,
        "files": len(b),
        "wall": wall,
    }


# --------------------------------------------------------------------------- the table


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in and args_in[0] == "--child":
        kind, rest = args_in[1], args_in[2:]
        if kind == "imagewire":
            result = child_imagewire(rest[0], rest[1], rest[2], int(rest[3]))
        elif kind == "bare":
            result = child_bare(rest[0], int(rest[1]), int(rest[2]))
        else:
            result = child_openai(rest[0], int(rest[1]), int(rest[2]), rest[3])
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storm-items", type=int, default=400)
    parser.add_argument("--storm-rate", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="fewer items and one round (a smoke run)")
    args = parser.parse_args(args_in)
    if args.quick:
        args.items, args.rounds, args.storm_items = 300, 1, 100
    failures: list[str] = []

    def floor(ok: bool, what: str) -> str:
        if not ok:
            failures.append(what)
        return "ok" if ok else "MISSED"

    with tempfile.TemporaryDirectory(prefix="imagewire-bench-batch-") as scratch:
        tmp = Path(scratch)
        t = throughput(tmp, args.items, args.concurrency, args.latency_ms, args.rounds)
        s = storm(tmp, args.storm_items, args.storm_rate, args.concurrency)
        c = crash(tmp, 120, 16, args.latency_ms)
        e = batch_engine(tmp, 100)

    ideal = t["ideal"]
    wall_ratio = t["wall"]["imagewire"] / ideal
    print(
        f"\nThroughput: {t['items']} generations, {args.latency_ms} ms latency, concurrency {args.concurrency}, "
        f"median of {args.rounds} round(s); ideal {ideal:.3f} s"
    )
    print("| contender | wall s | wall / ideal | CPU ms / request | peak RSS MB | failed |")
    print("|---|---|---|---|---|---|")
    contenders = (
        ("imagewire", "imagewire.batch"),
        ("openai", "openai SDK, gather + semaphore"),
        ("bare", "bare asyncio streams (the machine's floor)"),
    )
    for name, label in contenders:
        print(
            f"| {label} | {t['wall'][name]:.3f} | {t['wall'][name] / ideal:.2f}x | {t['cpu_ms'][name]:.3f} | "
            f"{t['rss_mb'][name]:.0f} | {t['failed'][name]} |"
        )
    print(f"(imagewire also checked the {t['items']} manifest lines first: {t['check_cpu_ms']:.3f} ms CPU a line)")
    print("\n| floor | value | limit | |")
    print("|---|---|---|---|")
    rows = [
        ("wall / ideal", f"{wall_ratio:.2f}x", "<= 1.15x", wall_ratio <= 1.15),
        ("client CPU per request", f"{t['cpu_ms']['imagewire']:.3f} ms", "<= 0.5 ms", t["cpu_ms"]["imagewire"] <= 0.5),
        (
            "peak RSS of the batch process",
            f"{t['rss_mb']['imagewire']:.0f} MB",
            "<= 150 MB",
            t["rss_mb"]["imagewire"] <= 150,
        ),
        ("failed items", str(t["failed"]["imagewire"]), "0", t["failed"]["imagewire"] == 0),
        ("429 storm: failed items", str(s["failed"]), "0", s["failed"] == 0),
        (
            "429 storm: most requests in a second after the first 429",
            str(s["peak_per_second"]),
            f"<= {s['rate'] * 1.1:.0f}",
            s["peak_per_second"] <= s["rate"] * 1.1,
        ),
        (
            "429 storm: requests within 100 ms after a 429",
            str(s["burst_100ms"]),
            f"<= {max(2, s['rate'] // 10)}",
            s["burst_100ms"] <= max(2, s["rate"] // 10),
        ),
        (
            "429 storm: total / ideal",
            f"{s['wall']:.1f} s / {s['ideal']:.1f} s = {s['wall'] / s['ideal']:.2f}x",
            "<= 1.2x",
            s["wall"] / s["ideal"] <= 1.2,
        ),
        ("crash: --resume exit (unknowns listed)", str(c["resume_exit"]), "1", c["resume_exit"] == 1),
        (
            "crash: unknown = in flight at the kill",
            f"{c['unknown_listed']} / {c['in_flight_at_kill']}",
            "equal",
            c["unknown_listed"] == c["in_flight_at_kill"] > 0,
        ),
        (
            "crash: sends after --resume (at most one per item)",
            str(c["sends_after_resume"]),
            f"{c['items'] - c['unknown_listed']}..{c['items']}",
            c["items"] - c["unknown_listed"] <= c["sends_after_resume"] <= c["items"],
        ),
        (
            "crash: sends after --retry-unknown",
            str(c["sends_total"]),
            "previous + unknowns",
            c["sends_total"] == c["sends_after_resume"] + c["unknown_listed"],
        ),
        (
            "crash: files after --retry-unknown",
            str(c["files"]),
            str(c["items"]),
            c["files"] == c["items"] and c["retry_exit"] == 0,
        ),
        ("openai-batch engine: same files as local", str(e["same"]), "True", e["same"] and e["batch_exit"] == 0),
    ]
    for what, value, limit, ok in rows:
        print(f"| {what} | {value} | {limit} | {floor(ok, what)} |")
    print(
        f"\n429 storm: {s['items']} items at {s['rate']} req/s: {s['limited']} answers were 429 "
        f"({s['late_429']} after the first second)."
    )
    print(
        f"crash: killed with {c['answered_at_kill']} answered and {c['in_flight_at_kill']} journaled as sent; "
        f"the provider saw {c['sends_after_resume'] - (c['items'] - c['unknown_listed'])} of those before the kill."
    )
    if failures:
        print(f"\nfloors missed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
