"""The hostile cases, one function each, run in a child process by ``hostile_harness.run_case``.

``python hostile_cases.py CASE`` runs one case in the current folder with the environment the harness sets:
``HOSTILE_INPUT`` (a crafted file or folder), ``HOSTILE_PORT`` / ``HOSTILE_OTHER_PORT`` (hostile servers),
``HOSTILE_LIMIT`` (the limit configured for the case, in bytes) and ``HOSTILE_DEADLINE`` (seconds). Options
the code under test does not know are left out, so the same case also runs against older checkouts (the
"before" column of the table in README.md). The last line printed is ``HOSTILE-RESULT {json}``: the error
the case ended with (an exception's qualified name, or the typed refusal it observed) and facts it checked.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULT = "HOSTILE-RESULT "
Case = Callable[[], "tuple[str | None, str, dict[str, Any]]"]
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__.replace("_", "-")] = function
    return function


def _input() -> Path:
    return Path(os.environ["HOSTILE_INPUT"])


def _limit() -> int:
    return int(os.environ.get("HOSTILE_LIMIT", str(8 * 1024 * 1024)))


def known(target: Callable[..., Any], **options: Any) -> dict[str, Any]:
    """The options ``target`` accepts (older code lacks some; the case then runs with its defaults)."""
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return options
    return {name: value for name, value in options.items() if name in parameters}


# ------------------------------------------------------------------ recordings and specs


def _recording() -> tuple[str | None, str, dict[str, Any]]:
    from imagewire.record import recordings

    limits: dict[str, Any] = {}
    if hasattr(recordings, "Limits"):
        limit = _limit()
        limits["limits"] = recordings.Limits(file_bytes=limit, decoded_bytes=limit, interactions=1000)
    recording = recordings.load(_input(), **known(recordings.load, **limits))
    refused = [error for error in recording.errors if getattr(error, "limit", None)]
    if refused:
        return f"LoadError[{refused[0].limit}]", str(refused[0]), {}
    total = 0
    for interaction in recording.interactions:  # what check --replay does with every interaction
        total += len(interaction.response_content()) + len(interaction.reason)
    return None, f"{len(recording.interactions)} interactions, {total:,} bytes read", {}


for _name in ("cassette-alias-bomb", "cassette-alias-list", "cassette-gzip-body", "recording-too-large"):
    CASES[_name] = _recording


@case
def spec_alias_bomb() -> tuple[str | None, str, dict[str, Any]]:
    from imagewire.generator import load

    options = {"max_bytes": _limit()} if hasattr(load, "MAX_BYTES") else {}
    found = load.load(_input(), "openapi.yaml", **options)
    if isinstance(found, load.Problem):
        return f"Problem[{found.rule}]", str(found), {}
    return None, "loaded", {}


@case
def regen_similar_enum() -> tuple[str | None, str, dict[str, Any]]:
    import contextlib
    import io

    from imagewire import cli

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = cli.run("regen", ["--spec", str(_input() / "openapi.yaml"), "--out", "out"])
        except BaseException as exc:
            return type(exc).__qualname__, str(exc)[:300], {"traceback": True}
    text = err.getvalue()
    lines = [line for line in text.splitlines() if line.strip()]
    return (f"exit {code}" if code else None), " / ".join(lines[:3])[:300], {}


# ------------------------------------------------------------------ the client against hostile servers

KEY = "sk-hostile-0123456789abcdef"


def _client(*, asynchronous: bool = False, **extra: Any) -> Any:
    from imagewire_client import AsyncClient, Client

    cls = AsyncClient if asynchronous else Client
    limit = _limit()
    deadline = float(os.environ.get("HOSTILE_DEADLINE", "4"))
    options = {
        "api_key": KEY,
        "base_url": f"http://127.0.0.1:{os.environ['HOSTILE_PORT']}/v1",
        "max_retries": 0,
        "timeout": deadline / 2,
        "allow_retired": True,
    }
    limits = {"max_answer_bytes": limit, "max_download_bytes": limit, "max_event_bytes": limit, "deadline": deadline}
    return cls(**{**options, **known(cls, **limits, **extra)})


def _proxied(*, asynchronous: bool = False) -> Any:
    """A client whose every request goes through the hostile server as its HTTP proxy, to a public provider."""
    import httpx

    proxy = f"http://127.0.0.1:{os.environ['HOSTILE_PORT']}"
    http = httpx.AsyncClient(proxy=proxy, timeout=5) if asynchronous else httpx.Client(proxy=proxy, timeout=5)
    return _client(asynchronous=asynchronous, base_url="http://provider.example/v1", http_client=http)


def _answer(**extra: Any) -> tuple[str | None, str, dict[str, Any]]:
    """Ask for one image, read every image of the answer, save them here (nothing may be written)."""
    client = _client(**extra)
    result = client.images.generate(prompt="a hostile answer", model="gpt-image-1.5", n=1)
    paths = result.save(".") if hasattr(result, "save") else [item.save(".") for item in result.data]
    return None, f"{len(result.data)} image(s) accepted, {len(paths)} saved", {}


def _stream() -> tuple[str | None, str, dict[str, Any]]:
    client = _client()
    events = client.images.generate(prompt="a hostile stream", model="gpt-image-1.5", stream=True, partial_images=1)
    count = sum(1 for _ in events)
    return None, f"{count} event(s)", {}


for _name in (
    "client-gzip-json",
    "client-gzip-error",
    "client-br-json",
    "client-zstd-json",
    "client-huge-body",
    "client-slow-body",
    "client-slow-headers",
    "client-many-images",
    "client-not-an-image",
):
    CASES[_name] = _answer
for _name in ("client-sse-big-event", "client-sse-keepalive"):
    CASES[_name] = _stream


@case
def client_redirect() -> tuple[str | None, str, dict[str, Any]]:
    """Credentials of every kind, then a redirect to another origin (the harness reads what arrived there)."""
    client = _client(organization="org-planted", project="proj-planted", default_headers={"X-Custom-Auth": KEY})
    client.images.generate(prompt="a redirected request", model="gpt-image-1.5")
    return None, "followed the redirect", {}


@case
def client_private_url() -> tuple[str | None, str, dict[str, Any]]:
    """An image URL on a loopback address; the caller does not opt in to private downloads."""
    return _answer(allow_private_downloads=False)


@case
def client_keepalive_slow_headers() -> tuple[str | None, str, dict[str, Any]]:
    """Two calls on one keep-alive connection: the first answered at once, the second's headers dripped."""
    client = _client()
    client.images.generate(prompt="a first call", model="gpt-image-1.5")
    client.images.generate(prompt="a second call on the same connection", model="gpt-image-1.5")
    return None, "both calls answered", {}


@case
def client_retry_after() -> tuple[str | None, str, dict[str, Any]]:
    """A rate limit whose Retry-After is longer than the deadline, with retries allowed."""
    _client(max_retries=2).images.generate(prompt="a rate-limited call", model="gpt-image-1.5")
    return None, "answered", {}


@case
def client_proxy_private_url() -> tuple[str | None, str, dict[str, Any]]:
    """Through an HTTP proxy, an image URL on a loopback address (the proxy would fetch it)."""
    client = _proxied()
    result = client.images.generate(prompt="a proxied call", model="gpt-image-1.5")
    return None, f"{len(result.save('.'))} saved", {}


# ------------------------------------------------------------------ the same, with AsyncClient


def _run(coroutine: Any) -> tuple[str | None, str, dict[str, Any]]:
    import asyncio

    result: tuple[str | None, str, dict[str, Any]] = asyncio.run(coroutine)
    return result


async def _aanswer(client: Any) -> tuple[str | None, str, dict[str, Any]]:
    """Ask for one image, save every image of the answer here (nothing may be written)."""
    result = await client.images.generate(prompt="a hostile answer", model="gpt-image-1.5", n=1)
    return None, f"{len(await result.asave('.'))} saved", {}


async def _atwice(client: Any) -> tuple[str | None, str, dict[str, Any]]:
    """Two calls on one keep-alive connection (as client_keepalive_slow_headers)."""
    await client.images.generate(prompt="a first call", model="gpt-image-1.5")
    await client.images.generate(prompt="a second call on the same connection", model="gpt-image-1.5")
    return None, "both calls answered", {}


@case
def client_async_slow_headers() -> tuple[str | None, str, dict[str, Any]]:
    return _run(_aanswer(_client(asynchronous=True)))


@case
def client_async_slow_body() -> tuple[str | None, str, dict[str, Any]]:
    return _run(_aanswer(_client(asynchronous=True)))


@case
def client_async_keepalive_slow_headers() -> tuple[str | None, str, dict[str, Any]]:
    return _run(_atwice(_client(asynchronous=True)))


async def _astream(client: Any) -> tuple[str | None, str, dict[str, Any]]:
    events = await client.images.generate(
        prompt="a hostile stream", model="gpt-image-1.5", stream=True, partial_images=1
    )
    count = 0
    async for _ in events:
        count += 1
    return None, f"{count} event(s)", {}


@case
def client_async_sse_keepalive() -> tuple[str | None, str, dict[str, Any]]:
    return _run(_astream(_client(asynchronous=True)))


@case
def client_async_sse_big_event() -> tuple[str | None, str, dict[str, Any]]:
    return _run(_astream(_client(asynchronous=True)))


@case
def client_async_retry_after() -> tuple[str | None, str, dict[str, Any]]:
    return _run(_aanswer(_client(asynchronous=True, max_retries=2)))


@case
def client_async_private_url() -> tuple[str | None, str, dict[str, Any]]:
    return _run(_aanswer(_client(asynchronous=True, allow_private_downloads=False)))


@case
def client_async_proxy_private_url() -> tuple[str | None, str, dict[str, Any]]:
    return _run(_aanswer(_proxied(asynchronous=True)))


@case
def client_async_redirect() -> tuple[str | None, str, dict[str, Any]]:
    credentials = {"organization": "org-planted", "project": "proj-planted", "default_headers": {"X-Custom-Auth": KEY}}
    return _run(_aanswer(_client(asynchronous=True, **credentials)))


# ------------------------------------------------------------------ the reference provider


@case
def serve() -> tuple[str | None, str, dict[str, Any]]:
    """Run the reference provider on 127.0.0.1 (a free port, printed) until SIGTERM; the attack is the
    harness's. ``HOSTILE_SERVER`` holds ``make_app`` options as JSON."""
    import socket

    import uvicorn

    from imagewire.server import make_app

    options = json.loads(os.environ.get("HOSTILE_SERVER", "{}"))
    app = make_app("local", **known(make_app, **options))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(app, lifespan="off", log_level="critical", access_log=False, timeout_graceful_shutdown=1)
    print(f"HOSTILE-PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return None, "stopped", {}


def main() -> None:
    name = sys.argv[1]
    facts: dict[str, Any] = {}
    try:
        error, detail, facts = CASES[name]()
    except BaseException as exc:
        kind = type(exc)
        error = f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__
        detail = str(exc)
    from hostile_harness import vm_hwm_kb

    result = {"error": error, "detail": detail[:300], "facts": facts, "vm_hwm_kb": vm_hwm_kb()}
    print(RESULT + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
