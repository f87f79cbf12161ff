"""Every error the client raises, in one tree.

```
ImagewireError
├── ValidationError (also ValueError)   the call broke a model rule; nothing was sent
├── APIConnectionError                  could not reach the server, or the connection dropped
│   └── APITimeoutError
├── ResponseContractError               a 2xx answer that does not match the contract
│   └── ResponseTooLargeError           an answer, download or stream event over its size limit
└── APIStatusError                      any error status (or an error event inside a stream)
    ├── BadRequestError (400)
    │   └── ContentPolicyError          content_policy_violation / moderation_blocked (any status)
    ├── AuthenticationError (401)
    ├── PermissionDeniedError (403)
    ├── NotFoundError (404)
    │   └── ModelNotFoundError          model_not_found (any status), or a 404 saying the model does not exist
    ├── ConflictError (409)
    ├── RequestTooLargeError (413)
    ├── UnsupportedMediaTypeError (415)
    ├── UnprocessableEntityError (422)
    ├── RateLimitError (429)            .retry_after: seconds the server asked to wait, or None
    ├── QuotaExceededError              insufficient_quota / billing_hard_limit_reached (any status; OpenAI sends 429)
    └── InternalServerError (5xx)
```

Which status gets which class is generated from the error statuses the spec declares
(:data:`._status.STATUS_CLASSES`); a 5xx status the spec does not list is still an :class:`InternalServerError`
and any other status is a plain :class:`APIStatusError`. The codes decide before the status does:
out of quota, content policy and unknown model are told apart by ``code``/``type`` whatever the
status a provider picked (so ``except RateLimitError`` never catches an empty account).

Reading error answers into these classes is :mod:`._error_parsing`'s job; the codes that decide come
from the spec's error catalog.

No ``str()`` or ``repr()`` of these exceptions shows a credential: headers are kept as a redacted
copy, and messages and bodies are passed through :func:`~._logs.mask_secrets`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any, Literal

from ._logs import mask_secrets, redact_headers, redact_url

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ConnectionOutcome",
    "ContentPolicyError",
    "ImagewireError",
    "InternalServerError",
    "ModelNotFoundError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestTooLargeError",
    "ResponseContractError",
    "ResponseTooLargeError",
    "UnprocessableEntityError",
    "UnsupportedMediaTypeError",
    "ValidationError",
    "parse_retry_after",
]

#: what a transport failure means for the request: never sent, maybe processed, or not retryable at all
ConnectionOutcome = Literal["unsent", "uncertain", "fatal"]

BODY_LIMIT = 4096  # characters of an error body kept on APIStatusError.body
CONTRACT_BODY_LIMIT = 2048  # characters of a body kept on ResponseContractError.body


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated, {len(text)} characters in all]"


def _fields(obj: object, fields: Mapping[str, object]) -> str:
    inner = ", ".join(f"{name}={value!r}" for name, value in fields.items())
    return f"{type(obj).__name__}({inner})"


def _text(value: object) -> str | None:
    """An envelope scalar as text: integer codes become their digits; empty and non-scalar values None."""
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value) if value.is_integer() else value
    text = str(value).strip()
    return text or None


def _safe_request(request: httpx.Request | None) -> httpx.Request | None:
    """A copy of the request that is safe to keep on an exception: credentials redacted, no body."""
    if request is None:
        return None
    import httpx

    return httpx.Request(request.method, redact_url(request.url), headers=redact_headers(request.headers))


def _masked(value: object) -> str | None:
    text = _text(value)
    return mask_secrets(text) if text else None


def _scrub(value: Any, depth: int = 0) -> Any:
    """A copy of parsed JSON with credential-looking substrings masked in every string."""
    if isinstance(value, str):
        return mask_secrets(value)
    if depth > 32:
        return value
    if isinstance(value, dict):
        return {key: _scrub(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, depth + 1) for item in value]
    return value


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    if not headers:
        return {}
    try:
        return {str(name).lower(): str(value) for name, value in headers.items()}
    except Exception:  # pragma: no cover - a mapping that cannot be read is no mapping
        return {}


def parse_retry_after(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds the server asked to wait: ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP-date).

    ``None`` when neither is present or parseable; never negative. ``now`` (a Unix time) is for tests.
    """
    lowered = _lower(headers)
    millis = _number(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    raw = lowered.get("retry-after", "").strip()
    if not raw:
        return None
    seconds = _number(raw)
    if seconds is not None:
        return seconds
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        wait = when.timestamp() - (time.time() if now is None else now)
    except (OverflowError, OSError, ValueError):  # pragma: no cover - dates far outside the epoch
        return None
    return max(0.0, wait)


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


class ImagewireError(Exception):
    """Base class of every error raised by ``imagewire_client``."""


class ValidationError(ImagewireError, ValueError):
    """The call breaks a rule of the model catalog (a value, a range, a combination) or a constraint of the
    spec's schema (``rule`` ``schema:<keyword>``, whatever the model); nothing was sent.

    ``rule`` names the rule (e.g. ``"value"``, ``"range"``, ``"size"``, ``"requires"``), ``field`` the
    request field at fault (``None`` for rules about several fields), ``allowed`` what the rule
    admits (values, a range, or a description) and ``model`` the model whose rule it is.
    """

    message: str
    rule: str
    field: str | None
    allowed: Any
    model: str | None

    def __init__(
        self,
        message: str = "the request breaks a model rule",
        *,
        rule: str = "",
        field: str | None = None,
        allowed: Any = None,
        model: str | None = None,
    ) -> None:
        message = mask_secrets(str(message))
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field
        self.allowed = allowed
        self.model = model

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return _fields(
            self,
            {
                "rule": self.rule,
                "field": self.field,
                "model": self.model,
                "allowed": self.allowed,
                "message": self.message,
            },
        )


class APIConnectionError(ImagewireError):
    """The server could not be reached, or the connection failed before a whole answer arrived.

    ``request`` is the ``httpx.Request`` (or ``None``); ``outcome`` says what that means for it:
    ``"unsent"`` (never reached the server), ``"uncertain"`` (the server may have done, and billed,
    the work) or ``"fatal"``; ``None`` when unknown.
    """

    message: str
    request: httpx.Request | None
    outcome: ConnectionOutcome | None

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        request: httpx.Request | None = None,
        outcome: ConnectionOutcome | None = None,
    ) -> None:
        message = mask_secrets(str(message))
        super().__init__(message)
        self.message = message
        self.request = _safe_request(request)
        self.outcome = outcome

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        method = url = None
        if self.request is not None:
            method, url = self.request.method, redact_url(str(self.request.url))
        return _fields(self, {"message": self.message, "method": method, "url": url, "outcome": self.outcome})


class APITimeoutError(APIConnectionError):
    """The request timed out (connecting, waiting for a pooled connection, sending or reading)."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        request: httpx.Request | None = None,
        outcome: ConnectionOutcome | None = None,
    ) -> None:
        super().__init__(message, request=request, outcome=outcome)


class ResponseContractError(ImagewireError):
    """A 2xx answer that does not match the contract: HTML, truncated JSON, the wrong object.

    ``reason`` says what is wrong, ``pointer`` where (a JSON pointer into the body, or ``""``),
    ``body`` is the raw text (at most ~2 KB), ``status_code`` the HTTP status.
    """

    status_code: int
    body: str
    reason: str
    pointer: str
    request_id: str | None

    def __init__(
        self,
        reason: str = "the answer does not match the contract",
        *,
        status_code: int = 200,
        body: str | bytes = "",
        pointer: str = "",
        request_id: str | None = None,
    ) -> None:
        reason = mask_secrets(str(reason))
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        text = body.decode("utf-8", errors="replace") if isinstance(body, (bytes, bytearray)) else str(body)
        self.body = mask_secrets(_truncate(text, CONTRACT_BODY_LIMIT))
        self.pointer = pointer
        self.request_id = request_id

    def __str__(self) -> str:
        text = f"HTTP {self.status_code}: {self.reason}"
        if self.pointer:
            text += f" (at {self.pointer})"
        if self.body:
            excerpt = " ".join(self.body[:120].split())
            text += f"; body starts {excerpt!r}"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        return text

    def __repr__(self) -> str:
        return _fields(
            self,
            {
                "status_code": self.status_code,
                "reason": self.reason,
                "pointer": self.pointer,
                "request_id": self.request_id,
                "body": _truncate(self.body, 120),
            },
        )


class ResponseTooLargeError(ResponseContractError):
    """An answer, an image download or a stream event is larger than its limit (counted once decoded,
    while reading; nothing more is read). ``what`` names it, ``limit`` is the limit in bytes (the client's
    ``max_answer_bytes``, ``max_download_bytes`` or ``max_event_bytes``)."""

    what: str
    limit: int

    def __init__(self, reason: str, *, what: str = "the answer", limit: int = 0, status_code: int = 200) -> None:
        super().__init__(reason, status_code=status_code)
        self.what = what
        self.limit = limit


class APIStatusError(ImagewireError):
    """The server answered with an error status (or sent an error event inside a stream).

    ``code`` is always text (integer codes become their digits; ``None`` when absent or empty);
    ``type`` and ``param`` are ``None`` when absent or empty. ``message`` is the server's message, or
    a short excerpt of a text/HTML body. ``body`` is the raw body (at most ~4 KB), ``headers`` a
    redacted copy with lower-case names, ``error`` the error object found in the body (the inner
    ``error`` object when wrapped, the whole object otherwise) or ``None`` when the body was no JSON
    object. ``request`` is the ``httpx.Request`` when known.
    """

    status_code: int
    code: str | None
    type: str | None
    param: str | None
    message: str
    request_id: str | None
    body: str
    headers: dict[str, str]
    error: dict[str, Any] | None
    request: httpx.Request | None

    def __init__(
        self,
        message: str = "",
        *,
        status_code: int = 0,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        body: str | bytes = "",
        headers: Mapping[str, str] | None = None,
        error: Mapping[str, Any] | None = None,
        request: httpx.Request | None = None,
    ) -> None:
        message = mask_secrets(str(message))
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = _masked(code)
        self.type = _masked(type)
        self.param = _masked(param)
        self.request_id = _masked(request_id)
        text = body.decode("utf-8", errors="replace") if isinstance(body, (bytes, bytearray)) else str(body)
        self.body = mask_secrets(_truncate(text, BODY_LIMIT))
        self.headers = redact_headers(headers)
        self.error = _scrub(dict(error)) if error is not None else None
        self.request = _safe_request(request)
        self._derive()

    def _derive(self) -> None:
        """Subclasses compute their extra attributes here (from headers and the error object)."""

    def _extra(self) -> dict[str, object]:
        return {}

    def __str__(self) -> str:
        text = f"HTTP {self.status_code}"
        if self.code:
            text += f" {self.code}"
        text += f": {_truncate(self.message, 1000)}" if self.message else ""
        details = [f"{name}={value}" for name, value in (("type", self.type), ("param", self.param)) if value]
        details += [f"{name}={value}" for name, value in self._extra().items() if value is not None]
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        if details:
            text += f" [{', '.join(details)}]"
        return text

    def __repr__(self) -> str:
        return _fields(
            self,
            {
                "status_code": self.status_code,
                "code": self.code,
                "type": self.type,
                "param": self.param,
                "message": _truncate(self.message, 200),
                "request_id": self.request_id,
                **self._extra(),
            },
        )


class BadRequestError(APIStatusError):
    """400: the request was rejected (an unsupported value, an unknown parameter, a bad file)."""


class ContentPolicyError(BadRequestError):
    """The prompt or image was refused by the provider's safety system.

    Codes ``content_policy_violation`` (DALL·E), ``moderation_blocked`` (GPT image models; details in
    ``moderation_details``, e.g. ``{"moderation_stage": "input", "categories": [...]}``) and Azure's
    content filter. Usually a 400, but the class follows the code whatever the status.
    """

    moderation_details: dict[str, Any] | None = None

    def _derive(self) -> None:
        details = (self.error or {}).get("moderation_details")
        self.moderation_details = details if isinstance(details, dict) else None


class AuthenticationError(APIStatusError):
    """401: missing, wrong or revoked API key."""


class PermissionDeniedError(APIStatusError):
    """403: not allowed (unsupported region, a gated model or feature)."""


class NotFoundError(APIStatusError):
    """404: unknown path (e.g. a retired operation) or model."""


class ModelNotFoundError(NotFoundError):
    """The model (Azure: the deployment) does not exist or the key has no access to it."""


class ConflictError(APIStatusError):
    """409."""


class RequestTooLargeError(APIStatusError):
    """413: the request (usually its image files) is too large."""


class UnsupportedMediaTypeError(APIStatusError):
    """415: the server does not take this request content type."""


class UnprocessableEntityError(APIStatusError):
    """422: the body was understood but rejected."""


class RateLimitError(APIStatusError):
    """429: too many requests. ``retry_after``: the seconds the server asked to wait, or ``None``."""

    retry_after: float | None = None

    def _derive(self) -> None:
        self.retry_after = parse_retry_after(self.headers)

    def _extra(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}


class QuotaExceededError(APIStatusError):
    """Out of credit (``insufficient_quota``, ``billing_hard_limit_reached``). Retrying does not help.

    OpenAI sends it with status 429, others with 400, 402 or 403; the class is the same.
    """


class InternalServerError(APIStatusError):
    """5xx: the server or a gateway in front of it failed; retrying may help."""
