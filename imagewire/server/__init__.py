"""The reference provider: ``imagewire serve``, an OpenAI-style Images API on this machine.

Deterministic images (Pillow), every operation of the spec, the spec's and the model catalog's checks
with OpenAI-shaped errors, personas that reproduce each provider's URL shape, auth style, model table
and declared quirks, signed expiring image URLs, faults on demand, and a request log.

Python API::

    from imagewire.server import start

    with start("local", api_key="sk-test") as server:      # a subprocess on 127.0.0.1, a free port
        client = Client(provider="local", base_url=server.base_url, api_key="sk-test")
        ...
        server.requests()                                   # what reached the server

``make_app(persona=...)`` gives the ASGI application for in-process use (Starlette's TestClient,
``httpx.ASGITransport``). This module stays light: Starlette, uvicorn and Pillow are imported when used.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagewire.server.app import make_app

__all__ = ["KEY_ENV", "Running", "make_app", "start"]

#: how :func:`start` hands the API key to the server process (never on its command line)
KEY_ENV = "IMAGEWIRE_SERVE_API_KEY"

_BANNER = "imagewire reference provider on "


def __getattr__(name: str) -> Any:
    if name == "make_app":  # imported on first use: Starlette and Pillow load only then
        from imagewire.server.app import make_app

        return make_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- a server in a subprocess


@dataclass
class Running:
    """A server started by :func:`start`: its process id, base URL and process. Stop it with :meth:`stop`."""

    pid: int
    base_url: str
    process: subprocess.Popen[bytes] = field(repr=False)
    #: what the control endpoints need: the key, in the persona's header (empty when the server has no key)
    auth: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def origin(self) -> str:
        """``http://host:port``: where ``/_imagewire/*`` and ``/files/*`` live."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def url(self, **placeholders: str) -> str:
        """The base URL with its placeholders filled, e.g. ``url(deployment="gpt-image-1.5")`` (Azure)."""
        url = self.base_url
        for name, value in placeholders.items():
            url = url.replace("{" + name + "}", value)
        return url

    def requests(self) -> list[dict[str, Any]]:
        """The request log (method, path, query, time, status, operation, model, faults)."""
        import httpx

        answer = httpx.get(f"{self.origin}/_imagewire/requests", headers=self.auth, timeout=10)
        answer.raise_for_status()
        entries: list[dict[str, Any]] = answer.json()["requests"]
        return entries

    def reset(self) -> None:
        """Forget the request log and the fault counters."""
        import httpx

        httpx.post(f"{self.origin}/_imagewire/reset", headers=self.auth, timeout=10).raise_for_status()

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM by PID, wait, SIGKILL if it does not exit in time; the exit status."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> Running:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _read_line(stream: IO[bytes], deadline: float) -> bytes | None:
    import selectors

    line = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                return None
            byte = os.read(stream.fileno(), 1)
            if not byte:
                return line or None
            if byte == b"\n":
                return line
            line += byte
    return None


def _auth(persona: str, api_key: str | None) -> dict[str, str]:
    """The header a persona's clients send the key in."""
    if api_key is None:
        return {}
    from imagewire.server.personas import persona as find_persona

    found = find_persona(persona)
    return {found.auth_header: f"Bearer {api_key}" if found.bearer else api_key}


def _drain(stream: IO[bytes]) -> None:
    try:
        while os.read(stream.fileno(), 65536):
            pass
    except (OSError, ValueError):
        pass


def start(
    persona: str = "local",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
    latency_ms: int = 0,
    faults: Sequence[str] = (),
    url_ttl: int = 3600,
    rate_limit: float | None = None,
) -> Running:
    """Start ``python -m imagewire.server`` and wait (at most ~10 s) until it answers."""
    import tempfile

    import httpx

    from imagewire.server.faults import parse_list

    faults = parse_list(faults)
    args = [
        sys.executable,
        "-m",
        "imagewire.server",
        "--host",
        host,
        "--port",
        str(port),
        "--provider",
        persona,
        "--latency",
        str(latency_ms),
        "--url-ttl",
        str(url_ttl),
    ]
    if faults:
        args += ["--faults", ",".join(faults)]
    if rate_limit:
        args += ["--rate-limit", str(rate_limit)]
    env = dict(os.environ)
    env.pop(KEY_ENV, None)
    if api_key is not None:
        env[KEY_ENV] = api_key
        args += ["--api-key-env", KEY_ENV]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the server answers or fails
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 10.0

    def fail(why: str) -> RuntimeError:
        if process.poll() is None:
            process.kill()
        process.wait(5)
        log.seek(0)
        tail = log.read()[-2000:].decode(errors="replace")
        log.close()
        if process.stdout is not None:
            process.stdout.close()
        return RuntimeError(f"imagewire serve did not start: {why}\n{tail}")

    assert process.stdout is not None
    line = _read_line(process.stdout, deadline)
    if line is None or _BANNER.encode() not in line:
        raise fail(f"no banner on stdout (got {line!r})")
    base_url = line.decode().split(_BANNER, 1)[1].rsplit(" (persona ", 1)[0].strip()
    threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
    running = Running(process.pid, base_url, process, _auth(persona, api_key))
    while True:
        try:
            if httpx.get(f"{running.origin}/_imagewire/health", timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise fail("it did not answer in time" if process.poll() is None else f"it exited ({process.returncode})")
        time.sleep(0.05)
    log.close()
    return running
