"""Helpers for the consumer command tests (no tests here): a recording mock provider, images made with
Pillow, and a runner that calls ``imagewire.cli.images`` in-process and captures what it prints.

The mock goes in through ``imagewire.cli.images.TRANSPORT`` (an ``httpx.MockTransport``), so nothing
touches the network and every request that would have left is counted.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from imagewire import cli
from imagewire.cli import images as consumer
from imagewire.cli.wire import multipart_parts
from imagewire_client.catalog import PROVIDERS

#: a key that matches none of the client's secret patterns: only the redactor's by-value pass can hide it
PLANTED = "planted-Key-7f3a9c1e5b2d"
#: one that looks like an OpenAI key
PLANTED_SK = "-".join(("sk", "planted0123456789abcdef"))  # made up, shaped like an OpenAI key


def png(width: int = 64, height: int = 64, colour: tuple[int, ...] = (200, 30, 30, 255)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(width: int = 64, height: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 40, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def images_body(n: int = 1, *, url: bool = False, revised: str | None = None) -> dict[str, Any]:
    data: list[dict[str, Any]] = []
    for index in range(n):
        item: dict[str, Any] = {"url": f"https://files.example.test/img-{index}.png"} if url else {}
        if not url:
            item["b64_json"] = b64(png(32 + index, 32 + index))
        if revised is not None:
            item["revised_prompt"] = revised
        data.append(item)
    return {"created": 1700000000, "data": data}


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


Handler = Callable[[httpx.Request], httpx.Response]


def default_handler(request: httpx.Request) -> httpx.Response:
    """Answers like a provider: JSON images (url when asked for), streams, and PNG downloads."""
    if request.method == "GET":
        return httpx.Response(200, content=png(16, 16), headers={"content-type": "image/png"})
    content_type = request.headers.get("content-type", "")
    body = json.loads(request.content) if "json" in content_type else {}
    if "multipart" in content_type:
        parts = multipart_parts(request.content, content_type)
        body = {p["name"]: p["value"] for p in parts if "value" in p}
    n = int(body.get("n") or 1)
    if body.get("stream") in (True, "true"):
        kind = "image_edit" if request.url.path.endswith("/edits") else "image_generation"
        partials = int(body.get("partial_images") or 0)
        events = [
            {"type": f"{kind}.partial_image", "b64_json": b64(png(8 + i, 8)), "partial_image_index": i}
            for i in range(partials)
        ]
        events.append({"type": f"{kind}.completed", "b64_json": b64(png(24, 24)), "size": "1024x1024"})
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(*events))
    url = body.get("response_format") == "url"
    return httpx.Response(200, json=images_body(n, url=url, revised="a revised prompt" if url else None))


class Wire:
    """The mock provider: every request that reached it, and the handler that answers them."""

    def __init__(self, handler: Handler = default_handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)

    @property
    def api_calls(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST"]


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json(self) -> Any:
        return json.loads(self.out)


def mock_provider(monkeypatch: pytest.MonkeyPatch, folder: Path, handler: Handler = default_handler) -> Wire:
    """Install the mock provider; clear every key variable; work in ``folder`` (the default --out lands there)."""
    for provider in PROVIDERS.values():
        if provider.key_env:
            monkeypatch.delenv(provider.key_env, raising=False)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "IMAGEWIRE_DEBUG", "AZURE_OPENAI_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(folder)
    recorder = Wire(handler)
    monkeypatch.setattr(consumer, "TRANSPORT", httpx.MockTransport(recorder))
    return recorder


def run(capsys: pytest.CaptureFixture[str], command: str, *argv: str) -> Ran:
    code = cli.main([command, *argv])
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


#: options that point the commands at the mock: the local preset takes any model and needs no key
LOCAL = ("--provider", "local", "--base-url", "http://127.0.0.1:9/v1")
