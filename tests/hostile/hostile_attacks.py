"""Attacks on the reference provider, run from the harness's process while the server (the child) is measured.
Each takes the server's port and returns (what came back, detail)."""

from __future__ import annotations

import socket
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

KEY = "sk-hostile-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
MB = 1024 * 1024


def _answer(response: httpx.Response) -> str:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    return f"{response.status_code} {code}" if code else str(response.status_code)


def _tally(answers: list[str]) -> tuple[str | None, str]:
    counts = Counter(answers)
    refusals = sorted(a for a in counts if not a.startswith("200"))
    return (refusals[0] if refusals else None), ", ".join(f"{n} x {a}" for a, n in sorted(counts.items()))


def uploads(port: int, *, count: int = 6, size: int = 100 * MB) -> tuple[str | None, str]:
    """Six concurrent edits, each uploading a 100 MB file (within the 128 MB body limit, past the model's
    50 MB per image): 600 MB in all."""
    data = b"\x89PNG\r\n\x1a\n" + bytes(size)

    def one(_: int) -> str:
        files = {"image": ("a.png", data, "image/png")}
        form = {"prompt": "p", "model": "gpt-image-1.5"}
        url = f"http://127.0.0.1:{port}/v1/images/edits"
        return _answer(httpx.post(url, data=form, files=files, headers=AUTH, timeout=30))

    with ThreadPoolExecutor(count) as pool:
        return _tally(list(pool.map(one, range(count))))


def uploads_read(port: int) -> tuple[str | None, str]:
    """Six concurrent edits, each uploading a 12 MB file (within every limit, so each is read): 72 MB in all."""
    return uploads(port, size=12 * MB)


def slow_body(port: int, *, give_up: float = 12.0) -> tuple[str | None, str]:
    """A JSON body announced whole, sent one byte a second."""
    body = b'{"model": "dall-e-2", "prompt": "a slow request body"}'
    head = (
        f"POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(head.encode())
        for byte in body:
            try:
                sock.sendall(bytes([byte]))
                answer = sock.recv(4096)
            except TimeoutError:
                answer = b""
            except OSError:
                return "closed", f"connection closed after {time.monotonic() - started:.1f} s"
            if answer:
                status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
                return status.split(" ")[1], f"{status} after {time.monotonic() - started:.1f} s"
            if time.monotonic() - started > give_up:
                return None, f"still reading after {give_up:.0f} s"
    return None, "the whole body was read"


def crowd(port: int, *, count: int = 20) -> tuple[str | None, str]:
    """Twenty requests at once (the server runs with a 4-request cap and 500 ms latency)."""
    body = {"model": "dall-e-2", "prompt": "p", "size": "256x256", "response_format": "b64_json"}

    def one(_: int) -> str:
        url = f"http://127.0.0.1:{port}/v1/images/generations"
        return _answer(httpx.post(url, json=body, headers=AUTH, timeout=30))

    with ThreadPoolExecutor(count) as pool:
        return _tally(list(pool.map(one, range(count))))


def control_without_key(port: int) -> tuple[str | None, str]:
    """The control endpoints, asked without the key."""
    origin = f"http://127.0.0.1:{port}"
    answers = [
        _answer(httpx.get(f"{origin}/_imagewire/requests", timeout=10)),
        _answer(httpx.post(f"{origin}/_imagewire/reset", timeout=10)),
    ]
    return _tally(answers)


@dataclass(frozen=True)
class Attack:
    """A case against the server: the attack, the server's options (older servers ignore those they lack),
    the answer expected, and the bounds (peak RSS of the server; seconds the attack may take, the server's
    start-up not counted)."""

    run: Callable[[int], tuple[str | None, str]]
    error: str
    rss_mb: float
    seconds: float
    options: dict[str, Any] = field(default_factory=dict)


BASE = {"api_key": KEY}
ATTACKS = {
    # the uploads are spooled to disk as they arrive and refused by their size: the bound is the 120 MB of
    # the cases that upload nothing (2 x the 128 MB limit + 50 MB would be 306 MB)
    "server-uploads": Attack(uploads, "413 file_too_large", 120, 25, {**BASE, "max_body_bytes": 128 * MB}),
    # files within the limits are read into memory once: twice the 72 MB they hold, plus 50 MB
    "server-uploads-read": Attack(
        uploads_read, "400 invalid_image", 2 * 72 + 50, 15, {**BASE, "max_body_bytes": 16 * MB}
    ),
    # the deadline: a 2 s body timeout, plus 2 s
    "server-slow-body": Attack(slow_body, "408", 120, 2 + 2, {**BASE, "body_timeout": 2.0}),
    "server-crowd": Attack(crowd, "429 rate_limit_exceeded", 120, 15, {**BASE, "max_concurrent": 4, "latency_ms": 500}),
    "server-control-without-key": Attack(control_without_key, "401 invalid_api_key", 120, 10, BASE),
}


# ---------------------------------------------------------------- the client against hostile servers


@dataclass(frozen=True)
class Hostile:
    """A case of the client against a hostile server: the server's behaviour and options, the error expected
    (its class name), the limit configured (the RSS bound is twice it plus 50 MB) and, for deadline cases,
    the deadline (the case must end within it plus 2 s); ``requests`` and ``connections``: how many requests
    the hostile server receives, and on how many connections (None: not counted)."""

    behavior: str
    error: str
    limit: int = 8 * MB
    deadline: float = 4.0
    options: dict[str, Any] = field(default_factory=dict)
    requests: int | None = None
    connections: int | None = None


_LOOPBACK_IMAGE = {"url": "http://127.0.0.1:9/internal/metadata"}
CLIENT = {
    "client-gzip-json": Hostile("gzip-json", "ResponseTooLargeError"),
    "client-gzip-error": Hostile("gzip-error", "ResponseTooLargeError"),
    # brotli and zstd bombs (run where brotli >= 1.2 and zstandard are installed; httpx then asks for them)
    "client-br-json": Hostile("br-json", "ResponseTooLargeError", options={"megabytes": 512}),
    "client-zstd-json": Hostile("zstd-json", "ResponseTooLargeError", options={"megabytes": 512}),
    "client-huge-body": Hostile("huge-body", "ResponseTooLargeError"),
    "client-slow-body": Hostile("slow-body", "APITimeoutError"),
    "client-slow-headers": Hostile("slow-headers", "APITimeoutError"),
    "client-sse-big-event": Hostile("sse-big-event", "ResponseTooLargeError"),
    "client-sse-keepalive": Hostile("sse-keepalive", "APITimeoutError"),
    # 20,000 images (2.3 MB of JSON) stay within the 8 MB answer limit, so the image count is what refuses them
    "client-many-images": Hostile("many-images", "ResponseContractError", options={"count": 20_000}),
    "client-not-an-image": Hostile("not-an-image", "ResponseContractError"),
    # a literal private address is refused before anything is sent: the API call is the one request
    "client-private-url": Hostile("private-url", "ResponseContractError", requests=1),
    "client-redirect": Hostile("redirect", "APIStatusError"),
    # two calls on one keep-alive connection, the second's headers sent a byte a second
    "client-keepalive-slow-headers": Hostile("keepalive-slow-headers", "APITimeoutError", requests=2, connections=1),
    # Retry-After: 30 against a 4 s deadline: no wait past the deadline, no second request
    "client-retry-after": Hostile("retry-after", "RateLimitError", requests=1),
    # the server is the client's HTTP proxy: only the API call reaches it, the loopback image URL does not
    "client-proxy-private-url": Hostile("proxy", "ResponseContractError", requests=1, options=_LOOPBACK_IMAGE),
    "client-async-slow-body": Hostile("slow-body", "APITimeoutError"),
    "client-async-slow-headers": Hostile("slow-headers", "APITimeoutError"),
    "client-async-keepalive-slow-headers": Hostile(
        "keepalive-slow-headers", "APITimeoutError", requests=2, connections=1
    ),
    "client-async-sse-big-event": Hostile("sse-big-event", "ResponseTooLargeError"),
    "client-async-sse-keepalive": Hostile("sse-keepalive", "APITimeoutError"),
    "client-async-retry-after": Hostile("retry-after", "RateLimitError", requests=1),
    "client-async-private-url": Hostile("private-url", "ResponseContractError", requests=1),
    "client-async-proxy-private-url": Hostile("proxy", "ResponseContractError", requests=1, options=_LOOPBACK_IMAGE),
    "client-async-redirect": Hostile("redirect", "APIStatusError"),
}
