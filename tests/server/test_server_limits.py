"""Limits of the reference provider: concurrent requests (429 the OpenAI way), the time to send a body (408),
uploads parsed as they arrive and refused past the size limit (413), file parts spooled to disk and read
into memory only once their size passed the model's limit, text parts and part heads bounded."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from typing import ClassVar

import httpx
import pytest
from support.server import KEY, picture

from imagewire.server import make_app, reading

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


EDIT = URL.replace("generations", "edits")


def _form(*parts: tuple[bytes, bytes]) -> bytes:
    """A form body with boundary ``x``: (head, data) per part."""
    return b"".join(b"--x\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts) + b"--x--\r\n"


def _file(name: str, data: bytes) -> tuple[bytes, bytes]:
    head = f'Content-Disposition: form-data; name="{name}"; filename="{name}.png"\r\nContent-Type: image/png'
    return head.encode(), data


PROMPT = (b'Content-Disposition: form-data; name="prompt"', b"p")
DALL_E_2 = (b'Content-Disposition: form-data; name="model"', b"dall-e-2")
FORM = {**AUTH, "Content-Type": "multipart/form-data; boundary=x"}


class Spool(tempfile.SpooledTemporaryFile[bytes]):
    """The server's spools, recorded: how many bytes each had when it went to disk, and each closed."""

    made: ClassVar[list[Spool]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.rolled_at: int | None = None
        Spool.made.append(self)

    def rollover(self) -> None:
        if self.rolled_at is None:
            self.rolled_at = self.tell()
        super().rollover()


@pytest.fixture
def spools(monkeypatch: pytest.MonkeyPatch) -> list[Spool]:
    """The spools the server makes during the test."""
    Spool.made = []
    monkeypatch.setattr(reading.tempfile, "SpooledTemporaryFile", Spool)
    return Spool.made


def test_a_file_past_the_models_limit_is_spooled_to_disk_and_refused_unread(
    spools: list[Spool], monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    monkeypatch.setattr(reading.Received, "upload", lambda self: read.append(self.part))
    head, data = _file("image", picture() + bytes(5 * 1024 * 1024))  # past dall-e-2's 4 MiB, sent in 64 KiB pieces

    async def body() -> AsyncIterator[bytes]:
        yield _form(PROMPT, DALL_E_2).removesuffix(b"--x--\r\n") + b"--x\r\n" + head + b"\r\n\r\n"
        for at in range(0, len(data), 64 * 1024):
            yield data[at : at + 64 * 1024]
        yield b"\r\n--x--\r\n"

    async def scenario(http: httpx.AsyncClient) -> None:
        answer = await http.post(EDIT, content=body(), headers=FORM)
        assert answer.status_code == 413, answer.text
        assert answer.json()["error"]["code"] == "file_too_large"
        assert f"{len(data):,} bytes is too large" in answer.json()["error"]["message"]  # counted as it was spooled

    _run({"max_body_bytes": 8 * 1024 * 1024}, scenario)
    assert read == []  # never read into memory
    [spool] = spools
    # to disk once past the threshold (the piece that crossed it included), long before the 5 MB were in
    assert spool.rolled_at is not None and spool.rolled_at < reading.SPOOL_BYTES + 128 * 1024
    assert spool.closed  # deleted once answered


def test_files_within_the_limits_are_read_once_and_their_spools_deleted(spools: list[Spool]) -> None:
    image = picture(256, 256, alpha=True)

    async def scenario(http: httpx.AsyncClient) -> None:
        content = _form(PROMPT, DALL_E_2, _file("image", image + bytes(2 * 1024 * 1024)))
        # a PNG followed by 2 MB: past the spool threshold; within the limits; Pillow reads the image
        answer = await http.post(EDIT, content=content, headers=FORM)
        assert answer.status_code == 200, answer.text

    _run({}, scenario)
    [spool] = spools
    assert spool.rolled_at is not None and spool.closed


def test_a_text_part_and_a_part_head_are_bounded() -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        big = (b'Content-Disposition: form-data; name="prompt"', b"p" * (reading.MAX_FIELD_BYTES + 1))
        answer = await http.post(EDIT, content=_form(big), headers=FORM)
        assert answer.status_code == 400 and "at most 1,048,576 bytes" in answer.json()["error"]["message"]
        long_head = (b"X-Filler: " + b"y" * 20_000, b"")
        answer = await http.post(EDIT, content=_form(long_head), headers=FORM)
        assert answer.status_code == 400 and "head is longer" in answer.json()["error"]["message"]

    _run({}, scenario)


def test_the_boundary_may_come_from_the_bodys_first_line() -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        content = _form(PROMPT, DALL_E_2, _file("image", picture(256, 256, alpha=True)))
        headers = {**AUTH, "Content-Type": "multipart/form-data"}
        assert (await http.post(EDIT, content=content, headers=headers)).status_code == 200
        answer = await http.post(EDIT, content=b"no delimiter here", headers=headers)
        assert answer.status_code == 400 and "no boundary" in answer.json()["error"]["message"]

    _run({}, scenario)
