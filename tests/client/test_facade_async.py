"""AsyncClient: the same facade with ``await`` (each test runs its own event loop with asyncio.run)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from support.client import (
    JPEG,
    KEY,
    PNG,
    PNG_B,
    AsyncSleeps,
    Server,
    astreaming,
    async_client,
    b64,
    error_body,
    images_body,
    json_response,
    ok_b64,
    sse,
    sse_response,
)

IMG = "https://files.example-cdn.test"


def test_generate_b64() -> None:
    from imagewire_client import AsyncClient, ImagesResponse

    async def main() -> ImagesResponse:
        async with async_client(server) as c:
            assert isinstance(c, AsyncClient)
            return await c.images.generate(model="gpt-image-1.5", prompt="p", size="1024x1024")

    server = Server(ok_b64())
    result = asyncio.run(main())
    assert isinstance(result, ImagesResponse)
    assert server.json() == {"model": "gpt-image-1.5", "prompt": "p", "size": "1024x1024"}
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_generate_url_and_acontent_downloads_without_credentials() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, content=JPEG)
        return json_response(images_body({"url": f"{IMG}/a.jpg", "revised_prompt": "an alpaca"}))

    async def main() -> bytes:
        c = async_client(server)
        result = await c.images.generate(model="gpt-image-1.5", prompt="p")
        assert result.data[0].revised_prompt == "an alpaca"
        return await result.data[0].acontent()

    server = Server(handler)
    assert asyncio.run(main()) == JPEG
    download = server.requests[-1]
    assert download.method == "GET"
    assert "authorization" not in download.headers


def test_sync_content_on_an_async_url_image_says_what_to_do() -> None:
    async def main():  # type: ignore[no-untyped-def]
        c = async_client(Server(json_response(images_body({"url": f"{IMG}/a.png"}))))
        return await c.images.generate(model="gpt-image-1.5", prompt="p")

    result = asyncio.run(main())
    with pytest.raises(RuntimeError, match="acontent"):
        result.data[0].content()


def test_one_retry_with_an_async_sleep_recorder() -> None:
    sleeps = AsyncSleeps()

    async def main() -> None:
        c = async_client(server, sleep=sleeps)
        await c.images.generate(model="gpt-image-1.5", prompt="p")

    server = Server(
        json_response(error_body("slow down", "requests", "rate_limit_exceeded"), 429, {"retry-after": "2"}), ok_b64()
    )
    asyncio.run(main())
    assert server.count == 2
    assert sleeps == [2.0]


def test_connect_error_retried_then_read_timeout_not() -> None:
    from imagewire_client import APITimeoutError

    async def main() -> None:
        c = async_client(server)
        with pytest.raises(APITimeoutError):
            await c.images.generate(model="gpt-image-1.5", prompt="p")
        assert len(c.sleeps) == 1

    server = Server(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok_b64())
    asyncio.run(main())
    assert server.count == 2


def test_error_class() -> None:
    from imagewire_client import QuotaExceededError

    async def main() -> None:
        c = async_client(server)
        with pytest.raises(QuotaExceededError) as info:
            await c.images.generate(model="gpt-image-1.5", prompt="p")
        assert info.value.status_code == 429

    server = Server(
        json_response(error_body("You exceeded your current quota", "insufficient_quota", "insufficient_quota"), 429)
    )
    asyncio.run(main())
    assert server.count == 1


def test_validation_error_sends_nothing() -> None:
    from imagewire_client import ValidationError

    async def main() -> None:
        c = async_client(server)
        with pytest.raises(ValidationError):
            await c.images.generate(model="gpt-image-1.5", prompt="p", style="natural")

    server = Server(ok_b64())
    asyncio.run(main())
    assert server.count == 0


def test_stream_with_async_for() -> None:
    from imagewire_client import AsyncStream, ImageGenCompletedEvent, ImageGenPartialImageEvent

    events = [
        {"type": "image_generation.partial_image", "b64_json": b64(PNG_B), "partial_image_index": 0},
        {"type": "image_generation.completed", "b64_json": b64(PNG)},
    ]

    async def main() -> list:
        c = async_client(server)
        stream = await c.images.generate(model="gpt-image-1.5", prompt="p", stream=True, partial_images=1)
        assert isinstance(stream, AsyncStream)
        got = []
        async for event in stream:
            got.append(event)
        assert stream.response.is_closed
        return got

    server = Server(sse_response(sse(*events, comments=True, done=True)))
    got = asyncio.run(main())
    assert [type(e) for e in got] == [ImageGenPartialImageEvent, ImageGenCompletedEvent]
    assert got[-1].content() == PNG


def test_async_stream_dropped_mid_way() -> None:
    from imagewire_client import APIConnectionError

    first = sse({"type": "image_generation.partial_image", "b64_json": b64(PNG_B), "partial_image_index": 0})

    async def main() -> int:
        c = async_client(server)
        stream = await c.images.generate(model="gpt-image-1.5", prompt="p", stream=True)
        got = 0
        with pytest.raises(APIConnectionError):
            async for _ in stream:
                got += 1
        return got

    server = Server(lambda _: astreaming([first, b"data: {"], fail=httpx.ReadError("reset by peer")))
    assert asyncio.run(main()) == 1


def test_async_stream_error_event() -> None:
    from imagewire_client import ContentPolicyError

    async def main() -> None:
        c = async_client(server)
        stream = await c.images.generate(model="gpt-image-1.5", prompt="p", stream=True)
        with pytest.raises(ContentPolicyError):
            async for _ in stream:
                pass

    event = {"type": "error", "error": {"code": "moderation_blocked", "message": "rejected"}}
    server = Server(sse_response(sse(event, event_lines=False)))
    asyncio.run(main())


def test_asave(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, content=JPEG)
        return json_response(images_body({"b64_json": b64(PNG)}, {"url": f"{IMG}/b.jpg"}))

    async def main() -> list[Path]:
        c = async_client(server)
        result = await c.images.generate(model="gpt-image-1.5", prompt="p")
        first = await result.asave(tmp_path)
        again = await result.asave(tmp_path)
        assert first == again
        return first

    server = Server(handler)
    paths = asyncio.run(main())
    assert [p.suffix for p in paths] == [".png", ".jpg"]
    assert [p.read_bytes() for p in paths] == [PNG, JPEG]
    assert all("authorization" not in r.headers for r in server.requests if r.method == "GET")


def test_async_multipart_edit() -> None:
    from support.client import parse_multipart

    async def main() -> None:
        c = async_client(server)
        await c.images.edit(model="gpt-image-1.5", prompt="p", image=[PNG, JPEG])

    server = Server(ok_b64())
    asyncio.run(main())
    parts = parse_multipart(server.requests[0])
    assert [p["name"] for p in parts if p["filename"]] == ["image[]", "image[]"]
