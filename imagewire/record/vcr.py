"""vcrpy / pytest-recording hooks that scrub with the kit's scrubber: :func:`vcr_before_record_request` and
:func:`vcr_before_record_response` are ``before_record_request`` / ``before_record_response`` hooks, so a
test marked ``@pytest.mark.vcr`` writes cassettes scrubbed as ``imagewire record`` writes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from imagewire.record.recordings import Headers, Interaction
from imagewire.record.scrub import scrub as scrub_interaction

__all__ = ["vcr_before_record_request", "vcr_before_record_response"]


def _vcr_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8", errors="surrogateescape")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):
        return b"".join(p.encode() if isinstance(p, str) else bytes(p) for p in body)
    return str(body).encode()


def vcr_before_record_request(request: Any) -> Any:
    """vcrpy ``before_record_request`` hook: the request scrubbed as :func:`imagewire.record.scrub.scrub` does."""
    raw = getattr(request, "body_bytes", None)
    body = _vcr_body(raw if raw is not None else request.body)
    headers: Headers = tuple((str(k), str(v)) for k, v in request.headers.items())
    item = Interaction("vcr", 0, str(request.method), str(request.uri), headers, body, 200, "", (), b"")
    clean = scrub_interaction(item)
    request.uri = clean.url
    request.headers = dict(clean.request_headers)
    if body:
        request.body = clean.request_body
    return request


def vcr_before_record_response(response: Any) -> Any:
    """vcrpy ``before_record_response`` hook: the response (a dict) scrubbed as :func:`~imagewire.record.scrub.scrub`."""
    if not isinstance(response, dict):
        return response
    status = response.get("status") or {}
    headers_in = response.get("headers") or {}
    pairs: list[tuple[str, str]] = []
    for name, values in headers_in.items():
        for value in values if isinstance(values, list) else [values]:
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            pairs.append((str(name), text))
    body_in = (response.get("body") or {}).get("string")
    body = _vcr_body(body_in)
    code = status.get("code", 200) if isinstance(status, dict) else 200
    item = Interaction("vcr", 0, "GET", "http://vcr.invalid/", (), b"", int(code), "", tuple(pairs), body)
    clean = scrub_interaction(item)
    out: dict[str, list[str]] = {}
    for name, value in clean.response_headers:
        out.setdefault(name, []).append(value)
    response["headers"] = out
    response["body"] = {"string": clean.response_body}
    return response
