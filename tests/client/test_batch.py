"""``client.images.batch``: the client's own fan-out against a loopback reference provider."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from imagewire.server import Running, start
from imagewire_client import AsyncClient, Client, ContentPolicyError
from imagewire_client.batch import BatchRequest, BatchResult, Limiter, image_bytes

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"}


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    with start("local", latency_ms=50) as running:
        yield running


@pytest.fixture(scope="module")
def limited() -> Iterator[Running]:
    with start("local", rate_limit=20) as running:
        yield running


def _sends(server: Running) -> list[dict[str, Any]]:
    return [e for e in server.requests() if str(e["path"]).endswith("/images/generations")]


def _requests(count: int, **fields: Any) -> list[dict[str, Any]]:
    return [{"id": f"r{k}", "prompt": f"A crane number {k}", **SMALL, **fields} for k in range(count)]


async def _collect(client: AsyncClient, requests: Any, **options: Any) -> list[BatchResult]:
    return [result async for result in client.images.batch(requests, **options)]


def test_async_batch_yields_every_request_once_with_its_answer_within_the_concurrency(server: Running) -> None:
    server.reset()
    flight = {"now": 0, "most": 0}

    def before_send(request: BatchRequest) -> None:
        flight["now"] += 1
        flight["most"] = max(flight["most"], flight["now"])

    def after_answer(result: BatchResult) -> str:
        flight["now"] -= 1
        return f"seen {result.id}"

    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url=server.base_url) as client:
            results = await _collect(
                client, _requests(9), concurrency=3, before_send=before_send, after_answer=after_answer
            )
            for result in results:
                assert all(blob.startswith(PNG) for blob in await result.aimages())
            return results

    results = asyncio.run(go())
    assert sorted(r.index for r in results) == list(range(9))
    assert {r.id for r in results} == {f"r{k}" for k in range(9)}
    assert all(r.ok and r.outcome == "done" and r.sends == 1 for r in results)
    assert all(r.value == f"seen {r.id}" for r in results)
    assert all(r.answer.data[0].b64_json for r in results)  # the typed answer
    assert flight["most"] == 3
    assert len(_sends(server)) == 9


def test_ids_default_to_the_index_and_a_typed_error_stays_with_its_request(server: Running) -> None:
    server.reset()
    requests: list[dict[str, Any]] = [
        {"prompt": "A fox", **SMALL},
        {"prompt": "A refused fox", **SMALL, "extra_headers": {"X-Imagewire-Fault": "moderation_blocked"}},
        {"operation": "generate", "prompt": "An owl", **SMALL},
    ]

    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url=server.base_url) as client:
            return await _collect(client, requests, concurrency=2)

    results = {r.id: r for r in asyncio.run(go())}
    assert set(results) == {"0", "1", "2"}
    assert results["0"].ok and results["2"].ok
    refused = results["1"]
    assert isinstance(refused.error, ContentPolicyError) and refused.outcome == "failed" and refused.answer is None
    assert refused.sends == 1  # a refused prompt is not retried


def test_raw_answers_are_checked_json_and_their_images_decode(server: Running) -> None:
    server.reset()

    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url=server.base_url) as client:
            return await _collect(client, _requests(3), raw=True)

    results = asyncio.run(go())
    for result in results:
        assert isinstance(result.answer, dict)
        blob = image_bytes(result.answer["data"][0])
        assert blob is not None and blob.startswith(PNG)


def test_a_429_past_the_retries_is_waited_out_and_the_limiter_closes(server: Running) -> None:
    server.reset()
    limiter = Limiter()
    request = {"id": "limited", "prompt": "A crane", **SMALL}
    request["extra_headers"] = {"X-Imagewire-Fault": "rate-limit;times=2"}

    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url=server.base_url, max_retries=0) as client:
            return await _collect(client, [request], limiter=limiter)

    (result,) = asyncio.run(go())
    assert result.ok and result.sends == 3
    assert limiter.limited == 2 and limiter.closed_until > 0
    assert [e["status"] for e in _sends(server)] == [429, 429, 200]


def test_the_limiter_learns_the_providers_rate_and_no_request_fails(limited: Running) -> None:
    limited.reset()
    limiter = Limiter()

    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url=limited.base_url) as client:
            return await _collect(client, _requests(30), concurrency=16, limiter=limiter)

    results = asyncio.run(go())
    assert all(r.ok for r in results)
    assert limiter.learned and limiter.rate == pytest.approx(20.0, rel=0.2)


def test_a_request_generator_that_stops_stops_the_scheduling(server: Running) -> None:
    server.reset()
    finished: list[str] = []

    def requests() -> Iterator[dict[str, Any]]:
        for request in _requests(10):
            if len(finished) >= 2:
                return
            yield request

    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url=server.base_url) as client:
            return await _collect(
                client, requests(), concurrency=1, after_answer=lambda result: finished.append(result.id)
            )

    results = asyncio.run(go())
    assert [r.id for r in results] == ["r0", "r1"]
    assert len(_sends(server)) == 2


def test_what_after_answer_raises_becomes_the_error_and_the_batch_goes_on(server: Running) -> None:
    server.reset()

    async def after_answer(result: BatchResult) -> None:
        if result.index == 1:
            raise OSError("disk full")

    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url=server.base_url) as client:
            return await _collect(client, _requests(3), after_answer=after_answer)

    results = {r.index: r for r in asyncio.run(go())}
    assert isinstance(results[1].error, OSError) and results[1].answer is not None
    assert results[0].ok and results[2].ok


def test_an_unreachable_provider_is_unsent_for_every_request() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1) as client:
            return await _collect(client, _requests(2))

    results = asyncio.run(go())
    assert [r.outcome for r in results] == ["unsent", "unsent"]
    assert all(r.sends == 2 for r in results)


def test_an_unknown_operation_is_refused() -> None:
    async def go() -> list[BatchResult]:
        async with AsyncClient(provider="local", base_url="http://127.0.0.1:9/v1") as client:
            return await _collect(client, [{"operation": "paint", "prompt": "x"}])

    with pytest.raises(ValueError, match="unknown operation 'paint'"):
        asyncio.run(go())


def test_sync_batch_runs_on_threads_and_yields_as_they_complete(server: Running) -> None:
    server.reset()
    threads: set[str] = set()

    def after_answer(result: BatchResult) -> int:
        threads.add(threading.current_thread().name)
        return len(result.images()[0])

    with Client(provider="local", base_url=server.base_url) as client:
        results = list(client.images.batch(_requests(6), concurrency=3, after_answer=after_answer))
    assert sorted(r.index for r in results) == list(range(6))
    assert all(r.ok and r.value > 0 for r in results)
    assert threads and all(name.startswith("imagewire-batch") for name in threads)
    assert len(_sends(server)) == 6


def test_sync_batch_refuses_a_coroutine_hook() -> None:
    async def after_answer(result: BatchResult) -> None:
        return None

    with Client(provider="local", base_url="http://127.0.0.1:9/v1") as client, pytest.raises(TypeError):
        list(client.images.batch(_requests(1), after_answer=after_answer))
