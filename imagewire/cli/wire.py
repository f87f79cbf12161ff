"""``--dry-run``: catch the request the client would send, before any socket is opened, and describe it.

The client is given an ``httpx.Client`` whose transport keeps the request and raises :class:`Captured`
(not an ``httpx`` error, so the client neither retries nor wraps it). What is shown is redacted:
credential headers are replaced, multipart bodies are summarised part by part (name, filename, content
type, size), never printed as bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx

from imagewire_client._logs import redact_headers, redact_url

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


def _params(header: str) -> dict[str, str]:
    """``form-data; name="image[]"; filename="a.png"`` -> ``{"name": "image[]", "filename": "a.png"}``."""
    out: dict[str, str] = {}
    for match in re.finditer(r';\s*([A-Za-z0-9_*-]+)="((?:[^"\\]|\\.)*)"|;\s*([A-Za-z0-9_*-]+)=([^;\s]+)', header):
        if match.group(1):
            out[match.group(1).lower()] = match.group(2)
        else:
            out[match.group(3).lower()] = match.group(4)
    return out


def multipart_parts(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The parts of a ``multipart/form-data`` body: name, and value or filename, content type and size."""
    boundary = _params("; " + content_type.partition(";")[2]).get("boundary")
    if not boundary:
        return []
    delimiter = b"--" + boundary.encode("latin-1")
    parts: list[dict[str, Any]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        disposition = _params(headers.get("content-disposition", ""))
        part: dict[str, Any] = {"name": disposition.get("name", "")}
        if "filename" in disposition:
            part["filename"] = disposition["filename"]
            part["content_type"] = headers.get("content-type", "")
            part["bytes"] = len(data)
        else:
            text = data.decode("utf-8", "replace")
            part["value"] = text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + f"… ({len(text)} characters)"
        parts.append(part)
    return parts


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
