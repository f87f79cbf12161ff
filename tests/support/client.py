"""Helpers for the facade tests (no tests here): tiny images built by hand, a recording mock server,
client factories, SSE and multipart helpers.

Everything goes through ``httpx.MockTransport``; nothing touches the network.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import httpx

BASE = "https://api.example.test/v1"
KEY = "sk-test-key-0000000000000000"
SECRET = "sk-test-PLANTED-0123456789abcdefXYZ"


# ---------------------------------------------------------------- images built by hand


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width: int = 2, height: int = 2, *, rgba: bool = True, shade: int = 0) -> bytes:
    """A valid PNG (8-bit RGB or RGBA, filter 0 scanlines, zlib IDAT, CRCs)."""
    channels = 4 if rgba else 3
    pixel = bytes([(shade + i * 40) % 256 for i in range(channels)])
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6 if rgba else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def jpeg_bytes(width: int = 8, height: int = 8) -> bytes:
    """A valid baseline greyscale JPEG: one DC and one AC Huffman code, every block flat grey (DC 0, EOB)."""
    soi = b"\xff\xd8"
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([1] * 64)
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    counts = bytes([1] + [0] * 15)
    dht_dc = b"\xff\xc4" + struct.pack(">H", 2 + 1 + 16 + 1) + b"\x00" + counts + b"\x00"
    dht_ac = b"\xff\xc4" + struct.pack(">H", 2 + 1 + 16 + 1) + b"\x10" + counts + b"\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = "00" * blocks  # per block: DC category 0 (code "0"), AC end of block (code "0")
    bits += "1" * (-len(bits) % 8)
    scan = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    scan = scan.replace(b"\xff", b"\xff\x00")
    return soi + app0 + dqt + sof0 + dht_dc + dht_ac + sos + scan + b"\xff\xd9"


class _Bits:
    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, value: int, width: int) -> None:
        self.value |= value << self.count
        self.count += width

    def bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


def webp_bytes(width: int = 1, height: int = 1) -> bytes:
    """A lossless (VP8L) WebP of one colour: five single-symbol "simple" prefix codes, zero bits per pixel."""
    bits = _Bits()
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(1, 1)  # alpha is used
    bits.put(0, 3)  # version
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    for symbol in (0x80, 0x40, 0x20, 0xFF):  # green, red, blue, alpha: one 8-bit symbol each
        bits.put(1, 1)  # simple code
        bits.put(0, 1)  # one symbol
        bits.put(1, 1)  # 8-bit symbol
        bits.put(symbol, 8)
    bits.put(1, 1)  # distance: simple code, one 1-bit symbol 0
    bits.put(0, 1)
    bits.put(0, 1)
    bits.put(0, 1)
    payload = b"\x2f" + bits.bytes()
    if len(payload) % 2:
        chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + b"\x00"
    else:
        chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


PNG = png_bytes()
PNG_B = png_bytes(shade=99)
JPEG = jpeg_bytes()
WEBP = webp_bytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------- answers


def images_body(*items: dict[str, Any], created: int | None = 1750098846, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if created is not None:
        body["created"] = created
    body["data"] = list(items)
    body.update(extra)
    return body


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def ok_b64(data: bytes = PNG) -> httpx.Response:
    return json_response(images_body({"b64_json": b64(data)}))


def error_body(message: str, type_: str | None = None, code: Any = None, param: Any = None, **extra: Any) -> dict:
    inner: dict[str, Any] = {"message": message, "type": type_, "param": param, "code": code}
    inner.update(extra)
    return {"error": inner}


def sse(*events: Any, event_lines: bool = True, done: bool = False, comments: bool = False) -> bytes:
    """An event stream: each event a dict (JSON data) or a str (raw data)."""
    out: list[str] = []
    if comments:
        out.append(": stream opened\n\n")
    for ev in events:
        data = ev if isinstance(ev, str) else json.dumps(ev)
        if event_lines and isinstance(ev, dict) and "type" in ev:
            out.append(f"event: {ev['type']}\n")
        out.append(f"data: {data}\n\n")
        if comments:
            out.append(": keep-alive\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def sse_response(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "text/event-stream"}, content=body)


# ---------------------------------------------------------------- mock server


Reply = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


class Server:
    """A scripted server: answers the queued replies in order (the last one repeats), records requests."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def _next(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        self.bodies.append(request.content)
        index = min(len(self.requests) - 1, len(self.replies) - 1)
        reply = self.replies[index]
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return _fresh(reply)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self._next(request)

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self._next(request)

    @property
    def count(self) -> int:
        return len(self.requests)

    def json(self, index: int = -1) -> Any:
        return json.loads(self.bodies[index])


def _fresh(response: httpx.Response) -> httpx.Response:
    """A response can be consumed once: hand out a copy so a reply may be repeated."""
    stream = response.stream
    if isinstance(stream, httpx.ByteStream):
        body = b"".join(stream)
        return httpx.Response(response.status_code, headers=response.headers, content=body)
    return response


def streaming(chunks: Iterable[bytes], *, fail: BaseException | None = None, status: int = 200) -> httpx.Response:
    """A streamed body: chunks one by one, then optionally an exception (a connection dropped mid-body)."""

    class _Sync(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from chunks
            if fail is not None:
                raise fail

    return httpx.Response(status, headers={"content-type": "text/event-stream"}, stream=_Sync())


def astreaming(chunks: Iterable[bytes], *, fail: BaseException | None = None, status: int = 200) -> httpx.Response:
    class _Async(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk
            if fail is not None:
                raise fail

    return httpx.Response(status, headers={"content-type": "text/event-stream"}, stream=_Async())


class Sleeps(list):
    """Records the waits of the retry loop instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def __bool__(self) -> bool:  # an empty recorder is still a sleep function
        return True


class AsyncSleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def __bool__(self) -> bool:
        return True


def client(server: Server, **kwargs: Any) -> Any:
    from imagewire_client import Client

    sleeps = kwargs.pop("sleep", None)
    if sleeps is None:
        sleeps = Sleeps()
    options: dict[str, Any] = {"api_key": KEY, "base_url": BASE}
    options.update(kwargs)
    c = Client(http_client=httpx.Client(transport=httpx.MockTransport(server)), sleep=sleeps, **options)
    c.sleeps = sleeps
    return c


def async_client(server: Server, **kwargs: Any) -> Any:
    from imagewire_client import AsyncClient

    sleeps = kwargs.pop("sleep", None)
    if sleeps is None:
        sleeps = AsyncSleeps()
    options: dict[str, Any] = {"api_key": KEY, "base_url": BASE}
    options.update(kwargs)
    c = AsyncClient(
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(server.handle_async)), sleep=sleeps, **options
    )
    c.sleeps = sleeps
    return c


# ---------------------------------------------------------------- multipart


def parse_multipart(request: httpx.Request) -> list[dict[str, Any]]:
    """The parts of a multipart body as sent, parsed with the stdlib ``email`` parser."""
    content_type = request.headers["content-type"]
    raw = b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + request.content
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert message.is_multipart(), content_type
    parts = []
    for part in message.iter_parts():
        disposition = part.get("content-disposition", "")
        parts.append(
            {
                "name": part.get_param("name", header="content-disposition"),
                "filename": part.get_param("filename", header="content-disposition"),
                "content_type": part.get("content-type"),
                "disposition": str(disposition),
                "data": part.get_payload(decode=True),
            }
        )
    return parts
