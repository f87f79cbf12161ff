"""Helpers for the reference provider tests: input images, spec validation of answers, image reading."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from PIL import Image
from starlette.testclient import TestClient

from imagewire.check.validate import Finding, validator
from imagewire.record.recordings import Interaction
from imagewire.server import Running

KEY = "sk-imagewire-test-0123456789abcdef"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)

#: the ``serve`` fixture: ``serve(persona, **start_options)`` -> a running server
Serve = Callable[..., Running]
#: the ``app`` fixture: ``app(persona, **make_app_options)`` -> a TestClient on an in-process application
App = Callable[..., TestClient]

#: finding kinds that are tolerated deviations (the spec allows extra keys; the report names them)
TOLERATED = frozenset({"extra-key"})


def picture(width: int = 64, height: int = 64, fmt: str = "PNG", *, alpha: bool = False, colour: int = 80) -> bytes:
    """A small image file: a gradient (with a transparent corner when ``alpha``)."""
    img = Image.new(
        "RGBA" if alpha else "RGB", (width, height), (colour, 120, 200, 255) if alpha else (colour, 120, 200)
    )
    for x in range(width):
        img.putpixel((x, height // 2), (255, x % 256, 0, 255) if alpha else (255, x % 256, 0))
    if alpha:
        for x in range(width // 4):
            for y in range(height // 4):
                img.putpixel((x, y), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def mask(width: int = 64, height: int = 64) -> bytes:
    """A PNG mask: transparent (edit here) in the left half, opaque elsewhere."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    for x in range(width // 2):
        for y in range(height):
            img.putpixel((x, y), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def decode(b64: str) -> bytes:
    return base64.b64decode(b64)


def open_image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _request_body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except Exception:  # a streamed (multipart) body not read yet
        return request.read()


def interaction(response: httpx.Response) -> Interaction:
    request = response.request
    return Interaction(
        source="test",
        index=0,
        method=request.method,
        url=str(request.url),
        request_headers=tuple(request.headers.items()),
        request_body=_request_body(request),
        status=response.status_code,
        reason=response.reason_phrase,
        response_headers=tuple(response.headers.items()),
        response_body=response.content,
    )


def findings(response: httpx.Response, *, allow: Iterable[str] = ()) -> list[Finding]:
    """What the spec (imagewire.check.validate) finds wrong with one answer, minus tolerated kinds."""
    ignored = TOLERATED | set(allow)
    validation = validator().validate(interaction(response))
    assert validation.operation is not None, f"no operation of the spec at {response.request.url}"
    return [f for f in validation.findings if f.kind not in ignored]


def assert_conforms(response: httpx.Response, *, allow: Iterable[str] = ()) -> None:
    """The answer (JSON body, error envelope or each event of a stream) is valid against the spec."""
    problems = findings(response, allow=allow)
    assert not problems, [f.as_dict() for f in problems]


def request_findings(response: httpx.Response) -> list[Finding]:
    """What the spec finds wrong with the request that was sent (independent of the server)."""
    return [f for f in validator().validate(interaction(response)).findings if f.kind == "request"]


def error(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error answer, after checking the answer against the spec (the request,
    which an error test gets wrong on purpose, is not judged)."""
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    assert_conforms(response, allow={"request"})
    body = response.json()
    assert isinstance(body.get("error"), dict), body
    result: dict[str, Any] = body["error"]
    return result


def events(text: str) -> list[tuple[str | None, str]]:
    """``(event name, data)`` of each event of an event stream (comments skipped)."""
    out: list[tuple[str | None, str]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name: str | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            out.append((name, "\n".join(data)))
    return out
