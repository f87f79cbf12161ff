"""The transport's guards (issue 12), on requests caught by ``httpx.MockTransport``: redirects stay within the
call's origin (sync and async), answers are read within their limits after decoding, the answer's image
count is bounded, the Retry-After cap is an option. Deadlines around retries: test_deadline_retries.py;
real sockets, proxies and private addresses: test_download_proxy.py and tests/hostile."""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from imagewire_client import APIStatusError, AsyncClient, Client, ResponseContractError, ResponseTooLargeError

KEY = "sk-guards-0123456789abcdef"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
ANSWER = {"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode()}]}
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, **options: object) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Client(api_key=KEY, base_url="https://relay.example/v1", http_client=http, max_retries=0, **options)  # type: ignore[arg-type]


def gzip_bomb(megabytes: int) -> bytes:
    engine = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [engine.compress(b'{"created": 1, "data": [{"b64_json": "')]
    parts += [engine.compress(b"A" * 1024 * 1024) for _ in range(megabytes)]
    return b"".join([*parts, engine.flush()])


def async_client(handler: Handler, **options: object) -> AsyncClient:
    async def answer(request: httpx.Request) -> httpx.Response:
        return handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return AsyncClient(api_key=KEY, base_url="https://relay.example/v1", http_client=http, max_retries=0, **options)  # type: ignore[arg-type]


def generate(handler: Handler, asynchronous: bool, **options: object) -> Any:
    """One generation with a Client or an AsyncClient over ``handler``."""
    if asynchronous:
        return asyncio.run(async_client(handler, **options).images.generate(model="gpt-image-1.5", prompt="p"))
    return client(handler, **options).images.generate(model="gpt-image-1.5", prompt="p")


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_redirect_to_another_origin_is_refused_and_nothing_is_sent_there(asynchronous: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(307, headers={"Location": "https://elsewhere.example/v1/images/generations"})

    with pytest.raises(APIStatusError) as caught:
        generate(handler, asynchronous, organization="org-x", default_headers={"X-Custom-Auth": KEY})
    assert caught.value.status_code == 307
    assert "another origin" in str(caught.value)
    assert [r.url.host for r in seen] == ["relay.example"]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_redirect_within_the_origin_is_followed_with_the_same_request(asynchronous: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.startswith("/v1/"):
            return httpx.Response(308, headers={"Location": "/v2/images/generations"})
        return httpx.Response(200, json=ANSWER)

    result = generate(handler, asynchronous)
    assert len(result.data) == 1
    assert [r.url.path for r in seen] == ["/v1/images/generations", "/v2/images/generations"]
    assert seen[1].content == seen[0].content
    assert seen[1].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_303_within_the_origin_is_refused_too(asynchronous: bool) -> None:
    """Only 307/308 keep the method and the body."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(303, headers={"Location": "/v1/elsewhere"})

    with pytest.raises(APIStatusError):
        generate(handler, asynchronous)
    assert len(seen) == 1


def test_a_gzip_bomb_stops_at_the_answer_limit() -> None:
    bomb = gzip_bomb(64)

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(bomb))

    with pytest.raises(ResponseTooLargeError) as caught:
        client(handler, max_answer_bytes=1024 * 1024).images.generate(model="gpt-image-1.5", prompt="p")
    assert caught.value.limit == 1024 * 1024
    assert isinstance(caught.value, ResponseContractError)


def test_an_async_answer_over_the_limit_is_refused() -> None:
    body = json.dumps(ANSWER).encode()

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "application/json"}, content=body)

    async def main() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        c = AsyncClient(
            api_key=KEY, base_url="https://relay.example/v1", http_client=http, max_retries=0, max_answer_bytes=10
        )
        with pytest.raises(ResponseTooLargeError):
            await c.images.generate(model="gpt-image-1.5", prompt="p")

    asyncio.run(main())


def test_more_images_than_asked_for_are_refused() -> None:
    many = {"created": 1, "data": ANSWER["data"] * 11}  # type: ignore[operator]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=many)

    with pytest.raises(ResponseContractError, match="11 images"):
        client(handler).images.generate(model="gpt-image-1.5", prompt="p")
    assert len(client(handler, max_images=11).images.generate(model="gpt-image-1.5", prompt="p").data) == 11


def test_the_retry_after_cap_and_the_deadline_are_options() -> None:
    c = client(lambda request: httpx.Response(200, json=ANSWER), retry_after_cap=5.0, timeout=3.0)
    assert c._policy.retry_after_cap == 5.0
    assert c.deadline == 6.0
    assert client(lambda request: httpx.Response(200, json=ANSWER), deadline=1.5).deadline == 1.5
