"""Reading error answers: any body a provider sends becomes one exception of :mod:`._errors`.

:func:`error_from_response` reads any error answer a provider sends (the OpenAI envelope with string,
integer or numeric-string codes; bodies without the ``error`` wrapper; ``{"detail": ...}``; plain
text; HTML pages; empty or non-UTF-8 bodies) and never raises. :func:`error_from_payload` does the
same for an error that arrives inside an event stream. Which status and code get which class comes
from the spec (:mod:`._status`: the declared error statuses and the error catalog).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._errors import (
    APIStatusError,
    ContentPolicyError,
    InternalServerError,
    ModelNotFoundError,
    QuotaExceededError,
    _lower,
    _text,
    _truncate,
    parse_retry_after,
)
from ._status import (
    CONTENT_POLICY_CODES,
    MODEL_NOT_FOUND_CODES,
    QUOTA_CODES,
    REQUEST_ID_HEADERS,
    STATUS_CLASSES,
    STREAM_STATUS,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["error_from_payload", "error_from_response", "parse_retry_after", "request_id_from_headers"]

_MESSAGE_LIMIT = 2000  # characters of a JSON error message kept
_EXCERPT_LIMIT = 200  # characters of a text or HTML body used as the message
_PARSE_LIMIT = 1_000_000  # bytes: larger bodies are not parsed as JSON
# a 404 whose message says the model is missing is a ModelNotFoundError whatever its code
_MODEL_MISSING = (
    r"(?i)\bmodel\b[^.\n]{0,120}?\b(?:does not exist|doesn't exist|not found|not exist)"
    r"|\b(?:unknown|invalid|no such) model\b"
)


def _norm(value: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower()) if value else ""


def request_id_from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The server's request id: ``x-request-id``, else ``apim-request-id``, ``x-ms-request-id``, ``request-id``."""
    lowered = _lower(headers)
    for name in REQUEST_ID_HEADERS:
        value = lowered.get(name, "").strip()
        if value:
            return value
    return None


def _status_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _envelope(payload: Any, depth: int = 0) -> dict[str, Any] | None:
    """The object holding message/code/type in any error body shape, or None."""
    if isinstance(payload, list):  # Google's OpenAI-compatible endpoint: [{"error": {...}}]
        payload = next((item for item in payload if isinstance(item, dict)), None)
    if not isinstance(payload, dict) or depth > 3:
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        inner = error.get("error")
        if isinstance(inner, dict) and "message" not in error:  # doubly wrapped
            return inner
        return error
    if isinstance(error, str) and error.strip():  # {"error": "text"}, OAuth {"error": ..., "error_description": ...}
        return payload
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):  # {"errors": [{...}]}
        return errors[0]
    detail = payload.get("detail")
    if isinstance(detail, dict) and not any(key in payload for key in ("message", "code")):
        nested = _envelope(detail, depth + 1)
        return nested if nested is not None else payload
    if any(key in payload for key in ("message", "msg", "detail", "code", "error_description", "title", "type")):
        return payload
    return None


def _message_of(envelope: Mapping[str, Any]) -> str:
    for key in ("message", "msg", "detail", "error_description", "title", "error"):
        value = envelope.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, list):  # FastAPI validation errors: [{"loc": [...], "msg": ...}]
            parts = []
            for item in value:
                if isinstance(item, dict):
                    loc = ".".join(str(p) for p in item.get("loc") or ())
                    msg = item.get("msg") or item.get("message") or ""
                    parts.append(f"{loc}: {msg}" if loc else str(msg))
                else:
                    parts.append(str(item))
            return "; ".join(p for p in parts if p)
        if isinstance(value, dict):
            inner = _message_of(value)
            if inner:
                return inner
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return ""


# HTML clean-up patterns (compiled on first use, like every pattern here)
_HEAD = r"(?is)<head\b.*?</head\s*>"
_TITLE = r"(?is)<title\b[^>]*>(.*?)</title\s*>"
_INVISIBLE = r"(?is)<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->"
_TAG = r"<[^>]*>"


def _excerpt(text: str, content_type: str) -> str:
    """A short, readable message from a text or HTML body."""
    text = text.strip()
    if not text:
        return ""
    if "html" in content_type or "xml" in content_type or text.startswith("<"):
        import html

        match = re.search(_TITLE, text)
        title = " ".join(html.unescape(re.sub(_TAG, " ", match.group(1))).split()) if match else ""
        visible = re.sub(_TAG, " ", re.sub(_INVISIBLE, " ", re.sub(_HEAD, " ", text)))
        words = " ".join(html.unescape(visible).split())
        if title and not words.startswith(title):
            words = f"{title}: {words}" if words else title
        text = words
    else:
        text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_LIMIT else text[:_EXCERPT_LIMIT].rstrip() + "…"


def _class_for(
    status: int, code: str | None, type_: str | None, envelope: Mapping[str, Any], message: str
) -> type[APIStatusError]:
    keys = {_norm(code), _norm(type_)}
    inner = envelope.get("inner_error") or envelope.get("innererror")
    if isinstance(inner, dict):
        keys.add(_norm(_text(inner.get("code"))))
    keys.discard("")
    if keys & QUOTA_CODES:
        return QuotaExceededError
    if keys & CONTENT_POLICY_CODES:
        return ContentPolicyError
    if keys & MODEL_NOT_FOUND_CODES or (status == 404 and re.search(_MODEL_MISSING, message)):
        return ModelNotFoundError
    cls = STATUS_CLASSES.get(status)
    if cls is not None:
        return cls
    if 500 <= status <= 599:
        return InternalServerError
    return APIStatusError


def _build(
    status: int,
    lowered: dict[str, str],
    body: str,
    payload: Any,
    request: httpx.Request | None,
    *,
    stream: bool = False,
) -> APIStatusError:
    envelope = _envelope(payload)
    if envelope is not None:
        message = _truncate(_message_of(envelope), _MESSAGE_LIMIT)
        code = _text(envelope.get("code"))
        type_ = _text(envelope.get("type"))
        if type_ == "error" and stream:  # {"type": "error", "message": ...}: the event's type, not the error's
            type_ = None
        if type_ is None and isinstance(
            envelope.get("status"), str
        ):  # Google: {"code": 429, "status": "RESOURCE_EXHAUSTED"}
            type_ = _text(envelope.get("status"))
        if code is None and envelope is payload and isinstance(envelope.get("error"), str):
            candidate = envelope["error"].strip()
            if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", candidate) and message != candidate:
                code = candidate  # OAuth style {"error": "invalid_token", "error_description": "..."}
        param_raw = envelope.get("param")
        if isinstance(param_raw, list):
            param_raw = ".".join(str(p) for p in param_raw)
        param = _text(param_raw)
        error: dict[str, Any] | None = dict(envelope)
    else:
        message = _excerpt(body, lowered.get("content-type", "").lower())
        code = type_ = param = None
        error = None
    if stream and status < 400:
        status = _stream_status(code, type_, envelope) or status
    if not message:
        message = f"{_status_phrase(status)} (empty body)" if not body.strip() else _status_phrase(status)
    request_id = request_id_from_headers(lowered)
    if request_id is None:
        for holder in (envelope, payload):
            if isinstance(holder, dict) and isinstance(holder.get("request_id"), str) and holder["request_id"].strip():
                request_id = holder["request_id"].strip()
                break
    cls = _class_for(status, code, type_, envelope or {}, message)
    return cls(
        message,
        status_code=status,
        code=code,
        type=type_,
        param=param,
        request_id=request_id,
        body=body,
        headers=lowered,
        error=error,
        request=request,
    )


def _stream_status(code: str | None, type_: str | None, envelope: Mapping[str, Any] | None) -> int | None:
    for candidate in (code, (envelope or {}).get("status")):
        if isinstance(candidate, int) and not isinstance(candidate, bool):
            candidate = str(candidate)
        if isinstance(candidate, str) and candidate.isdigit() and 400 <= int(candidate) <= 599:
            return int(candidate)
    for key in (code, type_):
        status = STREAM_STATUS.get(_norm(key))
        if status is not None:
            return status
    return None


def _decode(body: bytes | bytearray | str | None) -> tuple[str, bool]:
    """The body as text (invalid UTF-8 replaced, BOM dropped) and whether it may be parsed as JSON."""
    if body is None:
        return "", False
    if isinstance(body, str):
        text, size = body, len(body)
    else:
        raw = bytes(body)
        size = len(raw)
        text = raw[: _PARSE_LIMIT + 1].decode("utf-8", errors="replace")
    return text.lstrip("\ufeff"), size <= _PARSE_LIMIT


def _parse(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    import json

    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return None


def error_from_response(
    status_code: int,
    headers: Mapping[str, str] | None,
    body: bytes | str | None,
    *,
    request: httpx.Request | None = None,
) -> APIStatusError:
    """The typed error for an error answer. Never raises; tolerant of every body shape (see the module doc)."""
    try:
        lowered = _lower(headers)
        text, parseable = _decode(body)
        payload = _parse(text) if parseable else None
        return _build(int(status_code), lowered, text, payload, request)
    except Exception:  # pragma: no cover - the last line of defence: an answer must not become a crash
        return APIStatusError(_status_phrase(status_code), status_code=status_code, headers=headers, request=request)


def error_from_payload(
    payload: Mapping[str, Any],
    *,
    status_code: int | None = None,
    headers: Mapping[str, str] | None = None,
    request: httpx.Request | None = None,
) -> APIStatusError:
    """The typed error for an error that arrived inside an event stream.

    Accepts ``{"type": "error", "error": {...}}``, ``{"error": {...}}`` and the flat
    ``{"type": "error", "code": ..., "message": ...}``. The stream itself was answered with 200, so
    unless ``status_code`` is an error status, the status is taken from the payload (a numeric code)
    or inferred from its code or type (``rate_limit_exceeded`` -> 429, ``server_error`` -> 500, ...);
    when nothing tells, it stays ``status_code`` (default 200) and the error is a plain
    :class:`APIStatusError`. ``headers`` (of the stream's response) supply the request id.
    """
    try:
        import json

        body = json.dumps(payload, ensure_ascii=False, default=str)
        envelope_source: Any = payload
        if isinstance(payload, Mapping) and not isinstance(payload, dict):
            envelope_source = dict(payload)
        status = 200 if status_code is None else int(status_code)
        return _build(status, _lower(headers), body, envelope_source, request, stream=True)
    except Exception:  # pragma: no cover - see error_from_response
        return APIStatusError("error event in the stream", status_code=status_code or 200, request=request)
