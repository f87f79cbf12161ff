"""Logging for the client, and the redaction every log line and every exception goes through.

All records go to the ``imagewire_client`` logger; the library adds no handler (enable it with
``logging.basicConfig(level=logging.DEBUG)`` or ``logging.getLogger("imagewire_client").setLevel(...)``).

Levels, decided once here:

* ``DEBUG``: every answered request (method, redacted URL, status, seconds, request id). A client
  library must not speak at INFO for every successful call.
* ``INFO``: answers with an error status (>= 400) and every retry (what failed, the delay, the attempt).
  These are rare and are what one looks for when a call was slow or failed.

No log line carries a request or response body, and URLs, header values and free text pass through
:func:`redact_url`, :func:`redact_headers` and :func:`mask_secrets`. When the logger is disabled for
a level, nothing is formatted or redacted (``isEnabledFor`` is checked first).

httpx (at INFO: every URL) and httpcore (at DEBUG: every header, ``Set-Cookie`` and upstream
``Authorization`` included) log on their own; :func:`redact_library_logs`, run when this module is
imported (every client imports it), puts a filter on both that passes their records through the same
redaction.

These lists are the project's one list of secrets: the recording scrubber imports them (through
:mod:`imagewire_client.wire`).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_QUERY_KEYS",
    "SENSITIVE_QUERY_PREFIXES",
    "is_sensitive_header",
    "is_sensitive_query_key",
    "log_response",
    "log_retry",
    "logger",
    "mask_secrets",
    "redact_headers",
    "redact_library_logs",
    "redact_url",
]

logger = logging.getLogger("imagewire_client")

REDACTED = "[REDACTED]"

#: header names (lower case) whose values are never shown
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "api-key",
        "x-api-key",
        "openai-organization",
        "openai-project",
        "cookie",
        "set-cookie",
        "proxy-authorization",
        "x-goog-api-key",
        "ocp-apim-subscription-key",
    }
)
#: other header names treated as secret: ``*-api-key``, ``*-token``, ``*-secret``, ``*-password``,
#: ``*-session``, ``*-auth``, ``*-authorization``
_SENSITIVE_HEADER_PATTERN = (
    r"(?:^|[-_])(?:api[-_]?key|apikey|token|access[-_]?token|secret|password|session|auth(?:orization)?)$"
)
#: query parameters (lower case) whose values are never shown: credentials, signatures, signed-URL values
SENSITIVE_QUERY_KEYS = frozenset(
    {
        # Azure blob SAS
        *("sig", "se", "st", "skoid", "sktid", "skt", "ske", "sks", "skv", "sv", "sp", "sr", "spr", "srt", "ss"),
        *("rscd", "rsct", "rscc", "rsce", "rscl"),
        # keys and tokens
        *("key", "api-key", "api_key", "apikey", "token", "access_token", "auth", "code"),
        # CloudFront, GCS and generic signatures
        *("signature", "policy", "key-pair-id", "googleaccessid", "expires"),
    }
)
#: query parameters starting with these (lower case) are signed-URL values too: ``X-Amz-Signature``, ...
SENSITIVE_QUERY_PREFIXES = ("x-amz-", "x-goog-", "x-oss-", "x-cos-")

# (pattern, replacement); compiled on first use so that importing stays cheap
_SECRET_PATTERNS = (
    # Authorization values: "Bearer <token>", "Basic <b64>"
    # (a token has a digit or a symbol, so prose such as "Bearer authentication" is left alone)
    (r"(?i)\b(Bearer|Basic)\s+(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{6,}", r"\1 " + REDACTED),
    # OpenAI-style keys: sk-..., sk-proj-..., sess-...; the server's own masked form (sk-abc***xyz) is left alone
    (r"\b(?:sk|sess|rk)-[A-Za-z0-9_-]{8,}", REDACTED),
    # JWTs (some providers issue them as API keys)
    (r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", REDACTED),
    # key=value pairs as they appear in URLs and messages
    (
        r"(?i)([?&;\s\"'](?:api[-_]?key|key|access_token|token|sig|se|signature|x-(?:amz|goog|oss|cos)-[a-z-]+)=)"
        r"[^&\s\"'<>]+",
        r"\1" + REDACTED,
    ),
)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def mask_secrets(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``[REDACTED]``.

    Covers ``Bearer``/``Basic`` credentials, ``sk-``-style keys, JWTs and ``key=``/``token=``/``sig=``
    pairs. Cheap when there is nothing to mask.
    """
    for pattern, replacement in _SECRET_PATTERNS:
        text = _compiled(pattern).sub(replacement, text)
    for secret in _KNOWN_SECRETS:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


#: the exact credentials clients of this process hold: masked wherever they show, whatever their shape
_KNOWN_SECRETS: set[str] = set()


def remember_secret(secret: str | None) -> None:
    """Mask ``secret`` from now on in every message, body and header the client reports or logs."""
    if secret and len(secret) >= 6:
        _KNOWN_SECRETS.add(secret)


def is_sensitive_header(name: str) -> bool:
    """Whether a header's whole value is a secret (``name`` in any case)."""
    lowered = name.strip().lower()
    return lowered in SENSITIVE_HEADERS or bool(_compiled(_SENSITIVE_HEADER_PATTERN).search(lowered))


def is_sensitive_query_key(name: str) -> bool:
    """Whether a URL query parameter's value is a secret (``name`` in any case)."""
    lowered = name.strip().lower()
    return lowered in SENSITIVE_QUERY_KEYS or lowered.startswith(SENSITIVE_QUERY_PREFIXES)


def redact_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | httpx.Headers | None,
) -> dict[str, str]:
    """A plain copy of ``headers`` that is safe to show: keys lower-cased, credential values replaced.

    Names in :data:`SENSITIVE_HEADERS` (and ``*-api-key``, ``*-token``, ``*-secret`` look-alikes) get
    ``[REDACTED]``; other values pass through :func:`mask_secrets`. Repeated headers are joined
    with ``", "``. Accepts a mapping (``httpx.Headers`` included), pairs, or ``None``.
    """
    result: dict[str, str] = {}
    if headers is None:
        return result
    pairs: Iterable[tuple[str, str]]
    multi_items = getattr(headers, "multi_items", None)
    if callable(multi_items):  # httpx.Headers: repeated headers come apart
        pairs = multi_items()
    elif isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    for raw_name, raw_value in pairs:
        name = str(raw_name).lower()
        value = REDACTED if is_sensitive_header(name) else mask_secrets(str(raw_value))
        if name in result and value != REDACTED:
            result[name] = f"{result[name]}, {value}"
        else:
            result[name] = value
    return result


def redact_url(url: str | httpx.URL) -> str:
    """``url`` with credential query values (:data:`SENSITIVE_QUERY_KEYS`) and any password replaced.

    Azure SAS image URLs keep their path but lose ``sig``, ``se``, ``skoid``, ``sktid``; ``?key=``
    style API keys are hidden. Anything that does not parse as a URL is passed through
    :func:`mask_secrets` instead.
    """
    text = str(url)
    if "?" not in text and "@" not in text:
        return text
    from urllib.parse import unquote, urlsplit, urlunsplit

    try:
        parts = urlsplit(text)
    except ValueError:
        return mask_secrets(text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
    query = parts.query
    if query:
        pieces = []
        for piece in query.split("&"):
            name, sep, _value = piece.partition("=")
            if sep and is_sensitive_query_key(unquote(name)):
                piece = f"{name}={REDACTED}"
            pieces.append(piece)
        query = "&".join(pieces)
    if netloc == parts.netloc and query == parts.query:
        return text
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def log_response(
    method: str,
    url: str | httpx.URL,
    status: int,
    seconds: float,
    request_id: str | None = None,
) -> None:
    """One line per answered request: at DEBUG below 400, at INFO for error statuses. No bodies."""
    level = logging.INFO if status >= 400 else logging.DEBUG
    if not logger.isEnabledFor(level):
        return
    safe_url = redact_url(url)
    logger.log(
        level,
        "%s %s -> %d in %.3fs (request id %s)",
        method,
        safe_url,
        status,
        seconds,
        request_id or "-",
        extra={
            "imagewire_method": method,
            "imagewire_url": safe_url,
            "imagewire_status": status,
            "imagewire_seconds": seconds,
            "imagewire_request_id": request_id,
        },
    )


def log_retry(
    method: str,
    url: str | httpx.URL,
    *,
    attempt: int,
    max_retries: int,
    delay: float,
    reason: str,
) -> None:
    """At INFO, before the wait: a call is about to be retried. ``attempt`` counts retries from 1; ``reason`` is
    short text. The record carries every value as an ``imagewire_*`` attribute, so a handler can show the
    retry its own way (the ``imagewire`` command prints ``retrying 1/2 after 2.0 s: status 500``)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    safe_url = redact_url(url)
    safe_reason = mask_secrets(reason)
    logger.info(
        "retrying %s %s in %.2fs (retry %d of %d): %s",
        method,
        safe_url,
        delay,
        attempt,
        max_retries,
        safe_reason,
        extra={
            "imagewire_method": method,
            "imagewire_url": safe_url,
            "imagewire_attempt": attempt,
            "imagewire_max_retries": max_retries,
            "imagewire_delay": delay,
            "imagewire_reason": safe_reason,
        },
    )


_URL = r"https?://[^\s\"'<>]+"
#: a header as httpcore logs it: (b'Name', b'value')
_LOGGED_HEADER = r"\((b?)(['\"])([^'\"]+)\2, (b?)(['\"])((?:\\.|(?!\5).)*)\5\)"


def _redact_logged(text: str) -> str:
    def header(found: re.Match[str]) -> str:
        prefix, quote, name, value_prefix, value_quote = found.group(1, 2, 3, 4, 5)
        if not is_sensitive_header(name):
            return found.group(0)
        return f"({prefix}{quote}{name}{quote}, {value_prefix}{value_quote}{REDACTED}{value_quote})"

    text = _compiled(_LOGGED_HEADER).sub(header, text)
    text = _compiled(_URL).sub(lambda found: redact_url(found.group(0)), text)
    return mask_secrets(text)


class _Redacting(logging.Filter):
    """Rewrites a record of another library (httpx, httpcore) into its redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:
            return False
        record.msg, record.args = _redact_logged(text), ()
        return True


_FILTER = _Redacting()


def redact_library_logs() -> None:
    """Put the redacting filter on the ``httpx`` and ``httpcore`` loggers (and httpcore's children); once."""
    for name in ("httpx", "httpcore", "httpcore.http11", "httpcore.http2", "httpcore.connection", "httpcore.proxy"):
        found = logging.getLogger(name)
        if _FILTER not in found.filters:
            found.addFilter(_FILTER)


redact_library_logs()
