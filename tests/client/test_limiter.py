"""The batch's adaptive limiter (fed by x-ratelimit-* and 429s) and the reference provider's --rate-limit bucket."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from imagewire.server.ratelimit import Bucket
from imagewire_client.batch import Limiter, parse_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("0.350s", 0.35),
        ("1h2m", 3720.0),
        ("2", 2.0),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_open_until_the_provider_says_something() -> None:
    limiter = Limiter(clock=Clock())
    assert [limiter.wait_time() for _ in range(100)] == [0.0] * 100


def test_rate_from_headers_and_remaining_caps_the_bucket() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    # OpenAI's shape: 500 a minute, one used, full again in 120 ms -> 1 / 0.12 s = 8.3 a second
    limiter.observe(
        200,
        {
            "x-ratelimit-limit-requests": "500",
            "x-ratelimit-remaining-requests": "499",
            "x-ratelimit-reset-requests": "120ms",
        },
    )
    assert limiter.rate == pytest.approx(500 / 60, rel=0.01)
    limiter.observe(
        200,
        {"x-ratelimit-limit-requests": "20", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s"},
    )
    assert limiter.rate == pytest.approx(20.0)
    assert limiter.wait_time() == pytest.approx(0.05)  # no tokens left: one refill interval


def test_a_429_closes_the_limiter_and_no_burst_follows() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    for _ in range(30):  # a burst while nothing is known
        assert limiter.wait_time() == 0.0
        limiter._note_send()
    limiter.observe(429, {"retry-after-ms": "400"})
    assert limiter.rate == pytest.approx(15.0)  # half the rate of the last second
    assert limiter.wait_time() == pytest.approx(0.4)
    clock.now += 0.4
    sends = 0
    while clock.now < 101.4:  # the second after the pause: paced, one token at a time
        wait = limiter.wait_time()
        if wait == 0.0:
            sends += 1
        else:
            clock.now += wait
    assert sends <= 16


def test_acquire_spaces_sends_evenly() -> None:
    async def run() -> list[float]:
        limiter = Limiter(rate=50.0)
        loop = asyncio.get_running_loop()
        times: list[float] = []

        async def one() -> None:
            await limiter.acquire()
            times.append(loop.time())

        await asyncio.gather(*(one() for _ in range(11)))
        return times

    times = asyncio.run(run())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(gaps) == pytest.approx(0.2, abs=0.06)  # 10 intervals of 20 ms
    assert min(gaps) > 0.01


def test_server_bucket_headers_describe_its_rate() -> None:
    clock = Clock()
    bucket = Bucket(20, clock=clock)
    assert all(bucket.take() for _ in range(20)) and not bucket.take()
    headers = dict(bucket.headers())
    assert headers == {
        b"x-ratelimit-limit-requests": b"20",
        b"x-ratelimit-remaining-requests": b"0",
        b"x-ratelimit-reset-requests": b"1.000s",
    }
    assert bucket.wait() == pytest.approx(0.05)
    clock.now += 0.05
    assert bucket.take()
    # the client's reading of these headers gives the bucket's rate back
    limiter = Limiter(clock=clock)
    limiter.observe(429, {k.decode(): v.decode() for k, v in headers.items()})
    assert limiter.rate == pytest.approx(20.0)


def test_acquire_sync_spaces_threads_evenly() -> None:
    import threading
    import time

    limiter = Limiter(rate=50.0)
    times: list[float] = []

    def one() -> None:
        limiter.acquire_sync()
        times.append(time.monotonic())

    threads = [threading.Thread(target=one) for _ in range(11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(gaps) == pytest.approx(0.2, abs=0.06)
    assert min(gaps) > 0.01
