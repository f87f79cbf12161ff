"""When to retry, and how long to wait.

The policy is a :class:`Retry` value; the decisions are pure functions the client facade calls:

* :func:`retryable_status`: may an error answer be retried? (429 rate limits and 500/502/503/504
  yes; an empty account, a refused prompt or an unknown model never; ``x-should-retry`` overrides.)
* :func:`classify`: what a transport failure means for the request. ``"unsent"`` failures (could not
  connect, no pooled connection) never reached the server and are always safe to retry.
  ``"uncertain"`` ones (the connection dropped or timed out after the request went out) may have
  been processed *and billed*: the facade retries them only when the caller opts in.
* :func:`delay`: how long to wait before a retry: the server's ``retry-after-ms`` / ``retry-after``
  when given (capped), otherwise exponential backoff with jitter.
* :func:`to_client_error`: the :class:`~._errors.APIConnectionError` to raise for a transport failure.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConnectionOutcome,
    ContentPolicyError,
    ModelNotFoundError,
    QuotaExceededError,
    parse_retry_after,
)
from ._logs import redact_url

if TYPE_CHECKING:
    import httpx

__all__ = [
    "RETRYABLE_STATUSES",
    "ConnectionOutcome",
    "Retry",
    "classify",
    "delay",
    "retryable_status",
    "to_client_error",
]

#: error statuses worth retrying (besides what ``x-should-retry`` says)
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class Retry(NamedTuple):
    """A retry policy. Delays are in seconds; ``jitter`` is a fraction (0.25: ±25 %) of the backoff delay.

    ``max_retries`` counts retries, not attempts (2: up to three requests). A server-requested
    delay (``retry-after-ms`` / ``retry-after``) is used as given, capped at ``retry_after_cap``;
    without one the wait is ``initial_delay * 2**attempt``, jittered, and never above ``max_delay``.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    retry_after_cap: float = 60.0
    jitter: float = 0.25


def delay(
    policy: Retry,
    attempt: int,
    headers: Mapping[str, str] | None,
    *,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    ``headers`` are those of the failed answer (``None`` for a transport failure). ``rand`` returns a
    float in [0, 1); 0.5 means no jitter.
    """
    hinted = parse_retry_after(headers)
    if hinted is not None:
        return max(0.0, min(hinted, policy.retry_after_cap))
    base = min(policy.initial_delay * 2.0 ** min(max(attempt, 0), 64), policy.max_delay)
    jitter = min(max(policy.jitter, 0.0), 1.0)
    value = base * (1.0 + jitter * (2.0 * rand() - 1.0))
    return max(0.0, min(value, policy.max_delay))


def _should_retry_header(headers: Mapping[str, str]) -> bool | None:
    for name, value in headers.items():
        if name.lower() == "x-should-retry":
            flag = value.strip().lower()
            if flag == "true":
                return True
            if flag == "false":
                return False
    return None


def retryable_status(error: APIStatusError) -> bool:
    """Whether an error answer may be retried.

    :class:`~._errors.QuotaExceededError` never is, whatever the status or headers. Otherwise an
    ``x-should-retry: true|false`` header decides; then a refused prompt
    (:class:`~._errors.ContentPolicyError`) or an unknown model (:class:`~._errors.ModelNotFoundError`)
    is not retried whatever the status a provider gave it; then the status: 429 and 500, 502, 503, 504
    are retried, nothing else is. Errors that arrived inside a stream have the status they stand for.
    """
    if isinstance(error, QuotaExceededError):
        return False
    override = _should_retry_header(error.headers)
    if override is not None:
        return override
    if isinstance(error, (ContentPolicyError, ModelNotFoundError)):
        return False
    return error.status_code in RETRYABLE_STATUSES


def classify(exc: BaseException) -> ConnectionOutcome:
    """What a transport failure means for the request.

    * ``"unsent"``: ``ConnectError``, ``ConnectTimeout``, ``PoolTimeout``, ``ProxyError`` (the request
      never reached the server; always safe to retry);
    * ``"uncertain"``: ``ReadTimeout``, ``WriteTimeout``, ``ReadError``, ``WriteError``,
      ``RemoteProtocolError``, ``CloseError`` and other network errors and timeouts (the server may
      have done, and billed, the work);
    * ``"fatal"``: anything else (``LocalProtocolError``, ``UnsupportedProtocol``, ``InvalidURL``,
      ``DecodingError``, ``TooManyRedirects``, ``HTTPStatusError``, non-httpx exceptions).
    """
    import httpx

    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)):
        return "unsent"
    if isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)):
        return "uncertain"
    if isinstance(exc, httpx.ProtocolError) and not isinstance(exc, httpx.LocalProtocolError):
        return "uncertain"
    return "fatal"


_WHAT = {
    "ConnectError": "could not connect",
    "ConnectTimeout": "timed out connecting",
    "PoolTimeout": "timed out waiting for a free connection from the pool",
    "ProxyError": "could not connect through the proxy",
    "ReadTimeout": "timed out waiting for the response",
    "WriteTimeout": "timed out sending the request",
    "ReadError": "the connection failed while reading the response",
    "WriteError": "the connection failed while sending the request",
    "RemoteProtocolError": "the server closed the connection or broke the protocol",
    "CloseError": "the connection failed while closing",
    "LocalProtocolError": "the request could not be sent as HTTP",
    "UnsupportedProtocol": "unsupported URL scheme",
    "InvalidURL": "invalid URL",
    "DecodingError": "the response body could not be decoded",
    "TooManyRedirects": "too many redirects",
}


def to_client_error(
    exc: BaseException,
    request: httpx.Request | None = None,
    *,
    retried: bool = False,
) -> APIConnectionError:
    """The error to raise (``raise to_client_error(exc, request) from exc``) for a transport failure.

    Timeouts give :class:`~._errors.APITimeoutError`, everything else
    :class:`~._errors.APIConnectionError`; ``outcome`` is :func:`classify`'s answer. For an
    ``"uncertain"`` failure the message says that the request may have been processed and that it was
    not retried (``retried=True``: that retries did not succeed either).
    """
    import httpx

    if request is None and isinstance(exc, httpx.HTTPError):
        try:
            request = exc.request
        except RuntimeError:  # httpx raises when no request is attached
            request = None
    outcome = classify(exc)
    name = type(exc).__name__
    what = _WHAT.get(name) or ("the request timed out" if isinstance(exc, httpx.TimeoutException) else "")
    where = f" ({request.method} {redact_url(str(request.url))})" if request is not None else ""
    detail = str(exc).strip()
    message = f"{name}: {what}{where}" if what else f"{name}{where}"
    if detail:
        message += f": {detail}"
    message = message.rstrip(".") + "."
    if outcome == "unsent":
        message += " The request did not reach the server."
    elif outcome == "uncertain":
        if retried:
            message += " The request may have been processed (and billed) by the server; retrying did not succeed."
        else:
            message += (
                " The request may have been processed (and billed) by the server, so it was not retried automatically."
            )
    cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    error = cls(message, request=request, outcome=outcome)
    error.__cause__ = exc
    return error
