"""Client benchmark: the imagewire facade beside raw httpx and the official openai SDK, on loopback.

One run measures everything side by side, so the table holds ratios, not absolute times:

* per-request time against a small HTTP/1.1 keep-alive server (stdlib ``ThreadingHTTPServer``) that
  this script starts in its own process and stops by its PID: a dall-e-3-shaped url answer, or a
  ~2 MB b64 answer built once, picked by path. Each client (raw ``httpx.Client``, the facade over an
  ``httpx.Client`` like it, the openai SDK on its default client) sends the same body; in each round
  the clients take turns request by request, in a fresh random order each time, and the median of
  the rounds' medians is kept. ``socket`` (a prebuilt request on a raw socket) shows what the server
  and the loopback cost by themselves;
* cold start (import + construct, and import + construct + one request) in fresh interpreters, timed
  inside them, with bytecode cached for all three (see :func:`cold_env`): in the project's .venv, and
  each alone in a throwaway venv built offline from uv's cache (the client wheel with httpx and attrs;
  openai with its dependencies at the versions of uv.lock), where the floors apply.

    python scripts/bench_client.py [--quick] [--profile] [--rounds N] [--model ID] [--steps N]

Exits 1 when a floor fails. It is a script, never a timed test: timings depend on the machine, so
only the ratios carry floors. A facade floor that fails (or ``--profile``) adds a cProfile of where
the facade's time goes; a cold-start floor that fails adds an ``-X importtime`` breakdown.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import inspect
import json
import os
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

PROMPT = "A watercolor painting of a yellow alpaca reading a newspaper in a sunny cafe"
B64_BYTES = 1_500_000  # raw image bytes: ~2 MB once base64-encoded
API_KEY = "sk-bench"
HARD_LIMIT = 420  # seconds: the run is stopped past this, whatever happens
ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "bin" / "uv"


# --------------------------------------------------------------------------- the loopback server


def serve() -> None:
    """Server process: print the port, then answer until terminated. /url/... and /b64/... pick the answer."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    def answer(body: bytes) -> bytes:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body

    created = 1_700_000_000
    url_body = json.dumps(
        {
            "created": created,
            "data": [
                {
                    "url": "https://oaidalleapiprodscus.blob.core.windows.net/private/org-bench/user-bench/"
                    "img-0123456789abcdef.png?st=2024-01-01T00%3A00%3A00Z&se=2024-01-01T02%3A00%3A00Z"
                    "&sp=r&sv=2021-08-06&sr=b&rscd=inline&rsct=image/png&sig=bench",
                    "revised_prompt": PROMPT + ", with soft morning light and warm colors.",
                }
            ],
        }
    ).encode()
    image = random.Random(0).randbytes(B64_BYTES)
    b64_body = json.dumps(
        {"created": created, "data": [{"b64_json": base64.b64encode(image).decode(), "revised_prompt": PROMPT}]}
    ).encode()
    answers = {"url": answer(url_body), "b64": answer(b64_body)}
    not_found = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            kind = self.path.split("/", 2)[1]
            ok = self.path.endswith("/images/generations") and kind in answers
            self.wfile.write(answers[kind] if ok else not_found)  # one write: headers and body together

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64

    server = Server(("127.0.0.1", 0), Handler)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    print(server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()


class ServerProcess:
    """The server in a child process of this script, stopped by its PID."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("the benchmark server did not start")
        self.base = f"http://127.0.0.1:{int(line)}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- the three clients

Call = Callable[[], Any]


def make_calls(base: str, kind: str, model: str) -> dict[str, tuple[Call, Callable[[], None]]]:
    """name -> (one call, close) for the three clients, all answered by ``base``/``kind``, all sending one body."""
    import httpx
    import openai

    from imagewire_client import MODELS, Client

    rules = MODELS[model].operations["generations"].params
    extra: dict[str, Any] = {"response_format": "b64_json"} if kind == "b64" and "response_format" in rules else {}
    body = {"model": model, "prompt": PROMPT, "size": "1024x1024", **extra}
    root = f"{base}/{kind}/v1"

    raw_http = httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0))
    url = f"{root}/images/generations"
    auth = {"Authorization": f"Bearer {API_KEY}"}

    def raw() -> Any:
        response = raw_http.post(url, json=body, headers=auth)
        response.raise_for_status()
        return response.json()

    facade_http = httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0))
    options: dict[str, Any] = {}
    if MODELS[model].lifecycle.status in ("retired", "shutdown"):
        # still checked as usual (fields, values, rules); only the lifecycle check is waived
        if "allow_retired" not in inspect.signature(Client).parameters:
            raise RuntimeError(f"{model} is retired in the catalog and this Client has no allow_retired")
        options["allow_retired"] = True
    facade_client = Client(api_key=API_KEY, base_url=root, http_client=facade_http, **options)

    def facade() -> Any:
        return facade_client.images.generate(model=model, prompt=PROMPT, size="1024x1024", **extra)

    sdk = openai.OpenAI(api_key=API_KEY, base_url=root, max_retries=0, timeout=60.0)

    def official() -> Any:
        return sdk.images.generate(model=model, prompt=PROMPT, size="1024x1024", **extra)

    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = sock.makefile("rb")
    payload = json.dumps(body).encode()
    request = (
        f"POST /{kind}/v1/images/generations HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload

    def floor() -> Any:
        """The server and the loopback alone: one prebuilt request on a raw socket, the answer read, not parsed."""
        sock.sendall(request)
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return reader.read(length)

    def close_floor() -> None:
        reader.close()
        sock.close()

    if json.loads(floor())["data"][0].get("b64_json" if kind == "b64" else "url") is None:
        raise RuntimeError(f"the server sent no {kind} answer")
    # every answer is what it should be before anything is timed
    for name, result in (("httpx", raw()), ("imagewire", facade()), ("openai", official())):
        image = result["data"][0] if isinstance(result, dict) else result.data[0]
        got = (
            image["b64_json" if kind == "b64" else "url"]
            if isinstance(image, dict)
            else (image.b64_json if kind == "b64" else image.url)
        )
        if not got:
            raise RuntimeError(f"{name}: no {kind} in the answer")
    return {
        "httpx": (raw, raw_http.close),
        "imagewire": (facade, facade_http.close),
        "openai": (official, sdk.close),
        "socket": (floor, close_floor),
    }


def batch(call: Call, n: int) -> float:
    """Seconds per request over ``n`` requests in a row."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n


class Samples(NamedTuple):
    medians: list[float]  # per round: median seconds of one request
    means: list[float]  # per round: mean seconds of one request (pauses such as GC included)


def measure(base: str, kind: str, model: str, n: int, rounds: int, deadline: float) -> dict[str, Samples]:
    """``rounds`` rounds of ``n`` requests per client, interleaved request by request.

    Each step sends one request per client in a fresh random order (seeded): a fixed order would leave
    each client after the same neighbour, and the allocator state a 2 MB answer leaves behind is worth
    more than the differences measured here.
    """
    calls = make_calls(base, kind, model)
    samples = {name: Samples([], []) for name in calls}
    clock = time.perf_counter
    rng = random.Random(20240)
    try:
        for call, _ in calls.values():  # warm up pools, caches and lazy imports
            batch(call, max(3, n // 10))
        order = list(calls)
        for r in range(rounds):
            if r >= 3 and time.monotonic() > deadline:
                print(f"  ({kind}: time budget reached after {r} rounds)", file=sys.stderr)
                break
            times: dict[str, list[float]] = {name: [] for name in order}
            gc.collect()
            for _ in range(n):
                rng.shuffle(order)
                for name in order:
                    call = calls[name][0]
                    start = clock()
                    call()
                    times[name].append(clock() - start)
            for name, seconds in times.items():
                samples[name].medians.append(statistics.median(seconds))
                samples[name].means.append(statistics.fmean(seconds))
    finally:
        for _, close in calls.values():
            close()
    return samples


def steps(base: str, model: str, n: int) -> str:
    """Client CPU time of each step of a url call, in place: the facade's request building, sending (headers and
    body) and answer reading, and raw httpx's send, each timed with ``time.thread_time_ns`` around it, over
    ``n`` calls of each client interleaved in a random order; medians."""
    import httpx

    from imagewire_client import Client

    times: dict[str, list[int]] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                times.setdefault(name, []).append(time.thread_time_ns() - start)

        return step

    root = f"{base}/url/v1"
    raw_http = httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0))
    facade_http = httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0))
    facade = Client(api_key=API_KEY, base_url=root, http_client=facade_http, allow_retired=True)
    fields = {"model": model, "prompt": PROMPT, "size": "1024x1024"}
    raw_http.send = timed("raw httpx: send and read (stream=False)", raw_http.send)  # type: ignore[method-assign]
    for name in ("_build", "_send", "_read"):
        setattr(facade, name, timed(f"imagewire: {name}", getattr(facade, name)))
    calls = {
        "raw httpx: whole call": timed(
            "raw httpx: whole call",
            lambda: raw_http.post(
                f"{root}/images/generations", json=fields, headers={"Authorization": f"Bearer {API_KEY}"}
            ).json(),
        ),
        "imagewire: whole call": timed(
            "imagewire: whole call", lambda: facade.images.generate(model=model, prompt=PROMPT, size="1024x1024")
        ),
    }
    rng = random.Random(7)
    try:
        for rounds in (100, n):  # a warm-up, then the measured calls
            times.clear()
            for _ in range(rounds):
                for name in rng.sample(list(calls), len(calls)):
                    calls[name]()
    finally:
        raw_http.close()
        facade_http.close()
    out = [f"\n--- client CPU time of each step of a url call, in place ({n} calls each, medians) ---"]
    out += [f"  {statistics.median(v) / 1000:7.1f} us  {name}" for name, v in sorted(times.items())]
    return "\n".join(out)


def profile_facade(base: str, kind: str, model: str, n: int) -> str:
    """Where the facade's time goes: ``n`` facade and ``n`` raw httpx calls under cProfile, side by side.

    cProfile inflates small functions, so read the shares, not the microseconds.
    """
    calls = make_calls(base, kind, model)
    profiles = {"httpx": cProfile.Profile(), "imagewire": cProfile.Profile()}
    try:
        for name in profiles:
            batch(calls[name][0], 5)
        for _ in range(n):
            for name, prof in profiles.items():
                call = calls[name][0]
                prof.enable()
                call()
                prof.disable()
    finally:
        for _, close in calls.values():
            close()
    stats = {name: pstats.Stats(prof).stats for name, prof in profiles.items()}  # type: ignore[attr-defined]

    def where(key: tuple[str, int, str]) -> str:
        path, line, func = key
        for marker in ("imagewire_client/", "site-packages/", "python3."):
            if marker in path:
                path = path[path.index(marker) + (0 if marker == "imagewire_client/" else len(marker)) :]
                break
        return f"{path}:{line}({func})"

    total = {name: sum(v[2] for v in st.values()) / n * 1e6 for name, st in stats.items()}
    out = [
        f"\n--- where the facade's time goes: {kind} answers, {n} calls each under cProfile ---",
        f"per call: httpx {total['httpx']:.0f} us, imagewire {total['imagewire']:.0f} us "
        f"(+{total['imagewire'] - total['httpx']:.0f} us)",
        "imagewire_client functions, cumulative us per call (own us):",
    ]
    mine = [(v[3], v[2], k) for k, v in stats["imagewire"].items() if "imagewire_client" in k[0]]
    for cum, own, key in sorted(mine, reverse=True)[:16]:
        out.append(f"  {cum / n * 1e6:7.1f} ({own / n * 1e6:5.1f})  {where(key)}")
    out.append("largest own-time differences, imagewire minus httpx, us per call (calls per request):")
    keys = set(stats["httpx"]) | set(stats["imagewire"])
    diffs = []
    for key in keys:
        a = stats["httpx"].get(key, (0, 0, 0.0, 0.0))
        b = stats["imagewire"].get(key, (0, 0, 0.0, 0.0))
        diffs.append(((b[2] - a[2]) / n * 1e6, a[0] / n, b[0] / n, key))
    for diff, calls_a, calls_b, key in sorted(diffs, reverse=True)[:14]:
        out.append(f"  {diff:+7.1f}  ({calls_a:.0f} -> {calls_b:.0f})  {where(key)}")
    return "\n".join(out)


# --------------------------------------------------------------------------- cold start

COLD = {
    "httpx": "import httpx",
    "imagewire": "import imagewire_client; imagewire_client.Client(api_key='x', base_url='http://127.0.0.1:1')",
    "openai": "import openai; openai.OpenAI(api_key='x', base_url='http://127.0.0.1:1')",
}


def cold_env(pycache: str) -> dict[str, str]:
    """Bytecode cached (in a private folder) for all three, as an installed package has it.

    With PYTHONDONTWRITEBYTECODE set and no ``__pycache__`` beside a source tree (an editable or
    PYTHONPATH install), every import would compile the generated client from source while httpx and
    openai load compiled bytecode: not what a user measures.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def cold(stmt: str, env: dict[str, str], python: str = sys.executable) -> float:
    code = f"import time\nt = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)"
    done = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True, timeout=60, env=env)
    return float(done.stdout.strip().splitlines()[-1])


def _uv(*args: str) -> None:
    env = {**os.environ, "UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}
    subprocess.run([str(UV), *args], check=True, capture_output=True, text=True, timeout=300, env=env)


def _venv(folder: str) -> str:
    venv = os.path.join(folder, "venv")
    _uv("venv", "--python", sys.executable, venv)
    return os.path.join(venv, "bin", "python")


def client_venv(folder: str) -> str:
    """A throwaway virtual environment holding only the client's wheel and its dependencies (httpx, attrs and
    theirs), built with the project's uv from its cache; returns its python.

    ``import httpx`` also imports httpx's command line (click, rich) when those are installed, as they are in
    the project's .venv; a user of the client alone does not pay that, so neither does this measurement.
    """
    wheels = os.path.join(folder, "wheels")
    _uv("build", "--wheel", "--out-dir", wheels, str(ROOT / "generated_client"))
    python = _venv(folder)
    wheel = sorted(Path(wheels).glob("imagewire_client-*.whl"))[-1]
    _uv("pip", "install", "--python", python, "--compile-bytecode", str(wheel))
    return python


def openai_venv(folder: str) -> tuple[str, str]:
    """A throwaway virtual environment holding only the openai SDK and its dependencies at the versions of the
    project's uv.lock (exported as it stands, as a pylock, cut down to openai's dependency closure, synced
    offline from uv's cache): what a user of the SDK alone has, measured the way the client is. Returns its
    python and the SDK's version."""
    import re
    import tomllib

    packages = tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    needs = {p["name"]: [d["name"] for d in p.get("dependencies", [])] for p in packages}
    closure, todo = set(), ["openai"]
    while todo:
        name = todo.pop()
        if name not in closure:
            closure.add(name)
            todo += needs.get(name, [])
    exported = os.path.join(folder, "pylock.all.toml")
    _uv(
        *("export", "--directory", str(ROOT), "--frozen", "--format", "pylock.toml", "--no-emit-project"),
        *("--all-groups", "--quiet", "--output-file", exported),
    )
    head, *blocks = Path(exported).read_text().split("\n[[packages]]\n")
    named = [(re.search(r'^name = "([^"]+)"', block, re.MULTILINE), block) for block in blocks]
    kept = [block for found, block in named if found is not None and found.group(1) in closure]
    lock = os.path.join(folder, "pylock.openai.toml")
    Path(lock).write_text("\n[[packages]]\n".join([head, *kept]))
    python = _venv(folder)
    _uv("pip", "sync", "--python", python, "--compile-bytecode", lock)
    version = next(p["version"] for p in packages if p["name"] == "openai")
    return python, str(version)


def requests_in_venvs(
    base: str, model: str, client_python: str, openai_python: str, runs: int, env: dict[str, str]
) -> dict[str, list[float]]:
    """Import + construct + one url request: raw httpx and imagewire in the client-only environment, the
    openai SDK in its own; interleaved, one fresh interpreter per run."""
    statements = first_requests(base, model)
    python = {"httpx+request": client_python, "imagewire+request": client_python, "openai+request": openai_python}
    for name, stmt in statements.items():  # write bytecode, warm the page cache
        cold(stmt, env, python[name])
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(runs):
        for name, stmt in statements.items():
            samples[name].append(cold(stmt, env, python[name]))
    return samples


def first_requests(base: str, model: str) -> dict[str, str]:
    """Import, construct and make ONE url request to ``base``: what a short script pays in all."""
    root = f"{base}/url/v1"
    body = f"dict(model={model!r}, prompt={PROMPT!r}, size='1024x1024')"
    return {
        "httpx+request": f"import httpx; httpx.Client().post({root + '/images/generations'!r}, json={body}, "
        f"headers={{'Authorization': 'Bearer {API_KEY}'}}).json()",
        "imagewire+request": "import imagewire_client; imagewire_client.Client(api_key='x', base_url="
        f"{root!r}, allow_retired=True).images.generate(**{body})",
        "openai+request": f"import openai; openai.OpenAI(api_key='x', base_url={root!r}, max_retries=0)"
        f".images.generate(**{body})",
    }


def cold_starts(runs: int, env: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, list[float]]:
    statements = {**COLD, **(extra or {})}
    for stmt in statements.values():  # write bytecode, warm the page cache
        cold(stmt, env)
    samples: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(runs):
        for name, stmt in statements.items():
            samples[name].append(cold(stmt, env))
    return samples


def import_breakdown(env: dict[str, str], python: str, stmt: str) -> str:
    """``-X importtime`` of ``stmt`` (import + construct + one request) in ``python``'s environment with httpx
    already loaded: the modules imagewire adds, largest first."""
    code = f"import httpx\n{stmt}"
    done = subprocess.run(
        [python, "-X", "importtime", "-c", code],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    lines = done.stderr.splitlines()
    start = max(i for i, line in enumerate(lines) if line.rstrip().endswith("| httpx"))
    rows = []
    for line in lines[start + 1 :]:
        parts = line.split("|")
        if len(parts) == 3 and parts[0].startswith("import time:"):
            own, cum, name = int(parts[0].split(":")[1]), int(parts[1]), parts[2]
            rows.append((cum, own, len(name) - len(name.lstrip()), name.strip()))
    top = sum(cum for cum, _, depth, _ in rows if depth == min(r[2] for r in rows))
    out = [
        f"\n--- own venv, import + construct + 1 request: modules imagewire adds to httpx (-X importtime, one run): "
        f"{top / 1000:.1f} ms ---"
    ]
    out += [
        f"  {cum / 1000:6.1f} ms (own {own / 1000:5.1f})  {name}"
        for cum, own, _, name in sorted(rows, reverse=True)[:12]
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- report


def _cold_ok(colds: dict[str, list[float]], alone: dict[str, list[float]]) -> bool:
    c = {name: statistics.median(s) for name, s in colds.items()}
    a = {name: statistics.median(s) for name, s in alone.items()}
    return (
        c["imagewire"] <= 0.25 * c["openai"]
        and c["imagewire"] - c["httpx"] <= 0.040
        and a["imagewire+request"] - a["httpx+request"] <= 0.025
        and a["imagewire+request"] <= a["openai+request"] / 3
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="smoke run: few requests and rounds")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of interleaved batches (default 7, quick 3)")
    parser.add_argument("--url-requests", type=int, default=None, help="url requests per client per round (300)")
    parser.add_argument("--b64-requests", type=int, default=None, help="b64 requests per client per round (40)")
    parser.add_argument("--cold-runs", type=int, default=None, help="fresh interpreters per cold start (7)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the facade")
    parser.add_argument(
        "--steps", type=int, metavar="N", help="only time each step of N url calls in place (client CPU time)"
    )
    parser.add_argument(
        "--model",
        default="dall-e-3",
        help="model sent by all three clients (default dall-e-3, checked with allow_retired=True as it is retired "
        "in the catalog); response_format=b64_json is sent for b64 answers where the model takes it",
    )
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    if args.steps:
        with ServerProcess() as server:
            print(steps(server.base, args.model, args.steps))
        return 0
    quick = args.quick
    rounds = args.rounds or (3 if quick else 7)
    n_url = args.url_requests or (60 if quick else 300)
    n_b64 = args.b64_requests or (8 if quick else 40)
    cold_runs = args.cold_runs or (3 if quick else 7)

    import httpx
    import openai

    import imagewire_client

    def give_up(*_: object) -> None:
        raise TimeoutError(f"the benchmark ran over {HARD_LIMIT} s")

    signal.signal(signal.SIGALRM, give_up)  # a hard bound: the server still stops (context manager)
    signal.alarm(HARD_LIMIT)
    started = time.monotonic()
    budget = 30 if quick else 80  # seconds for the request rounds: the whole run stays under 2 minutes
    with ServerProcess() as server:
        try:
            url = measure(server.base, "url", args.model, n_url, rounds, started + budget * 0.4)
            b64 = measure(server.base, "b64", args.model, n_b64, rounds, started + budget)
        except (imagewire_client.ValidationError, RuntimeError) as err:
            print(f"--model {args.model}: the facade refuses it ({err}); pick a model it accepts", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="imagewire-bench-pyc-") as pycache:
            env = cold_env(pycache)
            colds = cold_starts(cold_runs, env, first_requests(server.base, args.model))
            with (
                tempfile.TemporaryDirectory(prefix="imagewire-bench-venv-") as folder,
                tempfile.TemporaryDirectory(prefix="imagewire-bench-openai-") as sdk_folder,
            ):
                python = client_venv(folder)
                sdk_python, sdk_version = openai_venv(sdk_folder)
                alone = requests_in_venvs(server.base, args.model, python, sdk_python, cold_runs, env)
                breakdown = ""
                if args.profile or not _cold_ok(colds, alone):
                    stmt = first_requests(server.base, args.model)["imagewire+request"]
                    breakdown = import_breakdown(env, python, stmt)
    elapsed = time.monotonic() - started

    med = {
        (kind, name): statistics.median(s.medians) for kind, d in (("url", url), ("b64", b64)) for name, s in d.items()
    }
    mean = {
        (kind, name): statistics.median(s.means) for kind, d in (("url", url), ("b64", b64)) for name, s in d.items()
    }
    c = {name: statistics.median(s) for name, s in colds.items()}

    r_url = med["url", "imagewire"] / med["url", "httpx"]
    r_b64 = med["b64", "imagewire"] / med["b64", "httpx"]
    o_url = med["url", "openai"] / med["url", "imagewire"]
    o_b64 = med["b64", "openai"] / med["b64", "imagewire"]
    cold_ratio = c["imagewire"] / c["openai"]
    a = {name: statistics.median(s) for name, s in alone.items()}
    alone_extra = a["imagewire+request"] - a["httpx+request"]
    alone_ratio = a["imagewire+request"] / a["openai+request"]
    cold_extra = c["imagewire"] - c["httpx"]
    # (measurement, value, floor, ok); ok None: reported, no floor
    rows: list[tuple[str, str, str, bool | None]] = [
        ("url answers: imagewire / httpx", f"{r_url:.2f}x", "<= 1.05x", r_url <= 1.05),
        ("b64 2 MB answers: imagewire / httpx", f"{r_b64:.2f}x", "<= 1.05x", r_b64 <= 1.05),
        ("url answers: openai / imagewire", f"{o_url:.2f}x", ">= 1.50x", o_url >= 1.50),
        ("b64 2 MB answers: openai / imagewire", f"{o_b64:.2f}x", "", None),
        ("cold start: imagewire (import + Client)", f"{c['imagewire']:.3f} s", "", None),
        ("cold start: httpx (import)", f"{c['httpx']:.3f} s", "", None),
        ("cold start: openai (import + OpenAI)", f"{c['openai']:.3f} s", "", None),
        ("cold start: imagewire / openai", f"{cold_ratio:.2f}x", "<= 0.25x", cold_ratio <= 0.25),
        ("cold start: imagewire - httpx", f"{cold_extra * 1000:+.0f} ms", "<= +40 ms", cold_extra <= 0.040),
        # imagewire defers httpx and attrs to the first request: these rows show what a short script pays in all
        ("import + construct + 1 request: httpx", f"{c['httpx+request']:.3f} s", "", None),
        ("import + construct + 1 request: imagewire", f"{c['imagewire+request']:.3f} s", "", None),
        ("import + construct + 1 request: openai", f"{c['openai+request']:.3f} s", "", None),
        (
            "import + construct + 1 request: imagewire / openai",
            f"{c['imagewire+request'] / c['openai+request']:.2f}x",
            "",
            None,
        ),
        # each alone: the client in a throwaway venv (the wheel, httpx, attrs), openai in another (openai and
        # its dependencies at the locked versions)
        ("own venv, import + construct + 1 request: httpx", f"{a['httpx+request']:.3f} s", "", None),
        ("own venv, import + construct + 1 request: imagewire", f"{a['imagewire+request']:.3f} s", "", None),
        (f"own venv, import + construct + 1 request: openai {sdk_version}", f"{a['openai+request']:.3f} s", "", None),
        ("own venv: imagewire - httpx", f"{alone_extra * 1000:+.0f} ms", "<= +25 ms", alone_extra <= 0.025),
        ("own venv: imagewire / openai", f"{alone_ratio:.2f}x", "<= 0.33x", alone_ratio <= 1 / 3),
    ]

    retired = ""
    if imagewire_client.MODELS[args.model].lifecycle.status in ("retired", "shutdown"):
        retired = " (retired in the catalog: the facade checks it with allow_retired=True)"
    sdk = openai.OpenAI(api_key="x")
    transport = next(k.__module__ for k in type(sdk._client).__mro__ if k.__name__ == "Client").split(".")[0]
    sdk.close()
    print(
        f"client benchmark{' (--quick)' if quick else ''}: Python {sys.version.split()[0]}, httpx {httpx.__version__}, "
        f"openai {openai.__version__} (on {transport}), imagewire_client from "
        f"{os.path.dirname(imagewire_client.__file__ or '')}"
    )
    print(
        f"model {args.model}{retired}; {len(url['httpx'].medians)} rounds x {n_url} url requests and "
        f"{len(b64['httpx'].medians)} rounds x {n_b64} b64 requests per client, interleaved request by request; "
        f"{cold_runs} fresh interpreters per cold start; {elapsed:.0f} s"
    )
    print("one request, median of the rounds' medians (mean in brackets); socket = the server and loopback alone:")
    for kind in ("url", "b64"):
        cells = [
            f"{name} {med[kind, name] * 1e6:.0f} us ({mean[kind, name] * 1e6:.0f})"
            for name in ("socket", "httpx", "imagewire", "openai")
        ]
        print(f"  {kind}:  " + "   ".join(cells))
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'value':>9}  {'floor':>9}  verdict")
    for name, value, floor, ok in rows:
        verdict = "-" if ok is None else "ok" if ok else "FAIL"
        print(f"{name:<{width}}  {value:>9}  {floor:>9}  {verdict}")
    failed = [name for name, _, _, ok in rows if ok is False]
    profile = {"url": args.profile or r_url > 1.10 or o_url < 1.50, "b64": args.profile or r_b64 > 1.10}
    if any(profile.values()):
        with ServerProcess() as server:
            for kind, n in (("url", 50 if quick else 200), ("b64", 10)):
                if profile[kind]:
                    print(profile_facade(server.base, kind, args.model, n))
    if breakdown:
        print(breakdown)
    if failed:
        print(f"\nFAIL: {', '.join(failed)}")
        return 1
    print("\nall floors met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
