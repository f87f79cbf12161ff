"""imagewire_client._retry: the retry policy, delays, and what a transport failure means."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from imagewire_client._error_parsing import error_from_response
from imagewire_client._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ContentPolicyError,
    ModelNotFoundError,
    QuotaExceededError,
    RateLimitError,
)
from imagewire_client._retry import RETRYABLE_STATUSES, Retry, classify, delay, retryable_status, to_client_error

REQUEST = httpx.Request("POST", "https://api.openai.com/v1/images/generations")
MIDDLE = 0.5  # rand() value that means "no jitter"


def fixed(value: float):  # type: ignore[no-untyped-def]
    return lambda: value


# ------------------------------------------------------------------------------------------ policy and delay


def test_policy_defaults() -> None:
    policy = Retry()
    assert policy == (2, 0.5, 8.0, 60.0, 0.25)
    assert (policy.max_retries, policy.initial_delay, policy.max_delay, policy.retry_after_cap, policy.jitter) == (
        2,
        0.5,
        8.0,
        60.0,
        0.25,
    )
    assert Retry(max_retries=0).max_retries == 0


@pytest.mark.parametrize(
    ("attempt", "expected"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (30, 8.0)]
)
def test_exponential_backoff(attempt: int, expected: float) -> None:
    assert delay(Retry(), attempt, None, rand=fixed(MIDDLE)) == expected


def test_jitter_bounds() -> None:
    policy = Retry()
    assert delay(policy, 0, None, rand=fixed(0.0)) == pytest.approx(0.375)  # -25 %
    assert delay(policy, 0, None, rand=fixed(0.999999)) == pytest.approx(0.625, abs=1e-5)  # +25 %
    assert delay(policy, 2, None, rand=fixed(0.0)) == pytest.approx(1.5)
    # at the cap jitter only goes down: max_delay is a true maximum
    assert delay(policy, 10, None, rand=fixed(0.999999)) == 8.0
    assert delay(policy, 10, None, rand=fixed(0.0)) == pytest.approx(6.0)


def test_no_jitter_policy_and_odd_attempts() -> None:
    policy = Retry(jitter=0.0, initial_delay=1.0, max_delay=100.0)
    assert [delay(policy, n, None, rand=fixed(0.0)) for n in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert delay(policy, -3, None, rand=fixed(MIDDLE)) == 1.0
    assert delay(policy, 10**6, None, rand=fixed(MIDDLE)) == 100.0  # no overflow
    assert delay(Retry(jitter=5.0), 0, None, rand=fixed(0.0)) == 0.0  # jitter clamped to 100 %, never negative


def test_default_rand_stays_in_bounds() -> None:
    for attempt in range(6):
        base = min(0.5 * 2**attempt, 8.0)
        for _ in range(50):
            assert base * 0.75 <= delay(Retry(), attempt, None) <= min(base * 1.25, 8.0)


def test_retry_after_seconds_wins_over_backoff() -> None:
    assert delay(Retry(), 0, {"retry-after": "12"}, rand=fixed(0.0)) == 12.0
    assert delay(Retry(), 3, {"Retry-After": "0"}, rand=fixed(0.0)) == 0.0
    assert delay(Retry(), 0, {"retry-after": "2.5"}) == 2.5


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert delay(Retry(), 0, {"retry-after-ms": "1500", "retry-after": "30"}) == 1.5
    assert delay(Retry(), 0, httpx.Headers({"Retry-After-Ms": "20"})) == 0.02


def test_retry_after_is_capped() -> None:
    assert delay(Retry(), 0, {"retry-after": "3600"}) == 60.0
    assert delay(Retry(retry_after_cap=5.0), 0, {"retry-after-ms": "90000"}) == 5.0


def test_retry_after_http_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=20)
    wait = delay(Retry(), 0, {"retry-after": format_datetime(later, usegmt=True)})
    assert 15 <= wait <= 21
    far = datetime.now(UTC) + timedelta(hours=2)
    assert delay(Retry(), 0, {"retry-after": format_datetime(far, usegmt=True)}) == 60.0
    past = datetime.now(UTC) - timedelta(hours=2)
    assert delay(Retry(), 0, {"retry-after": format_datetime(past, usegmt=True)}) == 0.0


@pytest.mark.parametrize("value", ["soon", "-5", "", "nan", "Thu, 99 Foo 20xx"])
def test_unusable_retry_after_falls_back_to_backoff(value: str) -> None:
    assert delay(Retry(), 1, {"retry-after": value}, rand=fixed(MIDDLE)) == 1.0


# ------------------------------------------------------------------------------------------ retryable_status


def status_error(
    status: int, code: str | None = None, headers: dict[str, str] | None = None, type_: str | None = None
) -> APIStatusError:
    content = json.dumps({"error": {"message": "m", "code": code, "type": type_}}).encode()
    return error_from_response(status, headers or {}, content)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses(status: int) -> None:
    assert retryable_status(status_error(status))


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 408, 409, 413, 415, 422, 501, 505])
def test_not_retryable_statuses(status: int) -> None:
    assert not retryable_status(status_error(status))


def test_retryable_set() -> None:
    assert frozenset({429, 500, 502, 503, 504}) == RETRYABLE_STATUSES


def test_rate_limit_yes_quota_never() -> None:
    assert retryable_status(status_error(429, "rate_limit_exceeded"))
    for status in (429, 400, 403, 500, 503):
        err = status_error(status, "insufficient_quota", {"x-should-retry": "true"})
        assert isinstance(err, QuotaExceededError)
        assert not retryable_status(err)
    assert not retryable_status(status_error(429, None, type_="insufficient_quota"))
    assert not retryable_status(status_error(400, "billing_hard_limit_reached"))


def test_should_retry_header_overrides() -> None:
    assert not retryable_status(status_error(503, headers={"x-should-retry": "false"}))
    assert not retryable_status(status_error(429, "rate_limit_exceeded", {"X-Should-Retry": "FALSE"}))
    assert retryable_status(status_error(400, headers={"x-should-retry": "true"}))
    assert retryable_status(status_error(409, headers={"x-should-retry": " True "}))
    assert not retryable_status(status_error(400, headers={"x-should-retry": "maybe"}))  # not a flag: status decides


def test_code_classes_are_not_retried_whatever_the_status() -> None:
    policy = status_error(500, "content_policy_violation")
    model = status_error(503, "model_not_found")
    assert isinstance(policy, ContentPolicyError) and isinstance(model, ModelNotFoundError)
    assert not retryable_status(policy) and not retryable_status(model)


def test_stream_errors_use_the_status_they_stand_for() -> None:
    from imagewire_client._error_parsing import error_from_payload

    assert retryable_status(
        error_from_payload({"type": "error", "error": {"code": "rate_limit_exceeded", "message": "m"}})
    )
    assert not retryable_status(error_from_payload({"type": "error", "error": {"message": "m"}}))


def test_directly_built_error() -> None:
    assert retryable_status(RateLimitError("m", status_code=429))
    assert not retryable_status(QuotaExceededError("m", status_code=429))


# ------------------------------------------------------------------------------------------ classify

CLASSIFICATION: list[tuple[type[Exception], str]] = [
    (httpx.ConnectError, "unsent"),
    (httpx.ConnectTimeout, "unsent"),
    (httpx.PoolTimeout, "unsent"),
    (httpx.ProxyError, "unsent"),
    (httpx.ReadTimeout, "uncertain"),
    (httpx.WriteTimeout, "uncertain"),
    (httpx.ReadError, "uncertain"),
    (httpx.WriteError, "uncertain"),
    (httpx.RemoteProtocolError, "uncertain"),
    (httpx.CloseError, "uncertain"),
    (httpx.NetworkError, "uncertain"),
    (httpx.TimeoutException, "uncertain"),
    (httpx.ProtocolError, "uncertain"),
    (httpx.LocalProtocolError, "fatal"),
    (httpx.UnsupportedProtocol, "fatal"),
    (httpx.DecodingError, "fatal"),
    (httpx.TooManyRedirects, "fatal"),
    (httpx.TransportError, "fatal"),
    (httpx.RequestError, "fatal"),
    (httpx.HTTPError, "fatal"),
]


def make(cls: type[Exception], message: str = "boom") -> Exception:
    if cls is httpx.HTTPError:
        return cls(message)
    if cls is httpx.HTTPStatusError:
        return cls(message, request=REQUEST, response=httpx.Response(500, request=REQUEST))
    return cls(message, request=REQUEST)  # type: ignore[call-arg]


@pytest.mark.parametrize(("cls", "expected"), CLASSIFICATION, ids=lambda v: v.__name__ if isinstance(v, type) else v)
def test_classify(cls: type[Exception], expected: str) -> None:
    assert classify(make(cls)) == expected


def test_classify_others() -> None:
    assert classify(make(httpx.HTTPStatusError)) == "fatal"
    assert classify(httpx.InvalidURL("bad")) == "fatal"
    assert classify(httpx.StreamConsumed()) == "fatal"
    assert classify(httpx.CookieConflict("c")) == "fatal"
    assert classify(OSError("raw")) == "fatal"


def test_every_httpx_error_is_classified_on_purpose() -> None:
    named = {cls for cls, _ in CLASSIFICATION} | {httpx.HTTPStatusError}
    httpx_errors = {
        obj
        for name in httpx.__all__
        if isinstance(obj := getattr(httpx, name), type) and issubclass(obj, httpx.HTTPError)
    }
    assert httpx_errors <= named, f"new httpx exceptions to classify: {httpx_errors - named}"


# ------------------------------------------------------------------------------------------ to_client_error

TIMEOUTS = [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout, httpx.TimeoutException]


@pytest.mark.parametrize("cls", TIMEOUTS, ids=lambda c: c.__name__)
def test_timeouts_become_api_timeout_error(cls: type[Exception]) -> None:
    err = to_client_error(make(cls), REQUEST)
    assert type(err) is APITimeoutError
    assert err.request is not None and (err.request.method, err.request.url) == (REQUEST.method, REQUEST.url)


@pytest.mark.parametrize(
    "cls",
    [
        httpx.ConnectError,
        httpx.ReadError,
        httpx.WriteError,
        httpx.RemoteProtocolError,
        httpx.ProxyError,
        httpx.LocalProtocolError,
        httpx.DecodingError,
    ],
    ids=lambda c: c.__name__,
)
def test_others_become_api_connection_error(cls: type[Exception]) -> None:
    exc = make(cls)
    err = to_client_error(exc, REQUEST)
    assert type(err) is APIConnectionError
    assert err.__cause__ is exc
    assert err.outcome == classify(exc)


def test_uncertain_message() -> None:
    err = to_client_error(make(httpx.ReadTimeout, "The read operation timed out"), REQUEST)
    text = str(err)
    assert text.startswith(
        "ReadTimeout: timed out waiting for the response (POST https://api.openai.com/v1/images/generations)"
    )
    assert "The read operation timed out" in text
    assert "may have been processed" in text and "not retried" in text
    assert err.outcome == "uncertain"
    retried = to_client_error(make(httpx.RemoteProtocolError, "peer closed connection"), REQUEST, retried=True)
    assert "may have been processed" in str(retried) and "retrying did not succeed" in str(retried)


def test_unsent_message() -> None:
    err = to_client_error(make(httpx.ConnectError, "[Errno 111] Connection refused"), REQUEST)
    assert "could not connect" in str(err) and "did not reach the server" in str(err)
    assert "may have been processed" not in str(err)
    assert err.outcome == "unsent"


def test_fatal_message() -> None:
    err = to_client_error(make(httpx.DecodingError, "bad gzip"), REQUEST)
    assert err.outcome == "fatal" and "bad gzip" in str(err)
    assert "may have been processed" not in str(err) and "did not reach" not in str(err)


def test_request_taken_from_the_exception() -> None:
    err = to_client_error(make(httpx.ConnectError))
    assert err.request is not None and (err.request.method, err.request.url) == (REQUEST.method, REQUEST.url)
    bare = to_client_error(httpx.ConnectError("no request"))
    assert bare.request is None and "could not connect" in str(bare)


def test_url_secrets_are_redacted() -> None:
    secret = "sk-test-PLANTED0123456789abcdef"
    request = httpx.Request(
        "POST",
        f"https://relay.example/v1/images/generations?api-key={secret}",
        headers={"Authorization": f"Bearer {secret}"},
    )
    err = to_client_error(httpx.ConnectError(f"failed for {request.url}", request=request), request)
    for text in (str(err), repr(err)):
        assert secret not in text and "PLANTED" not in text
