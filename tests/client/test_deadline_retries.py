"""The whole-call deadline around retries, on a clock the injected sleep moves forward: a retry whose wait
would pass the deadline is not made (the last error is raised at once, saying why), and nothing is sent
once the deadline has passed. Sockets that drip their headers: tests/hostile."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from support.client import Server, async_client, client, error_body, json_response, ok_b64

from imagewire_client import APIConnectionError, APITimeoutError, RateLimitError

RATE = error_body("Rate limit reached", "requests", "rate_limit_exceeded")


class Clock:
    """The time as the call's deadline sees it; the sleeps below move it on."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Waits(list[float]):
    """A sleep that records each wait and moves the clock on by it (plus ``late``: a process paused)."""

    def __init__(self, clock: Clock, late: float = 0.0) -> None:
        super().__init__()
        self.clock, self.late = clock, late

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.clock.now += seconds + self.late

    def __bool__(self) -> bool:
        return True


class AsyncWaits(Waits):
    async def __call__(self, seconds: float) -> None:  # type: ignore[override]
        super().__call__(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import imagewire_client._base_client as base
    from imagewire_client._guard import Deadline

    now = Clock()
    monkeypatch.setattr(base, "Deadline", lambda seconds: Deadline(seconds, clock=now))
    return now


def gen(c: Any) -> Any:
    return c.images.generate(model="gpt-image-1.5", prompt="p")


def test_a_retry_after_longer_than_the_deadline_is_not_waited_for(clock: Clock) -> None:
    server = Server(json_response(RATE, 429, {"retry-after": "30"}), ok_b64())
    waits = Waits(clock)
    with pytest.raises(RateLimitError) as caught:
        gen(client(server, sleep=waits, deadline=10.0, max_retries=2))
    assert server.count == 1
    assert waits == []
    assert any("would pass the call's deadline of 10 s" in note for note in caught.value.__notes__)


def test_retries_stop_at_the_last_one_that_fits_the_deadline(clock: Clock) -> None:
    server = Server(json_response(RATE, 429, {"retry-after": "4"}))
    waits = Waits(clock)
    with pytest.raises(RateLimitError):
        gen(client(server, sleep=waits, deadline=10.0, max_retries=5))
    assert waits == [4.0, 4.0]  # sent at 0, 4 and 8 s; a third wait would end at 12 s
    assert server.count == 3


def test_nothing_is_sent_once_the_deadline_has_passed(clock: Clock) -> None:
    server = Server(json_response(RATE, 429, {"retry-after": "4"}), ok_b64())
    waits = Waits(clock, late=2.0)  # the wait of 4 s ends 6 s later, past the 5 s deadline
    with pytest.raises(APITimeoutError, match="deadline of 5 s"):
        gen(client(server, sleep=waits, deadline=5.0, max_retries=2))
    assert waits == [4.0]
    assert server.count == 1


def test_a_backoff_past_the_deadline_is_not_waited_for(clock: Clock) -> None:
    server = Server(httpx.ConnectError("refused"), ok_b64())
    waits = Waits(clock)
    with pytest.raises(APIConnectionError) as caught:  # the first backoff is 0.375 s at least
        gen(client(server, sleep=waits, deadline=0.2, max_retries=2))
    assert server.count == 1
    assert waits == []
    assert any("deadline" in note for note in caught.value.__notes__)


def test_async_a_retry_after_longer_than_the_deadline_is_not_waited_for(clock: Clock) -> None:
    server = Server(json_response(RATE, 429, {"retry-after": "30"}), ok_b64())
    waits = AsyncWaits(clock)

    async def main() -> None:
        async with async_client(server, sleep=waits, deadline=10.0, max_retries=2) as c:
            await gen(c)

    with pytest.raises(RateLimitError):
        asyncio.run(main())
    assert server.count == 1
    assert waits == []


def test_async_nothing_is_sent_once_the_deadline_has_passed(clock: Clock) -> None:
    server = Server(json_response(RATE, 429, {"retry-after": "4"}), ok_b64())
    waits = AsyncWaits(clock, late=2.0)

    async def main() -> None:
        async with async_client(server, sleep=waits, deadline=5.0, max_retries=2) as c:
            await gen(c)

    with pytest.raises(APITimeoutError, match="deadline of 5 s"):
        asyncio.run(main())
    assert waits == [4.0]
    assert server.count == 1
