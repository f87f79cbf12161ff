"""``--rate-limit N``: allow N image requests a second, answer 429 beyond, with OpenAI's rate-limit headers.

A token bucket holding at most N tokens, refilled at N a second; each request to an image operation takes
one. Every such answer carries ``x-ratelimit-limit-requests: N``, ``x-ratelimit-remaining-requests`` (whole
tokens left) and ``x-ratelimit-reset-requests`` (time until the bucket is full again, e.g. ``0.350s``); a
refused request gets 429 ``rate_limit_exceeded`` with ``retry-after-ms`` (until the next token) and
``retry-after`` (whole seconds, at least 1), before its body is read.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagewire.server.personas import Persona

__all__ = ["Bucket", "RateLimit"]


class Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``rate`` held (one second's worth)."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, float(rate))
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> bool:
        self._refill()
        if self.tokens >= 1.0 - 1e-9:  # within rounding of a whole token
            self.tokens = max(0.0, self.tokens - 1.0)
            return True
        return False

    def headers(self) -> list[tuple[bytes, bytes]]:
        limit = int(self.capacity)
        remaining = int(self.tokens)
        reset = (self.capacity - self.tokens) / self.rate
        return [
            (b"x-ratelimit-limit-requests", str(limit).encode()),
            (b"x-ratelimit-remaining-requests", str(remaining).encode()),
            (b"x-ratelimit-reset-requests", f"{reset:.3f}s".encode()),
        ]

    def wait(self) -> float:
        """Seconds until the next token."""
        return max(0.0, (1.0 - self.tokens) / self.rate)


class RateLimit:
    """ASGI middleware: the bucket in front of the persona's image operations (other routes pass freely)."""

    def __init__(self, app: ASGIApp, persona: Persona, rate: float | None) -> None:
        self.app = app
        self.persona = persona
        self.bucket = Bucket(rate) if rate else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bucket = self.bucket
        if bucket is None or scope["type"] != "http" or self.persona.match(str(scope.get("path", ""))) is None:
            await self.app(scope, receive, send)
            return
        if not bucket.take():
            wait = bucket.wait()
            entry = scope.get("imagewire.log")
            if isinstance(entry, dict):
                entry["faults"] = ["rate-limit"]
            body = json.dumps(
                {
                    "error": {
                        "message": f"Rate limit reached for images: limit {int(bucket.capacity)} requests per second. "
                        f"Please try again in {wait * 1000:.0f}ms.",
                        "type": "requests",
                        "param": None,
                        "code": "rate_limit_exceeded",
                    }
                }
            ).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after-ms", str(math.ceil(wait * 1000)).encode()),
                (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                *bucket.headers(),
            ]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *bucket.headers()]}
            await send(message)

        await self.app(scope, receive, with_headers)
