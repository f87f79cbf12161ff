"""``--dry-run``: catch the request the client would send, before any socket is opened, and describe it.

The client is given an ``httpx.Client`` whose transport keeps the request and raises :class:`Captured`
(not an ``httpx`` error, so the client neither retries nor wraps it). What is shown is redacted:
credential headers are replaced, multipart bodies are summarised part by part (name, filename, content
type, size), never printed as bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from imagewire import multipart
from imagewire_client.wire import redact_headers, redact_url

__all__ = ["CaptureTransport", "Captured", "describe", "multipart_parts"]

_TEXT_LIMIT = 2000  # characters of a text form value shown


class Captured(Exception):
    """The request a dry run stopped; nothing left this process."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__(f"{request.method} {redact_url(request.url)} (not sent)")
        self.request = request


class CaptureTransport(httpx.BaseTransport):
    """A transport that sends nothing: it records each request and raises :class:`Captured`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        raise Captured(request)


def multipart_parts(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The parts of a ``multipart/form-data`` body: name, and value or filename, content type and size."""
    out: list[dict[str, Any]] = []
    for found in multipart.parse(body, content_type) or ():
        part: dict[str, Any] = {"name": found.name}
        if found.filename is not None:
            part["filename"] = found.filename
            part["content_type"] = found.content_type or ""
            part["bytes"] = len(found.data)
        else:
            text = found.data.decode("utf-8", "replace")
            part["value"] = text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + f"… ({len(text)} characters)"
        out.append(part)
    return out


def describe(request: httpx.Request, redact: Callable[[str], str]) -> dict[str, Any]:
    """The request as JSON-ready data with credentials redacted: method, url, headers and body."""
    content = request.content
    content_type = request.headers.get("content-type", "")
    body: Any
    if "multipart/form-data" in content_type:
        body = {"multipart": multipart_parts(content, content_type), "bytes": len(content)}
    elif "json" in content_type:
        try:
            body = json.loads(content)
        except ValueError:
            body = content.decode("utf-8", "replace")
    else:
        body = content.decode("utf-8", "replace") if content else None
    described = {
        "method": request.method,
        "url": redact_url(request.url),
        "headers": redact_headers(request.headers),
        "body": body,
    }
    # one last pass over everything shown, for a key of any shape (the redactor knows it by value)
    result: dict[str, Any] = json.loads(redact(json.dumps(described, ensure_ascii=False)))
    return result
