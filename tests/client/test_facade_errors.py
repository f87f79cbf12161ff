"""Error answers are raised (never returned) as the right class, from real-shaped bodies."""

from __future__ import annotations

import httpx
import pytest
from support.client import Server, client, error_body, json_response

INVALID_SIZE = error_body(
    "Invalid value: '512x512'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.",
    "invalid_request_error",
    "invalid_value",
    "size",
)
CONTENT_POLICY = error_body(
    "Your request was rejected as a result of our safety system", "invalid_request_error", "content_policy_violation"
)
MODERATION = error_body(
    "Your request was rejected by the safety system.",
    "image_generation_user_error",
    "moderation_blocked",
    moderation_details={"moderation_stage": "input", "categories": ["violence"]},
)
INVALID_KEY = error_body(
    "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.",
    "invalid_request_error",
    "invalid_api_key",
)
AZURE_401 = {
    "error": {
        "code": "401",
        "message": "Access denied due to invalid subscription key or wrong API endpoint.",
    }
}
REGION = error_body(
    "Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory"
)
MODEL_NOT_FOUND = error_body(
    "The model `gpt-image-9` does not exist or you do not have access to it.",
    "invalid_request_error",
    "model_not_found",
)
RATE_LIMIT = error_body(
    "Rate limit reached for gpt-image-1.5 on images per minute (IPM): Limit 5, Used 5.",
    "requests",
    "rate_limit_exceeded",
)
QUOTA = error_body(
    "You exceeded your current quota, please check your plan and billing details.",
    "insufficient_quota",
    "insufficient_quota",
)
SERVER = error_body("The server had an error while processing your request. Sorry about that!", "server_error")


def raise_for(response: httpx.Response, **kwargs):  # type: ignore[no-untyped-def]
    server = Server(response)
    c = client(server, max_retries=0, **kwargs)
    with pytest.raises(Exception) as info:
        c.images.generate(model="gpt-image-1.5", prompt="p")
    assert server.count == 1
    return info.value


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (400, INVALID_SIZE, "BadRequestError", "invalid_value"),
        (400, CONTENT_POLICY, "ContentPolicyError", "content_policy_violation"),
        (400, MODERATION, "ContentPolicyError", "moderation_blocked"),
        (401, INVALID_KEY, "AuthenticationError", "invalid_api_key"),
        (401, AZURE_401, "AuthenticationError", "401"),
        (403, REGION, "PermissionDeniedError", "unsupported_country_region_territory"),
        (404, MODEL_NOT_FOUND, "ModelNotFoundError", "model_not_found"),
        (429, RATE_LIMIT, "RateLimitError", "rate_limit_exceeded"),
        (429, QUOTA, "QuotaExceededError", "insufficient_quota"),
        (500, SERVER, "InternalServerError", None),
        (502, error_body("Bad gateway", "server_error"), "InternalServerError", None),
        (
            503,
            error_body("The engine is currently overloaded, please try again later", "server_error", "overloaded"),
            "InternalServerError",
            "overloaded",
        ),
    ],
)
def test_error_class_from_real_body(status: int, body: dict, cls: str, code: str | None) -> None:
    import imagewire_client

    err = raise_for(json_response(body, status, headers={"x-request-id": "req_123"}))
    expected = getattr(imagewire_client, cls)
    assert type(err) is expected, (type(err), err)
    assert isinstance(err, imagewire_client.APIStatusError)
    assert isinstance(err, imagewire_client.ImagewireError)
    assert err.status_code == status
    assert err.code == code
    assert err.message == (body["error"]["message"])
    assert err.request_id == "req_123"
    assert err.message in str(err)


def test_bad_request_has_param_and_type() -> None:
    from imagewire_client import BadRequestError

    err = raise_for(json_response(INVALID_SIZE, 400))
    assert isinstance(err, BadRequestError)
    assert err.param == "size"
    assert err.type == "invalid_request_error"


def test_moderation_details_are_kept() -> None:
    err = raise_for(json_response(MODERATION, 400))
    assert err.moderation_details == {"moderation_stage": "input", "categories": ["violence"]}


def test_content_policy_is_a_bad_request_and_model_not_found_a_not_found() -> None:
    from imagewire_client import BadRequestError, NotFoundError

    assert isinstance(raise_for(json_response(CONTENT_POLICY, 400)), BadRequestError)
    assert isinstance(raise_for(json_response(MODEL_NOT_FOUND, 404)), NotFoundError)


def test_quota_is_not_a_rate_limit_error() -> None:
    from imagewire_client import RateLimitError

    err = raise_for(json_response(QUOTA, 429))
    assert not isinstance(err, RateLimitError)


def test_rate_limit_carries_retry_after() -> None:
    err = raise_for(json_response(RATE_LIMIT, 429, headers={"retry-after": "7"}))
    assert err.retry_after == 7.0


def test_text_plain_body() -> None:
    from imagewire_client import InternalServerError

    err = raise_for(
        httpx.Response(
            502,
            headers={"content-type": "text/plain"},
            text="upstream connect error or disconnect/reset before headers",
        )
    )
    assert isinstance(err, InternalServerError)
    assert "upstream connect error" in err.message
    assert err.code is None
    assert err.error is None


def test_html_error_page() -> None:
    from imagewire_client import InternalServerError

    page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
    err = raise_for(httpx.Response(502, headers={"content-type": "text/html"}, text=page))
    assert isinstance(err, InternalServerError)
    assert "502 Bad Gateway" in err.message
    assert "<" not in err.message


def test_body_without_error_wrapper() -> None:
    from imagewire_client import BadRequestError

    err = raise_for(json_response({"message": "Invalid size for model dall-e-3", "type": "invalid_request_error"}, 400))
    assert isinstance(err, BadRequestError)
    assert err.message == "Invalid size for model dall-e-3"
    assert err.type == "invalid_request_error"


def test_aipomogator_error_without_code() -> None:
    from imagewire_client import BadRequestError

    body = {"error": {"message": "Invalid size for model dall-e-3", "type": "invalid_request_error"}}
    err = raise_for(json_response(body, 400))
    assert type(err) is BadRequestError
    assert err.code is None


def test_numeric_code_becomes_text() -> None:
    err = raise_for(json_response({"error": {"message": "Too many", "code": 429, "param": ""}}, 429))
    assert err.code == "429"
    assert err.param is None


def test_empty_error_body() -> None:
    from imagewire_client import InternalServerError

    err = raise_for(httpx.Response(503, content=b""))
    assert isinstance(err, InternalServerError)
    assert err.message


def test_unlisted_status_is_a_plain_status_error() -> None:
    from imagewire_client import APIStatusError

    err = raise_for(json_response(error_body("Payment required", "billing"), 402))
    assert type(err) is APIStatusError
    assert err.status_code == 402


def test_errors_are_raised_not_returned_for_edit() -> None:
    from support.client import PNG

    from imagewire_client import AuthenticationError

    server = Server(json_response(INVALID_KEY, 401))
    c = client(server)
    with pytest.raises(AuthenticationError):
        c.images.edit(model="gpt-image-1.5", prompt="p", image=PNG)
    assert server.count == 1
