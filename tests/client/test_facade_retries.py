"""Retries through the facade: what is retried, how often, and how long the injected sleep is asked to wait."""

from __future__ import annotations

import httpx
import pytest
from support.client import Server, client, error_body, json_response, ok_b64, streaming

RATE = error_body("Rate limit reached", "requests", "rate_limit_exceeded")
QUOTA = error_body("You exceeded your current quota", "insufficient_quota", "insufficient_quota")
OVERLOADED = error_body("The engine is currently overloaded", "server_error", "overloaded")


def gen(c, **kwargs):  # type: ignore[no-untyped-def]
    return c.images.generate(model="gpt-image-1.5", prompt="p", **kwargs)


def test_429_with_retry_after_then_200() -> None:
    server = Server(json_response(RATE, 429, {"retry-after": "3"}), ok_b64())
    c = client(server)
    result = gen(c)
    assert result.data
    assert server.count == 2
    assert c.sleeps == [3.0]


def test_retry_after_ms_wins() -> None:
    server = Server(json_response(RATE, 429, {"retry-after-ms": "1500", "retry-after": "9"}), ok_b64())
    c = client(server)
    gen(c)
    assert c.sleeps == [1.5]


def test_503_twice_then_200() -> None:
    server = Server(json_response(OVERLOADED, 503), json_response(OVERLOADED, 503), ok_b64())
    c = client(server)
    assert gen(c).data
    assert server.count == 3
    assert len(c.sleeps) == 2
    assert all(0 < s <= 8.0 for s in c.sleeps)


def test_backoff_grows_without_retry_after() -> None:
    server = Server(json_response(OVERLOADED, 500), json_response(OVERLOADED, 502), ok_b64())
    c = client(server)
    gen(c)
    first, second = c.sleeps
    # 0.5 s then 1 s, each +-25 %
    assert 0.375 <= first <= 0.625
    assert 0.75 <= second <= 1.25


def test_three_failures_with_max_retries_2_raise_after_exactly_3_requests() -> None:
    from imagewire_client import InternalServerError

    server = Server(json_response(OVERLOADED, 503))
    c = client(server, max_retries=2)
    with pytest.raises(InternalServerError):
        gen(c)
    assert server.count == 3
    assert len(c.sleeps) == 2


def test_per_call_max_retries_0() -> None:
    from imagewire_client import RateLimitError

    server = Server(json_response(RATE, 429, {"retry-after": "1"}), ok_b64())
    c = client(server)
    with pytest.raises(RateLimitError):
        gen(c, max_retries=0)
    assert server.count == 1
    assert c.sleeps == []


def test_per_call_max_retries_overrides_client() -> None:
    server = Server(json_response(OVERLOADED, 503), json_response(OVERLOADED, 503), ok_b64())
    c = client(server, max_retries=0)
    assert gen(c, max_retries=5).data
    assert server.count == 3


def test_quota_429_is_never_retried() -> None:
    from imagewire_client import QuotaExceededError

    server = Server(json_response(QUOTA, 429, {"retry-after": "1"}), ok_b64())
    c = client(server, max_retries=5)
    with pytest.raises(QuotaExceededError):
        gen(c)
    assert server.count == 1
    assert c.sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_not_retried(status: int) -> None:
    server = Server(json_response(error_body("no", "invalid_request_error"), status), ok_b64())
    c = client(server)
    with pytest.raises(Exception):  # noqa: B017 - the class is checked elsewhere
        gen(c)
    assert server.count == 1


def test_content_policy_with_a_5xx_status_is_not_retried() -> None:
    from imagewire_client import ContentPolicyError

    body = error_body("rejected by the safety system", "image_generation_user_error", "moderation_blocked")
    server = Server(json_response(body, 500), ok_b64())
    c = client(server)
    with pytest.raises(ContentPolicyError):
        gen(c)
    assert server.count == 1


def test_connect_error_is_retried() -> None:
    server = Server(httpx.ConnectError("connection refused"), ok_b64())
    c = client(server)
    assert gen(c).data
    assert server.count == 2
    assert len(c.sleeps) == 1


def test_connect_error_every_time_raises_connection_error() -> None:
    from imagewire_client import APIConnectionError, APITimeoutError

    server = Server(httpx.ConnectError("connection refused"))
    c = client(server)
    with pytest.raises(APIConnectionError) as info:
        gen(c)
    assert not isinstance(info.value, APITimeoutError)
    assert server.count == 3
    assert info.value.outcome == "unsent"


def test_read_timeout_not_retried_by_default() -> None:
    from imagewire_client import APITimeoutError

    server = Server(httpx.ReadTimeout("timed out"), ok_b64())
    c = client(server)
    with pytest.raises(APITimeoutError) as info:
        gen(c)
    assert server.count == 1
    assert c.sleeps == []
    assert info.value.outcome == "uncertain"
    assert "not retried" in str(info.value)


def test_read_timeout_retried_when_opted_in() -> None:
    server = Server(httpx.ReadTimeout("timed out"), ok_b64())
    c = client(server)
    assert gen(c, retry_read_errors=True).data
    assert server.count == 2
    assert len(c.sleeps) == 1


def test_dropped_body_not_retried_by_default() -> None:
    from imagewire_client import APIConnectionError

    dropped = streaming([b'{"created": 1, "data": [{"b64'], fail=httpx.RemoteProtocolError("peer closed connection"))
    dropped.headers["content-type"] = "application/json"
    server = Server(dropped, ok_b64())
    c = client(server)
    with pytest.raises(APIConnectionError) as info:
        gen(c)
    assert server.count == 1
    assert info.value.outcome == "uncertain"


def test_dropped_body_retried_when_opted_in() -> None:
    def dropped(_: httpx.Request) -> httpx.Response:
        response = streaming([b'{"created": 1, "da'], fail=httpx.RemoteProtocolError("peer closed connection"))
        response.headers["content-type"] = "application/json"
        return response

    server = Server(dropped, ok_b64())
    c = client(server)
    assert gen(c, retry_read_errors=True).data
    assert server.count == 2


def test_remote_protocol_error_on_send_not_retried_by_default() -> None:
    from imagewire_client import APIConnectionError

    server = Server(httpx.RemoteProtocolError("Server disconnected without sending a response."), ok_b64())
    c = client(server)
    with pytest.raises(APIConnectionError):
        gen(c)
    assert server.count == 1


def test_retry_after_is_capped() -> None:
    server = Server(json_response(RATE, 429, {"retry-after": "3600"}), ok_b64())
    c = client(server)
    gen(c)
    assert c.sleeps == [60.0]


def test_x_should_retry_false_stops_a_retry() -> None:
    from imagewire_client import InternalServerError

    server = Server(json_response(OVERLOADED, 503, {"x-should-retry": "false"}), ok_b64())
    c = client(server)
    with pytest.raises(InternalServerError):
        gen(c)
    assert server.count == 1


def test_retry_resends_the_same_body() -> None:
    server = Server(json_response(OVERLOADED, 503), ok_b64())
    c = client(server)
    gen(c)
    assert server.bodies[0] == server.bodies[1]
    assert server.requests[0].headers["authorization"] == server.requests[1].headers["authorization"]


def test_a_falsy_sleep_callable_is_still_used() -> None:
    """``sleep=`` must be used whenever it is given, even by an object whose truth value is false."""

    class Recorder(list):  # empty: falsy, yet callable
        def __call__(self, seconds: float) -> None:
            self.append(seconds)

    recorder = Recorder()
    server = Server(json_response(RATE, 429, {"retry-after": "0.01"}), ok_b64())
    c = client(server, sleep=recorder)
    gen(c)
    assert recorder == [0.01]
