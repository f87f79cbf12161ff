"""The API key never shows: not in logs (DEBUG included), reprs, exception text or exception headers."""

from __future__ import annotations

import logging

import httpx
import pytest
from support.client import (
    PNG,
    SECRET,
    Server,
    b64,
    client,
    error_body,
    images_body,
    json_response,
    ok_b64,
)


def _record_texts(records: list[logging.LogRecord]) -> list[str]:
    texts = []
    for record in records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        texts.append(repr(record.__dict__))
    return texts


def _exception_texts(err: BaseException) -> list[str]:
    texts = [str(err), repr(err)]
    for name in ("headers", "body", "error", "message", "reason"):
        if hasattr(err, name):
            texts.append(repr(getattr(err, name)))
    cause = err.__cause__
    if cause is not None:
        texts += [str(cause), repr(cause)]
    return texts


def _echo_headers(request: httpx.Request) -> dict[str, str]:
    """A misbehaving proxy that echoes the caller's credentials back in its answer headers."""
    return {
        "x-request-id": "req_1",
        "x-echo-authorization": request.headers.get("authorization", ""),
        "www-authenticate": f'Bearer realm="api", token="{SECRET}"',
    }


@pytest.mark.parametrize("auth_header", ["Authorization", "api-key"])
def test_planted_key_never_appears(caplog: pytest.LogCaptureFixture, auth_header: str) -> None:
    from imagewire_client import AuthenticationError, InternalServerError

    def handler(request: httpx.Request) -> httpx.Response:
        n = len(server.requests)
        if n == 1:  # success
            return json_response(images_body({"b64_json": b64(PNG)}))
        if n == 2:  # a retry (429 with the key echoed), then success
            return json_response(
                error_body(f"Rate limit for key {SECRET}", "requests", "rate_limit_exceeded"),
                429,
                {**_echo_headers(request), "retry-after": "0"},
            )
        if n == 3:
            return json_response(images_body({"b64_json": b64(PNG)}, created=None))  # a warning is logged
        if n == 4:  # an error that quotes the key in full
            return json_response(
                error_body(f"Incorrect API key provided: {SECRET}.", "invalid_request_error", "invalid_api_key"),
                401,
                _echo_headers(request),
            )
        return httpx.Response(500, headers=_echo_headers(request), text=f"proxy failed for Bearer {SECRET}")

    server = Server(handler)
    c = client(server, api_key=SECRET, auth_header=auth_header, max_retries=1)
    caught: list[BaseException] = []
    with caplog.at_level(logging.DEBUG, logger="imagewire_client"):
        c.images.generate(model="gpt-image-1.5", prompt="p")
        c.images.generate(model="gpt-image-1.5", prompt="p")  # 429, retried, then 200 without created
        with pytest.raises(AuthenticationError) as auth:
            c.images.generate(model="gpt-image-1.5", prompt="p")
        caught.append(auth.value)
        with pytest.raises(InternalServerError) as server_error:
            c.images.generate(model="gpt-image-1.5", prompt="p", max_retries=0)
        caught.append(server_error.value)

    assert server.count == 5
    # the key really was sent, so the checks below are meaningful
    sent = server.requests[0].headers.get("authorization", "") + server.requests[0].headers.get("api-key", "")
    assert SECRET in sent
    records = [r for r in caplog.records if r.name.startswith("imagewire_client")]
    assert any(r.levelno == logging.DEBUG for r in records), "expected DEBUG lines for answered requests"
    assert any("retry" in r.getMessage() for r in records), "expected a retry line"
    for text in _record_texts(records):
        assert SECRET not in text
    assert SECRET not in repr(c)
    assert SECRET not in str(c)
    for err in caught:
        for text in _exception_texts(err):
            assert SECRET not in text, text
        for name, value in err.headers.items():
            assert SECRET not in value, name
    assert "sk-test-PLANTED" not in caught[0].message


def test_key_not_in_connection_errors(caplog: pytest.LogCaptureFixture) -> None:
    from imagewire_client import APIConnectionError

    server = Server(httpx.ConnectError(f"proxy refused Bearer {SECRET}"))
    c = client(server, api_key=SECRET)
    with caplog.at_level(logging.DEBUG, logger="imagewire_client"), pytest.raises(APIConnectionError) as info:
        c.images.generate(model="gpt-image-1.5", prompt="p")
    assert server.count == 3
    for text in [str(info.value), repr(info.value), *_record_texts(caplog.records)]:
        assert SECRET not in text


def test_key_not_in_validation_errors_or_results() -> None:
    from imagewire_client import ValidationError

    server = Server(ok_b64())
    c = client(server, api_key=SECRET)
    with pytest.raises(ValidationError) as info:
        c.images.generate(model="gpt-image-1.5", prompt="p", style="vivid")
    assert SECRET not in str(info.value) + repr(info.value)
    result = c.images.generate(model="gpt-image-1.5", prompt="p")
    assert SECRET not in repr(result)
    assert SECRET not in repr(result.data[0])


def test_stream_error_event_does_not_show_the_key() -> None:
    from support.client import sse, sse_response

    from imagewire_client import APIStatusError

    event = {"type": "error", "error": {"code": "invalid_api_key", "message": f"bad key {SECRET}"}}
    server = Server(sse_response(sse(event)))
    c = client(server, api_key=SECRET)
    with pytest.raises(APIStatusError) as info:
        list(c.images.generate(model="gpt-image-1.5", prompt="p", stream=True))
    for text in _exception_texts(info.value):
        assert SECRET not in text


def test_password_in_base_url_is_not_in_repr() -> None:
    """A relay URL with credentials (user:password@host) must not show through repr(client)."""
    password = "hunter2-PLANTED-pw"
    c = client(Server(ok_b64()), base_url=f"https://user:{password}@relay.example.test/v1")
    assert password not in repr(c)


def test_password_in_base_url_is_not_in_the_deviation_warning(caplog: pytest.LogCaptureFixture) -> None:
    """The "answer deviates from the contract" warning names the base URL: it must be redacted like other URLs."""
    password = "hunter2-PLANTED-pw"
    server = Server(json_response(images_body({"b64_json": b64(PNG)}, created=None)))
    c = client(server, base_url=f"https://user:{password}@relay.example.test/v1")
    with caplog.at_level(logging.DEBUG, logger="imagewire_client"):
        c.images.generate(model="gpt-image-1.5", prompt="p")
    assert server.count == 1
    assert any("deviates" in r.getMessage() for r in caplog.records)
    for text in _record_texts(caplog.records):
        assert password not in text
