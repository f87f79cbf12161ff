"""imagewire_client._errors: one exception tree, read from every error body shape providers send."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from imagewire_client import _errors as errors
from imagewire_client._error_parsing import error_from_payload, error_from_response, request_id_from_headers
from imagewire_client._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentPolicyError,
    ImagewireError,
    InternalServerError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestTooLargeError,
    ResponseContractError,
    UnprocessableEntityError,
    UnsupportedMediaTypeError,
    ValidationError,
    parse_retry_after,
)
from imagewire_client._retry import retryable_status
from imagewire_client._status import STATUS_CLASSES

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-test-PLANTED0123456789abcdef"
JSON = {"content-type": "application/json"}


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def envelope(**error: Any) -> bytes:
    return body({"error": error})


def answer(status: int, content: bytes | str, headers: dict[str, str] | None = None) -> APIStatusError:
    raw = content.encode() if isinstance(content, str) else content
    return error_from_response(status, {**JSON, **(headers or {})}, raw)


# ------------------------------------------------------------------------------------------ the tree

TREE = [
    (ValidationError, ImagewireError),
    (ValidationError, ValueError),
    (APIConnectionError, ImagewireError),
    (APITimeoutError, APIConnectionError),
    (ResponseContractError, ImagewireError),
    (APIStatusError, ImagewireError),
    (BadRequestError, APIStatusError),
    (ContentPolicyError, BadRequestError),
    (AuthenticationError, APIStatusError),
    (PermissionDeniedError, APIStatusError),
    (NotFoundError, APIStatusError),
    (ModelNotFoundError, NotFoundError),
    (ConflictError, APIStatusError),
    (RequestTooLargeError, APIStatusError),
    (UnsupportedMediaTypeError, APIStatusError),
    (UnprocessableEntityError, APIStatusError),
    (RateLimitError, APIStatusError),
    (QuotaExceededError, APIStatusError),
    (InternalServerError, APIStatusError),
]


@pytest.mark.parametrize(("child", "parent"), TREE)
def test_tree(child: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(child, parent)


def test_quota_is_not_a_rate_limit() -> None:
    assert not issubclass(QuotaExceededError, RateLimitError)
    assert not issubclass(RateLimitError, QuotaExceededError)


def test_docstring_draws_the_tree() -> None:
    doc = errors.__doc__ or ""
    for cls, _ in TREE:
        assert cls.__name__ in doc
    assert "└── APIStatusError" in doc


def declared_error_statuses() -> list[int]:
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text(encoding="utf-8"))
    statuses = {
        int(status)
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for status in op.get("responses", {})
        if str(status).isdigit() and int(status) >= 400
    }
    return sorted(statuses)


def test_status_table_is_generated_from_the_spec() -> None:
    assert sorted(STATUS_CLASSES) == declared_error_statuses()


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, RequestTooLargeError),
        (415, UnsupportedMediaTypeError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),  # not declared: still a 5xx
        (599, InternalServerError),
        (402, APIStatusError),
        (418, APIStatusError),
        (451, APIStatusError),
    ],
)
def test_status_classes_with_the_generic_shape(status: int, cls: type[APIStatusError]) -> None:
    err = answer(
        status,
        envelope(
            message="Human-readable explanation of the failure.", type="invalid_request_error", param=None, code=None
        ),
    )
    assert type(err) is cls
    assert err.status_code == status
    assert err.message == "Human-readable explanation of the failure."
    assert err.code is None and err.param is None and err.type == "invalid_request_error"


# ------------------------------------------------------------------------------------------ real bodies


def test_aipomogator_invalid_size() -> None:  # seed 002, no code, no param
    err = answer(400, envelope(message="Invalid size for model dall-e-3", type="invalid_request_error"))
    assert type(err) is BadRequestError
    assert (err.message, err.type, err.code, err.param) == (
        "Invalid size for model dall-e-3",
        "invalid_request_error",
        None,
        None,
    )
    assert err.error == {"message": "Invalid size for model dall-e-3", "type": "invalid_request_error"}
    assert "HTTP 400" in str(err) and "Invalid size for model dall-e-3" in str(err)


def test_aipomogator_content_policy_violation() -> None:  # seed 002
    err = answer(
        400,
        envelope(
            message="Your request was rejected as a result of our safety system",
            type="invalid_request_error",
            code="content_policy_violation",
        ),
    )
    assert type(err) is ContentPolicyError
    assert isinstance(err, BadRequestError)
    assert err.code == "content_policy_violation"
    assert err.moderation_details is None
    assert not retryable_status(err)


def test_moderation_blocked_with_details() -> None:
    err = answer(
        400,
        envelope(
            message="Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_0123456789abcdef.",
            type="image_generation_user_error",
            param=None,
            code="moderation_blocked",
            moderation_details={"moderation_stage": "input", "categories": ["violence"]},
        ),
        {"x-request-id": "req_0123456789abcdef"},
    )
    assert type(err) is ContentPolicyError
    assert err.moderation_details == {"moderation_stage": "input", "categories": ["violence"]}
    assert err.type == "image_generation_user_error"
    assert err.request_id == "req_0123456789abcdef"
    assert "moderation_blocked" in str(err) and "req_0123456789abcdef" in str(err)


def test_content_policy_whatever_the_status() -> None:
    err = answer(403, envelope(message="blocked", code="moderation_blocked"))
    assert type(err) is ContentPolicyError and err.status_code == 403


def test_azure_content_filter() -> None:
    err = answer(
        400,
        envelope(
            code="content_filter",
            message="The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
            param="prompt",
            status=400,
            inner_error={
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_results": {"violence": {"filtered": True, "severity": "high"}},
            },
        ),
        {"apim-request-id": "0bb1f3b2-azure"},
    )
    assert type(err) is ContentPolicyError
    assert err.param == "prompt"
    assert err.request_id == "0bb1f3b2-azure"
    assert err.error is not None and err.error["inner_error"]["code"] == "ResponsibleAIPolicyViolation"


@pytest.mark.parametrize(
    ("message", "param", "code"),
    [
        (
            "Invalid value: '256x256'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.",
            "size",
            "invalid_value",
        ),
        (
            "Invalid file 'image': unsupported mimetype ('application/octet-stream').",
            "image",
            "unsupported_file_mimetype",
        ),
        ("Unknown parameter: 'response_format'.", "response_format", "unknown_parameter"),
    ],
)
def test_other_bad_requests(message: str, param: str, code: str) -> None:
    err = answer(400, envelope(message=message, type="invalid_request_error", param=param, code=code))
    assert type(err) is BadRequestError
    assert (err.message, err.param, err.code) == (message, param, code)


def test_invalid_api_key() -> None:
    message = "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys."
    err = answer(401, envelope(message=message, type="invalid_request_error", param=None, code="invalid_api_key"))
    assert type(err) is AuthenticationError
    assert err.code == "invalid_api_key"
    assert err.message == message  # the server's own masked key is no credential: left as sent


def test_azure_401_numeric_string_code_without_type() -> None:
    message = "Access denied due to invalid subscription key or wrong API endpoint."
    err = answer(401, body({"error": {"code": "401", "message": message}}), {"apim-request-id": "a1b2"})
    assert type(err) is AuthenticationError
    assert (err.code, err.type, err.message, err.request_id) == ("401", None, message, "a1b2")


def test_forbidden_region() -> None:
    err = answer(
        403,
        envelope(
            message="Country, region, or territory not supported",
            type="request_forbidden",
            param=None,
            code="unsupported_country_region_territory",
        ),
    )
    assert type(err) is PermissionDeniedError


def test_model_not_found() -> None:
    err = answer(
        404,
        envelope(
            message="The model `gpt-image-9` does not exist or you do not have access to it.",
            type="invalid_request_error",
            param=None,
            code="model_not_found",
        ),
    )
    assert type(err) is ModelNotFoundError
    assert isinstance(err, NotFoundError)
    assert not retryable_status(err)


def test_model_not_found_from_the_message_only() -> None:
    err = answer(404, envelope(message="The model `dall-e-4` does not exist", type="invalid_request_error"))
    assert type(err) is ModelNotFoundError


def test_model_not_found_code_on_another_status() -> None:  # one-api style relays answer 503
    err = answer(
        503, envelope(message="no channel for model gpt-image-9", type="new_api_error", code="model_not_found")
    )
    assert type(err) is ModelNotFoundError and err.status_code == 503
    assert not retryable_status(err)


def test_azure_deployment_not_found() -> None:
    err = answer(
        404, envelope(code="DeploymentNotFound", message="The API deployment for this resource does not exist.")
    )
    assert type(err) is ModelNotFoundError


def test_plain_404_is_not_a_missing_model() -> None:
    err = answer(404, envelope(message="Invalid URL (POST /v1/images/variations)", type="invalid_request_error"))
    assert type(err) is NotFoundError


def test_rate_limit_with_retry_after_seconds() -> None:
    err = answer(
        429,
        envelope(
            message="Rate limit reached for gpt-image-1.5 in organization org-abc123 on images per minute (IPM): Limit 5, Used 5, Requested 1. Please try again in 12s.",
            type="requests",
            param=None,
            code="rate_limit_exceeded",
        ),
        {"retry-after": "12", "x-request-id": "req_rl"},
    )
    assert type(err) is RateLimitError
    assert err.retry_after == 12.0
    assert retryable_status(err)
    assert "retry_after=12.0" in str(err) and "retry_after=12.0" in repr(err)


def test_rate_limit_with_retry_after_ms() -> None:
    err = answer(
        429, envelope(message="slow down", code="rate_limit_exceeded"), {"retry-after-ms": "1500", "retry-after": "2"}
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after == 1.5  # the precise header wins


def test_rate_limit_with_http_date() -> None:
    later = datetime.now(UTC) + timedelta(seconds=30)
    err = answer(
        429,
        envelope(message="slow down", code="rate_limit_exceeded"),
        {"Retry-After": format_datetime(later, usegmt=True)},
    )
    assert isinstance(err, RateLimitError)
    assert err.retry_after is not None and 25 <= err.retry_after <= 31


def test_rate_limit_without_retry_after() -> None:
    err = answer(429, envelope(message="slow down", code="rate_limit_exceeded"))
    assert isinstance(err, RateLimitError) and err.retry_after is None


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after({"retry-after": "Sat, 21 Nov 2026 12:00:30 GMT"}, now=now) == 30.0
    assert parse_retry_after({"retry-after": "Sat, 21 Nov 2026 11:00:00 GMT"}, now=now) == 0.0  # in the past
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"Retry-After-Ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "soon", "retry-after": "3"}) == 3.0
    for bad in ("", "soon", "-1", "nan", "inf"):
        assert parse_retry_after({"retry-after": bad}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after(None) is None
    assert parse_retry_after(httpx.Headers({"Retry-After": "7"})) == 7.0


def test_insufficient_quota_on_429_is_quota_not_rate_limit() -> None:
    err = answer(
        429,
        envelope(
            message="You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            param=None,
            code="insufficient_quota",
        ),
        {"retry-after": "1", "x-should-retry": "true"},
    )
    assert type(err) is QuotaExceededError
    assert not isinstance(err, RateLimitError)
    assert not retryable_status(err)


def test_billing_hard_limit_on_400() -> None:
    err = answer(
        400,
        envelope(
            message="Billing hard limit has been reached",
            type="invalid_request_error",
            param=None,
            code="billing_hard_limit_reached",
        ),
    )
    assert type(err) is QuotaExceededError
    assert err.status_code == 400
    assert not retryable_status(err)


def test_quota_from_type_alone() -> None:
    err = answer(403, envelope(message="out of credit", type="insufficient_quota", code=None))
    assert type(err) is QuotaExceededError


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "The server had an error while processing your request. Sorry about that!"),
        (502, "Bad gateway"),
        (503, "The engine is currently overloaded, please try again later"),
    ],
)
def test_server_errors(status: int, message: str) -> None:
    err = answer(status, envelope(message=message, type="server_error", param=None, code=None))
    assert type(err) is InternalServerError
    assert err.message == message
    assert retryable_status(err)


# ------------------------------------------------------------------------------------------ tolerance


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (429, "429"),
        ("429", "429"),
        (400.0, "400"),
        (None, None),
        ("", None),
        ("  ", None),
        ("x", "x"),
        (True, "true"),
        ({"a": 1}, None),
    ],
)
def test_codes_become_text(code: Any, expected: str | None) -> None:
    err = answer(400, envelope(message="m", code=code))
    assert err.code == expected


def test_integer_code() -> None:
    err = answer(400, envelope(message="bad", type="invalid_request_error", code=400))
    assert type(err) is BadRequestError and err.code == "400"


def test_empty_param_and_unknown_type() -> None:
    err = answer(400, envelope(message="bad", type="some_new_type_2027", param="", code="something_new"))
    assert type(err) is BadRequestError
    assert (err.param, err.type, err.code) == (None, "some_new_type_2027", "something_new")


def test_extra_keys_are_kept() -> None:
    err = answer(400, envelope(message="bad", code="x", extra={"k": [1, 2]}, sequence=3))
    assert err.error == {"message": "bad", "code": "x", "extra": {"k": [1, 2]}, "sequence": 3}


def test_no_wrapper() -> None:
    err = answer(
        400, body({"message": "prompt is required", "code": "missing_prompt", "type": "invalid_request_error"})
    )
    assert type(err) is BadRequestError
    assert (err.message, err.code, err.type) == ("prompt is required", "missing_prompt", "invalid_request_error")


def test_detail_string() -> None:
    err = answer(404, body({"detail": "Not Found"}))
    assert type(err) is NotFoundError and err.message == "Not Found"


def test_detail_list_fastapi() -> None:
    err = answer(
        422,
        body(
            {
                "detail": [
                    {
                        "loc": ["body", "size"],
                        "msg": "value is not a valid enumeration member",
                        "type": "type_error.enum",
                    }
                ]
            }
        ),
    )
    assert type(err) is UnprocessableEntityError
    assert err.message == "body.size: value is not a valid enumeration member"


def test_error_as_text() -> None:
    err = answer(401, body({"error": "Invalid token"}))
    assert type(err) is AuthenticationError and err.message == "Invalid token"


def test_oauth_style_error() -> None:
    err = answer(401, body({"error": "invalid_token", "error_description": "The access token expired"}))
    assert (err.message, err.code) == ("The access token expired", "invalid_token")


def test_google_list_envelope() -> None:
    err = answer(
        429,
        body(
            [
                {
                    "error": {
                        "code": 429,
                        "message": "Resource has been exhausted (e.g. check quota).",
                        "status": "RESOURCE_EXHAUSTED",
                    }
                }
            ]
        ),
    )
    assert type(err) is RateLimitError
    assert (err.code, err.type) == ("429", "RESOURCE_EXHAUSTED")


def test_errors_list_envelope() -> None:
    err = answer(401, body({"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]}))
    assert type(err) is AuthenticationError and (err.message, err.code) == ("Authentication error", "10000")


def test_json_without_known_keys() -> None:
    err = answer(500, body({"foo": 1}))
    assert type(err) is InternalServerError and err.error is None and err.message == '{"foo": 1}'


def test_text_plain() -> None:
    err = error_from_response(
        502,
        {"content-type": "text/plain"},
        b"upstream connect error or disconnect/reset before headers. reset reason: overflow\n",
    )
    assert type(err) is InternalServerError
    assert err.message == "upstream connect error or disconnect/reset before headers. reset reason: overflow"
    assert err.error is None and err.code is None


NGINX = b"""<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.25.3</center>
</body>
</html>
"""

CLOUDFLARE = (
    b"<!DOCTYPE html><html lang='en'><head><title>api.example.com | 524: A timeout occurred</title>"
    b"<style>body{font-family:sans-serif}</style><script>window.cf = {a: 1};</script></head>"
    b"<body><h1>A timeout occurred</h1><p>The origin web server timed out responding to this request.&nbsp;"
    + b"Lorem ipsum dolor sit amet. " * 40
    + b"</p></body></html>"
)


def test_html_page() -> None:
    err = error_from_response(502, {"content-type": "text/html"}, NGINX)
    assert type(err) is InternalServerError
    assert err.message == "502 Bad Gateway nginx/1.25.3"
    assert "<" not in str(err)
    assert err.body.startswith("<html>")


def test_long_html_page() -> None:
    err = error_from_response(524, {"content-type": "text/html; charset=UTF-8"}, CLOUDFLARE)
    assert type(err) is InternalServerError
    assert err.message.startswith("api.example.com | 524: A timeout occurred: A timeout occurred The origin web server")
    assert "<" not in err.message and "font-family" not in err.message and "window.cf" not in err.message
    assert len(err.message) <= 201


def test_html_without_content_type() -> None:
    err = error_from_response(503, {}, b"<h1>Service Unavailable</h1>")
    assert err.message == "Service Unavailable"


@pytest.mark.parametrize("content", [b"", b"   \n", None])
def test_empty_body(content: bytes | None) -> None:
    err = error_from_response(503, {}, content)
    assert type(err) is InternalServerError
    assert err.message == "Service Unavailable (empty body)"
    assert str(err) == "HTTP 503: Service Unavailable (empty body)"


def test_empty_body_unknown_status() -> None:
    err = error_from_response(499, {}, b"")
    assert type(err) is APIStatusError and err.message == "Error (empty body)"


def test_invalid_utf8() -> None:
    err = error_from_response(400, JSON, b'{"error": {"message": "bad \xff\xfe byte", "code": "x"}}')
    assert type(err) is BadRequestError
    assert err.message == "bad \ufffd\ufffd byte" and err.code == "x"
    err = error_from_response(500, {}, b"\xff\xfe\xfa garbage")
    assert type(err) is InternalServerError and "garbage" in err.message


def test_bom_and_truncated_json() -> None:
    err = error_from_response(400, JSON, b"\xef\xbb\xbf" + envelope(message="with bom", code="c"))
    assert err.message == "with bom"
    err = error_from_response(400, JSON, b'{"error": {"message": "cut sho')
    assert type(err) is BadRequestError and err.message == '{"error": {"message": "cut sho'


def test_body_is_truncated() -> None:
    err = answer(500, envelope(message="x" * 10_000))
    assert len(err.body) < 4200 and "truncated" in err.body
    assert len(err.message) < 2100


def test_very_large_body_is_not_parsed() -> None:
    err = error_from_response(500, JSON, b'{"error": {"message": "' + b"a" * 2_000_000 + b'"}}')
    assert type(err) is InternalServerError and len(err.body) < 4200 and len(err.message) <= 201


def test_deeply_nested_json() -> None:
    err = error_from_response(400, JSON, b"[" * 100_000 + b"]" * 100_000)
    assert type(err) is BadRequestError


@pytest.mark.parametrize("name", ["x-request-id", "X-Request-Id", "apim-request-id", "x-ms-request-id"])
def test_request_id_headers(name: str) -> None:
    err = answer(500, envelope(message="m"), {name: "rid-1"})
    assert err.request_id == "rid-1"
    assert "request_id=rid-1" in str(err) and "rid-1" in repr(err)


def test_request_id_preference_and_body_fallback() -> None:
    assert request_id_from_headers({"apim-request-id": "b", "x-request-id": "a"}) == "a"
    assert request_id_from_headers(httpx.Headers({"X-Ms-Request-Id": "c"})) == "c"
    assert request_id_from_headers({}) is None
    err = answer(500, body({"error": {"message": "m"}, "request_id": "from-body"}))
    assert err.request_id == "from-body"


def test_httpx_headers_and_request() -> None:
    request = httpx.Request(
        "POST", "https://api.openai.com/v1/images/generations", headers={"Authorization": "Bearer sk-kept-out-12345"}
    )
    headers = httpx.Headers([("Content-Type", "application/json"), ("X-Request-Id", "req_h"), ("Retry-After", "3")])
    err = error_from_response(429, headers, envelope(message="m", code="rate_limit_exceeded"), request=request)
    assert isinstance(err, RateLimitError)
    assert err.request_id == "req_h" and err.retry_after == 3.0
    # the exception keeps a redacted copy of the request, never its credentials
    assert err.request is not None and err.request is not request
    assert (err.request.method, str(err.request.url)) == ("POST", "https://api.openai.com/v1/images/generations")
    assert err.request.headers["authorization"] == "[REDACTED]"
    assert "sk-kept-out" not in repr(vars(err))
    assert err.headers["retry-after"] == "3"
    assert "Request" not in repr(err)


@settings(max_examples=300, deadline=None)
@given(status=st.integers(min_value=400, max_value=599), content=st.binary(max_size=300))
def test_never_raises_on_bytes(status: int, content: bytes) -> None:
    err = error_from_response(status, {}, content)
    assert isinstance(err, APIStatusError) and err.status_code == status
    assert str(err) and repr(err)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "message",
                    "code",
                    "type",
                    "param",
                    "detail",
                    "errors",
                    "status",
                    "msg",
                    "inner_error",
                    "moderation_details",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(status=st.integers(min_value=400, max_value=599), payload=JSONISH)
def test_never_raises_on_json(status: int, payload: Any) -> None:
    err = error_from_response(status, JSON, json.dumps(payload).encode())
    assert isinstance(err, APIStatusError)
    assert str(err) and repr(err)
    assert err.code is None or isinstance(err.code, str)
    assert err.type is None or isinstance(err.type, str)
    assert err.param is None or isinstance(err.param, str)
    assert isinstance(err.message, str) and err.message


@settings(max_examples=200, deadline=None)
@given(payload=st.dictionaries(st.sampled_from(["type", "error", "message", "code", "status"]), JSONISH, max_size=4))
def test_payload_never_raises(payload: dict[str, Any]) -> None:
    err = error_from_payload(payload)
    assert isinstance(err, APIStatusError) and str(err) and repr(err)


# ------------------------------------------------------------------------------------------ stream errors


def test_stream_error_event_with_type() -> None:
    err = error_from_payload(
        {
            "type": "error",
            "error": {"type": "requests", "code": "rate_limit_exceeded", "message": "slow down", "param": None},
        }
    )
    assert type(err) is RateLimitError and err.status_code == 429 and err.code == "rate_limit_exceeded"


def test_stream_error_without_type() -> None:
    err = error_from_payload(
        {
            "error": {
                "type": "image_generation_user_error",
                "code": "moderation_blocked",
                "message": "no",
                "moderation_details": {"moderation_stage": "output"},
            }
        }
    )
    assert type(err) is ContentPolicyError and err.moderation_details == {"moderation_stage": "output"}


def test_stream_error_flat() -> None:
    err = error_from_payload(
        {"type": "error", "code": "server_error", "message": "boom", "param": None, "sequence_number": 4}
    )
    assert type(err) is InternalServerError and err.status_code == 500 and err.type is None and err.message == "boom"


def test_stream_error_quota() -> None:
    err = error_from_payload(
        {"type": "error", "error": {"type": "insufficient_quota", "code": "insufficient_quota", "message": "pay"}}
    )
    assert type(err) is QuotaExceededError


def test_stream_error_unknown_kind_keeps_the_stream_status() -> None:
    err = error_from_payload({"type": "error", "error": {"message": "something odd"}})
    assert type(err) is APIStatusError and err.status_code == 200 and err.message == "something odd"


def test_stream_error_explicit_status_and_headers() -> None:
    err = error_from_payload({"error": {"message": "overloaded"}}, status_code=503, headers={"x-request-id": "req_s"})
    assert type(err) is InternalServerError and err.status_code == 503 and err.request_id == "req_s"
    err = error_from_payload({"error": {"message": "m", "code": 401}})
    assert type(err) is AuthenticationError


# ------------------------------------------------------------------------------------------ secrets

SECRET_HEADERS = {
    "Authorization": f"Bearer {SECRET}",
    "api-key": SECRET,
    "X-Api-Key": SECRET,
    "OpenAI-Organization": "org-PLANTEDorg",
    "OpenAI-Project": "proj_PLANTEDproject",
    "Cookie": f"session={SECRET}",
    "Set-Cookie": f"__cf_bm={SECRET}; path=/",
    "Proxy-Authorization": f"Basic {SECRET}",
    "x-request-id": "req_secret",
}


def assert_clean(err: BaseException, *planted: str) -> None:
    texts = [str(err), repr(err), str(err.args)]
    headers = getattr(err, "headers", None)
    if headers is not None:
        texts.append(json.dumps(headers))
    for name in ("message", "body", "reason"):
        if hasattr(err, name):
            texts.append(str(getattr(err, name)))
    if getattr(err, "error", None) is not None:
        texts.append(json.dumps(err.error))  # type: ignore[attr-defined]
    for text in texts:
        for secret in (SECRET, "PLANTED", *planted):
            assert secret not in text, text


@pytest.mark.parametrize("status", [400, 401, 429, 500])
def test_planted_secret_never_shows(status: int) -> None:
    content = envelope(
        message=f"Incorrect API key provided: {SECRET}. Header was Authorization: Bearer {SECRET}",
        type="invalid_request_error",
        code="invalid_api_key",
        param=SECRET,
    )
    err = error_from_response(status, {**JSON, **SECRET_HEADERS}, content)
    assert_clean(err)
    assert err.headers["authorization"] == "[REDACTED]"
    assert err.headers["api-key"] == "[REDACTED]"
    assert err.headers["x-api-key"] == "[REDACTED]"
    assert err.headers["cookie"] == "[REDACTED]"
    assert err.headers["x-request-id"] == "req_secret"
    assert "Incorrect API key provided" in err.message


def test_planted_secret_in_text_and_html_bodies() -> None:
    for content in (f"denied for Bearer {SECRET}".encode(), f"<html><body>key {SECRET}</body></html>".encode()):
        err = error_from_response(401, SECRET_HEADERS, content)
        assert_clean(err)


def test_planted_secret_in_stream_error() -> None:
    err = error_from_payload(
        {"type": "error", "error": {"message": f"bad key {SECRET}", "code": "invalid_api_key"}}, headers=SECRET_HEADERS
    )
    assert type(err) is AuthenticationError
    assert_clean(err)


def test_planted_secret_in_other_errors() -> None:
    request = httpx.Request(
        "POST",
        f"https://relay.example/v1/images/generations?key={SECRET}",
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert_clean(APIConnectionError(f"failed with Bearer {SECRET}", request=request))
    assert_clean(ResponseContractError(f"bad {SECRET}", body=f"<p>{SECRET}</p>"))
    assert_clean(ValidationError(f"user {SECRET} is not allowed", rule="value", field="user"))


def test_jwt_keys_are_masked() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQTEFOVEVEIn0.c2lnbmF0dXJlUExBTlRFRA"
    err = error_from_response(401, {"Authorization": f"Bearer {jwt}"}, envelope(message=f"token {jwt} expired"))
    assert_clean(err, jwt)


# ------------------------------------------------------------------------------------------ other classes


def test_validation_error() -> None:
    err = ValidationError(
        "size '256x256' is not accepted by gpt-image-1.5",
        rule="value",
        field="size",
        allowed=("1024x1024", "auto"),
        model="gpt-image-1.5",
    )
    assert isinstance(err, ValueError)
    assert str(err) == "size '256x256' is not accepted by gpt-image-1.5"
    assert (err.rule, err.field, err.allowed, err.model) == ("value", "size", ("1024x1024", "auto"), "gpt-image-1.5")
    assert repr(err).startswith("ValidationError(rule='value', field='size', model='gpt-image-1.5'")


def test_response_contract_error() -> None:
    err = ResponseContractError(
        "a chat.completion instead of an ImagesResponse",
        status_code=200,
        body=b'{"object": "chat.completion"' + b" " * 5000 + b"}",
        pointer="/data",
        request_id="req_c",
    )
    assert (err.status_code, err.pointer, err.request_id) == (200, "/data", "req_c")
    assert len(err.body) < 2100 and "truncated" in err.body
    text = str(err)
    assert "HTTP 200" in text and "chat.completion" in text and "/data" in text and "req_c" in text
    assert repr(err).startswith("ResponseContractError(status_code=200")


def test_connection_errors() -> None:
    request = httpx.Request("POST", "https://api.openai.com/v1/images/generations")
    err = APITimeoutError("Read timed out.", request=request, outcome="uncertain")
    assert isinstance(err, APIConnectionError)
    assert err.request is not None and str(err.request.url) == str(request.url) and err.outcome == "uncertain"
    assert str(err) == "Read timed out."
    assert "https://api.openai.com/v1/images/generations" in repr(err) and "'POST'" in repr(err)


ALL_CLASSES = [cls for cls, _ in TREE] + [ImagewireError]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_pickle_round_trip(cls: type[Exception]) -> None:
    if issubclass(cls, APIStatusError):
        err: Exception = cls(
            "msg",
            status_code=429,
            code="c",
            headers={"retry-after": "2", "authorization": "x"},
            error={"moderation_details": {"a": 1}},
        )
    else:
        err = cls("msg")
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert str(copy) == str(err) and repr(copy) == repr(err)


def test_direct_construction() -> None:
    err = RateLimitError("slow", status_code=429, headers={"Retry-After-Ms": "100"})
    assert err.retry_after == 0.1 and err.headers == {"retry-after-ms": "100"}
    err2 = APIStatusError()
    assert err2.status_code == 0 and err2.error is None and err2.headers == {}


def test_error_codes_and_request_id_headers_come_from_the_spec() -> None:
    import yaml

    from imagewire_client import _status

    catalog = yaml.safe_load((ROOT / "spec" / "errors.yaml").read_text(encoding="utf-8"))

    def norm(code: str) -> str:
        return "".join(c for c in code.lower() if c.isalnum())

    assert tuple(_status.REQUEST_ID_HEADERS) == tuple(catalog["request_id_headers"])
    assert {norm(c) for c in catalog["classes"]["quota"]} == _status.QUOTA_CODES
    assert {norm(c) for c in catalog["classes"]["content_policy"]} == _status.CONTENT_POLICY_CODES
    assert {norm(c) for c in catalog["classes"]["model_not_found"]} == _status.MODEL_NOT_FOUND_CODES
    assert dict(_status.STREAM_STATUS) == {norm(k): v for k, v in catalog["stream_status"].items()}
    assert request_id_from_headers({"Request-Id": " r1 "}) == "r1"  # the last header of the list still counts
