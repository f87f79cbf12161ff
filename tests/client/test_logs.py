"""imagewire_client._logs: redaction of headers, URLs and text, and the (cheap) log lines."""

from __future__ import annotations

import logging

import httpx
import pytest

from imagewire_client import _errors, _logs
from imagewire_client._logs import (
    REDACTED,
    SENSITIVE_HEADERS,
    log_response,
    log_retry,
    logger,
    mask_secrets,
    redact_headers,
    redact_url,
)

SECRET = "sk-test-PLANTED0123456789abcdef"

# the Azure SAS URL of the spec's Dalle3UrlResponse example
SAS = (
    "https://oaidalleapiprodscus.blob.core.windows.net/private/org-Dy8ARyqBtu507OGoMBxfUU0S/user-n4L5wc2dF1fH9APAG2dE3Rw9/"
    "img-oEeMH1QJWSvtVlmG3yc1KOqx.png?st=2025-06-12T18%3A34%3A25Z&se=2025-06-12T20%3A34%3A25Z&sp=r&sv=2024-08-04&sr=b"
    "&rscd=inline&rsct=image/png&skoid=475fd488-6c59-44a5-9aa9-31c4db451bea&sktid=a48cca56-e6da-484e-a814-9c849652bcb3"
    "&skt=2025-06-12T11%3A41%3A33Z&ske=2025-06-13T11%3A41%3A33Z&sks=b&skv=2024-08-04"
    "&sig=%2BjegkXiCFSi3l80vNiH1IOij4nQ%2BD%2Bd%2BNitOmxISJ1c%3D"
)


def test_logger_name() -> None:
    assert logger is logging.getLogger("imagewire_client")
    assert logger.name == "imagewire_client"


def test_errors_share_the_one_redaction() -> None:
    assert vars(_errors)["redact_headers"] is _logs.redact_headers


# ------------------------------------------------------------------------------------------ headers


def test_the_listed_headers() -> None:
    assert {
        "authorization",
        "api-key",
        "x-api-key",
        "openai-organization",
        "openai-project",
        "cookie",
        "set-cookie",
        "x-goog-api-key",
        "ocp-apim-subscription-key",
        "proxy-authorization",
    } == SENSITIVE_HEADERS


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "AUTHORIZATION",
        "api-key",
        "Api-Key",
        "X-API-KEY",
        "OpenAI-Organization",
        "openai-project",
        "Cookie",
        "Set-Cookie",
        "Proxy-Authorization",
        "x-goog-api-key",
        "X-Auth-Token",
        "x-client-secret",
    ],
)
def test_redact_headers_case_insensitive(name: str) -> None:
    redacted = redact_headers({name: SECRET, "Content-Type": "application/json"})
    assert redacted == {name.lower(): REDACTED, "content-type": "application/json"}


def test_redact_headers_keeps_useful_headers() -> None:
    headers = {
        "x-request-id": "req_1",
        "retry-after": "3",
        "x-ratelimit-remaining-tokens": "100",
        "x-ratelimit-reset-tokens": "6m0s",
        "openai-processing-ms": "812",
        "x-should-retry": "true",
    }
    assert redact_headers(headers) == headers


def test_redact_headers_masks_secrets_in_other_values() -> None:
    assert redact_headers({"x-debug": f"forwarded Bearer {SECRET}"}) == {"x-debug": f"forwarded Bearer {REDACTED}"}


def test_redact_headers_inputs() -> None:
    assert redact_headers(None) == {}
    assert redact_headers([("Authorization", "a"), ("X-Thing", "1"), ("x-thing", "2")]) == {
        "authorization": REDACTED,
        "x-thing": "1, 2",
    }
    headers = httpx.Headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Vary", "a"), ("Vary", "b")])
    assert redact_headers(headers) == {"set-cookie": REDACTED, "vary": "a, b"}


def test_redact_headers_returns_a_copy() -> None:
    original = {"Authorization": SECRET}
    copy = redact_headers(original)
    copy["x"] = "y"
    assert original == {"Authorization": SECRET}


# ------------------------------------------------------------------------------------------ URLs


def test_redact_url_azure_sas() -> None:
    safe = redact_url(SAS)
    for name in ("sig", "se", "skoid", "sktid"):
        assert f"&{name}={REDACTED}" in safe
    assert "%2BjegkXiCFSi3l80vNiH1IOij4nQ" not in safe and "475fd488" not in safe and "a48cca56" not in safe
    assert safe.startswith("https://oaidalleapiprodscus.blob.core.windows.net/private/org-Dy8ARyqBtu507OGoMBxfUU0S/")
    assert all(f"{name}={REDACTED}" in safe for name in ("sp", "sv", "sr", "st"))  # the keys stay, the values go


@pytest.mark.parametrize("name", ["key", "api-key", "api_key", "token", "access_token", "KEY", "Api-Key", "api%2Dkey"])
def test_redact_url_keys(name: str) -> None:
    safe = redact_url(f"https://relay.example/v1/images/generations?model=dall-e-3&{name}={SECRET}#frag")
    assert SECRET not in safe
    assert safe == f"https://relay.example/v1/images/generations?model=dall-e-3&{name}={REDACTED}#frag"


def test_redact_url_leaves_other_urls_alone() -> None:
    for url in (
        "https://api.openai.com/v1/images/generations",
        "https://x.openai.azure.com/openai/deployments/dalle3/images/generations?api-version=2024-02-01",
        "https://example.com/?monkey=1&keyword=2",
        "not a url at all",
        "",
    ):
        assert redact_url(url) == url


def test_redact_url_userinfo_and_httpx_url() -> None:
    assert redact_url("https://user:hunter2@proxy.example:8080/v1") == f"https://user:{REDACTED}@proxy.example:8080/v1"
    assert redact_url("https://tokenonly@proxy.example/v1") == f"https://{REDACTED}@proxy.example/v1"
    assert (
        redact_url(httpx.URL("https://relay.example/v1?key=abc&n=1")) == f"https://relay.example/v1?key={REDACTED}&n=1"
    )


# ------------------------------------------------------------------------------------------ free text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {SECRET}", f"Authorization: Bearer {REDACTED}"),
        (f"key {SECRET} was rejected", f"key {REDACTED} was rejected"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF123", f"Bearer {REDACTED}"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcDEF123 here", f"jwt {REDACTED} here"),
        ("GET https://x.example/v1?api_key=abc123&n=1", f"GET https://x.example/v1?api_key={REDACTED}&n=1"),
        ("Basic dXNlcjpwYXNzd29yZA==", f"Basic {REDACTED}"),
        ("sk-proj-ABCDEFGH12345678_-xyz", REDACTED),
    ],
)
def test_mask_secrets(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.",
        "Bearer authentication is required",
        "Basic plan users cannot use gpt-image-2",
        "Rate limit reached for gpt-image-1.5 on tokens per min (TPM): Limit 5, Used 5.",
        "task-0123456789 failed",
        "",
    ],
)
def test_mask_secrets_leaves_prose_alone(text: str) -> None:
    assert mask_secrets(text) == text


# ------------------------------------------------------------------------------------------ log lines


def test_log_response_success_is_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="imagewire_client"):
        log_response("POST", f"https://relay.example/v1/images/generations?key={SECRET}", 200, 1.23456, "req_ok")
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG and record.name == "imagewire_client"
    assert (
        record.getMessage()
        == f"POST https://relay.example/v1/images/generations?key={REDACTED} -> 200 in 1.235s (request id req_ok)"
    )
    assert record.imagewire_status == 200  # type: ignore[attr-defined]
    assert record.imagewire_request_id == "req_ok"  # type: ignore[attr-defined]
    assert SECRET not in caplog.text


def test_log_response_error_is_info(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="imagewire_client"):
        log_response("POST", "https://api.openai.com/v1/images/generations", 200, 0.5)  # below INFO: not logged
        log_response("POST", "https://api.openai.com/v1/images/generations", 429, 0.5)
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == "POST https://api.openai.com/v1/images/generations -> 429 in 0.500s (request id -)"


def test_log_retry(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="imagewire_client"):
        log_retry("POST", httpx.URL(SAS), attempt=1, max_retries=2, delay=0.5, reason=f"status 429 for Bearer {SECRET}")
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    message = record.getMessage()
    assert message.startswith("retrying POST https://oaidalleapiprodscus.blob.core.windows.net/")
    assert "in 0.50s (retry 1 of 2): status 429 for Bearer [REDACTED]" in message
    assert SECRET not in message and "%2BjegkXiCFSi3l80vNiH1IOij4nQ" not in message


class Exploding:
    """A URL that must never be looked at."""

    def __str__(self) -> str:
        raise AssertionError("formatted although logging is disabled")


def test_disabled_logging_costs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="imagewire_client"):
        log_response("POST", Exploding(), 200, 0.1, None)  # type: ignore[arg-type]
        log_response("POST", Exploding(), 500, 0.1, None)  # type: ignore[arg-type]
        log_retry("POST", Exploding(), attempt=1, max_retries=2, delay=1.0, reason="x")  # type: ignore[arg-type]
    assert caplog.records == []


def test_no_handlers_added() -> None:
    assert not any(
        type(h) is not logging.NullHandler and not h.__class__.__module__.startswith("_pytest") for h in logger.handlers
    )


def test_signed_url_values_of_every_cloud_are_redacted() -> None:
    url = "https://blob.example/i.png?se=2026-01-01&sig=abc&X-Amz-Signature=def&X-Goog-Credential=ghi&w=1"
    assert redact_url(url) == (
        "https://blob.example/i.png?se=[REDACTED]&sig=[REDACTED]&X-Amz-Signature=[REDACTED]"
        "&X-Goog-Credential=[REDACTED]&w=1"
    )
    assert "def" not in mask_secrets(f"failed: {url}") and "ghi" not in mask_secrets(f"failed: {url}")


def test_httpx_and_httpcore_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from imagewire_client import _logs

    _logs.redact_library_logs()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("httpx").info(
            'HTTP Request: POST %s "HTTP/1.1 200 OK"', "https://h.example/v1?api-key=k123456"
        )
        logging.getLogger("httpcore.http11").debug(
            "receive_response_headers.complete return_value=%s",
            (b"HTTP/1.1", 200, b"OK", [(b"Set-Cookie", b"session=s3cr3t"), (b"Authorization", b"Bearer up5tream")]),
        )
    text = caplog.text
    assert "k123456" not in text and "s3cr3t" not in text and "up5tream" not in text
    assert "api-key=[REDACTED]" in text and "(b'Set-Cookie', b'[REDACTED]')" in text


def test_the_scrubber_uses_the_clients_list() -> None:
    from imagewire.record import scrub
    from imagewire_client import wire

    assert scrub.SENSITIVE_HEADERS is wire.SENSITIVE_HEADERS
    assert scrub.SIGNED_QUERY_KEYS is wire.SENSITIVE_QUERY_KEYS
