"""The adaptive rate limiter: a token bucket fed by ``x-ratelimit-*`` headers and by 429 answers.

Every send waits for a token (:meth:`Limiter.acquire`), in arrival order, so requests leave evenly spaced
instead of in bursts. Until the provider says something the bucket is open (only the concurrency limits).

* ``x-ratelimit-limit-requests``, ``-remaining-requests`` and ``-reset-requests`` give the refill rate:
  the bucket refills ``limit`` tokens in a full period, so ``(limit - remaining) / reset`` tokens a second,
  and never holds more than ``remaining`` tokens the provider says are left.
* A 429 empties the bucket and closes it until ``retry-after-ms`` / ``retry-after`` (or one refill
  interval) has passed; without headers it halves the rate of the last second. So no burst follows a
  429: after it, requests leave one token interval apart. Without headers the rate then grows by 2 %
  an answer (additive probing) until the next 429.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Mapping

__all__ = ["Limiter", "parse_duration"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | None) -> float | None:
    """``1s``, ``6m0s``, ``20ms``, ``1.5`` (seconds) -> seconds; ``None`` when unreadable."""
    if not text:
        return None
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return sum(float(amount) * _UNITS[unit] for amount, unit in parts)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class Limiter:
    """Pace sends by what the provider says; ``rate`` (requests per second) may be given to start with."""

    def __init__(self, rate: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.rate = rate  # tokens a second; None: not limited
        self.capacity = 1.0 if rate else 0.0
        self.tokens = 1.0
        self.updated = clock()
        self.closed_until = 0.0
        self.learned = False  # the rate came from headers
        self.limited = 0  # 429 answers seen
        self.sends: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        if self.rate:
            self.tokens = min(max(self.capacity, 1.0), self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until the next send may go (0: now); takes the token when it is 0."""
        now = self.clock()
        if now < self.closed_until:
            return self.closed_until - now
        self._refill(now)
        if self.rate is None:
            return 0.0
        if self.tokens >= 1.0 - 1e-6:  # within rounding of a whole token
            self.tokens = max(0.0, self.tokens - 1.0)
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def acquire(self) -> None:
        """Wait for a token; callers are served in arrival order."""
        if self.rate is None and not self.closed_until and not self._lock.locked():
            self._note_send()
            return
        async with self._lock:
            while True:
                wait = self.wait_time()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
        self._note_send()

    def _note_send(self) -> None:
        now = self.clock()
        self.sends.append(now)
        while self.sends and self.sends[0] < now - 1.0:
            self.sends.popleft()

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Feed an answer's status and headers (lower-case names)."""
        now = self.clock()
        self._refill(now)
        limit = _int(headers.get("x-ratelimit-limit-requests"))
        remaining = _int(headers.get("x-ratelimit-remaining-requests"))
        reset = parse_duration(headers.get("x-ratelimit-reset-requests"))
        if limit is not None and remaining is not None and limit > 0:
            if reset and limit > remaining:
                self.rate = (limit - remaining) / reset
                self.learned = True
            elif self.rate is None and reset:
                self.rate = limit / reset
                self.learned = True
            if self.rate is not None:
                self.capacity = float(max(1, min(limit, remaining + 1)))
                self.tokens = min(self.tokens, float(remaining))
        if status == 429:
            self.limited += 1
            wait = _retry_after(headers)
            if not self.learned:
                recent = len(self.sends)
                base = self.rate if self.rate is not None else float(max(1, recent))
                self.rate = max(0.2, min(base, float(max(1, recent))) * 0.5)
            if wait is None:
                wait = 1.0 / self.rate if self.rate else 1.0
            self.tokens = 0.0
            self.closed_until = max(self.closed_until, now + wait)
        elif status < 400 and self.rate is not None and not self.learned and self.limited:
            self.rate *= 1.02


def _retry_after(headers: Mapping[str, str]) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    seconds = headers.get("retry-after")
    if seconds is not None:
        try:
            return max(0.0, float(seconds))
        except ValueError:
            return None
    return None
