"""Limits of the reference provider: concurrent requests (429 the OpenAI way), the time to send a body (408),
uploads parsed as they arrive and refused past the size limit (413)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from support.server import KEY, picture

from imagewire.server import make_app

AUTH = {"Authorization": f"Bearer {KEY}"}
BODY = {"model": "dall-e-2", "prompt": "p", "size": "256x256"}
URL = "http://imagewire.test/v1/images/generations"


def _run(app_options: dict[str, object], scenario: object) -> None:
    async def run() -> None:
        app = make_app("local", api_key=KEY, **app_options)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=30) as http:
            await scenario(http)  # type: ignore[operator]

    asyncio.run(asyncio.wait_for(run(), 60))


def test_requests_past_the_concurrency_cap_are_answered_429_the_openai_way() -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        answers = await asyncio.gather(*(http.post(URL, json=BODY, headers=AUTH) for _ in range(5)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 200, 429, 429, 429]
        busy = next(a for a in answers if a.status_code == 429)
        assert busy.json()["error"]["code"] == "rate_limit_exceeded"
        assert busy.json()["error"]["type"] == "requests"
        assert busy.headers["retry-after"] == "1"
        assert (await http.post(URL, json=BODY, headers=AUTH)).status_code == 200  # the slots are free again

    _run({"max_concurrent": 2, "latency_ms": 300}, scenario)


def test_a_body_sent_too_slowly_is_answered_408() -> None:
    async def slow() -> AsyncIterator[bytes]:
        yield b'{"model": "dall-e-2", '
        await asyncio.sleep(2)
        yield b'"prompt": "p"}'

    async def scenario(http: httpx.AsyncClient) -> None:
        started = asyncio.get_running_loop().time()
        headers = {**AUTH, "Content-Type": "application/json"}
        answer = await http.post(URL, content=slow(), headers=headers)
        assert answer.status_code == 408 and answer.json()["error"]["code"] == "timeout"
        assert asyncio.get_running_loop().time() - started < 1.5

    _run({"body_timeout": 0.3}, scenario)


def test_an_upload_past_the_limit_is_refused_while_it_arrives() -> None:
    sent = 0

    async def big() -> AsyncIterator[bytes]:
        nonlocal sent
        boundary = b"--x\r\n"
        yield boundary + b'Content-Disposition: form-data; name="prompt"\r\n\r\np\r\n'
        yield boundary + b'Content-Disposition: form-data; name="image"; filename="a.png"\r\n'
        yield b"Content-Type: image/png\r\n\r\n" + picture()
        for _ in range(64):
            sent += 1
            yield bytes(64 * 1024)
        yield b"\r\n--x--\r\n"

    async def scenario(http: httpx.AsyncClient) -> None:
        headers = {**AUTH, "Content-Type": "multipart/form-data; boundary=x"}
        answer = await http.post(URL.replace("generations", "edits"), content=big(), headers=headers)
        assert answer.status_code == 413, answer.text
        assert sent < 64  # refused before the whole body was sent

    _run({"max_body_bytes": 1024 * 1024}, scenario)
