"""Verdicts: conforms / quirk / deviation / violation (/ skipped), decided by the spec's findings, the provider's
declared quirks and a replay through the generated client; never a traceback, whatever the body."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support.kit import interaction, sse

import imagewire_client
from imagewire.check.quirks import catalog, guess, matches
from imagewire.check.verdict import VERDICTS, Judge
from imagewire.images import tiny
from imagewire_client.catalog import Provider, Quirk

PNG = base64.b64encode(tiny("png")).decode()
JPEG = base64.b64encode(tiny("jpeg")).decode()
#: the exception classes the generated client exports: the only errors a caller may ever see
CLIENT_ERRORS = frozenset(
    name
    for name in imagewire_client.__all__
    if isinstance(getattr(imagewire_client, name), type) and issubclass(getattr(imagewire_client, name), BaseException)
)
#: JSON nested far deeper than any parser's recursion limit
DEEP = b"[" * 100_000 + b"]" * 100_000
#: image URLs a client cannot fetch: an unclosed IPv6 host, a relative path, no scheme
BAD_URLS = ("http://[::1", "/img.png", "img.png", "ftp://h.example/a.png", "http://")


def test_conforms_with_the_parsed_result(judge: Judge) -> None:
    verdict = judge.judge(interaction({"created": 1, "data": [{"url": "https://x/a.png"}, {"b64_json": PNG}]}))
    assert verdict.verdict == "conforms" and verdict.findings == []
    assert verdict.outcome is not None and verdict.outcome.kind == "result" and verdict.outcome.images == 2
    assert verdict.provider == "generic" and verdict.operation == "generations" and verdict.model == "dall-e-3"


def test_a_deviation_is_named_by_pointer_and_still_read(judge: Judge) -> None:
    verdict = judge.judge(interaction({"data": [{"url": "https://x/a.png", "index": 0}]}))
    assert verdict.verdict == "deviation"
    assert {(f.pointer, f.kind) for f in verdict.findings} == {("/created", "schema"), ("/data/0/index", "extra-key")}
    assert verdict.outcome is not None and verdict.outcome.images == 1
    assert "/created: missing (the contract requires it)" in verdict.outcome.warnings


def test_violations_are_what_the_client_cannot_honour(judge: Judge) -> None:
    cases = {
        "chat": {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "choices": []},
        "html": "<html><body>login</body></html>",
        "truncated": '{"created": 1, "data": [{"url"',
        "empty": {"created": 1, "data": []},
        "neither": {"created": 1, "data": [{"revised_prompt": "x"}]},
        "bad b64": {"created": 1, "data": [{"b64_json": "%%%"}]},
    }
    for name, body in cases.items():
        content_type = "text/html" if name == "html" else "application/json"
        verdict = judge.judge(interaction(body, content_type=content_type))
        assert verdict.verdict == "violation", name
        assert any(f.kind == "contract" for f in verdict.findings), name
    stream = judge.judge(
        interaction(
            sse({"type": "image_generation.partial_image", "b64_json": PNG, "partial_image_index": 0}),
            content_type="text/event-stream",
            request={"prompt": "x", "stream": True},
        )
    )
    assert (
        stream.verdict == "violation" and stream.outcome is not None and stream.outcome.error == "ResponseContractError"
    )


def test_error_statuses_give_typed_errors(judge: Judge) -> None:
    policy = judge.judge(
        interaction(
            {"error": {"message": "no", "type": "invalid_request_error", "code": "content_policy_violation"}},
            status=400,
        )
    )
    assert policy.verdict == "conforms" and policy.outcome is not None and policy.outcome.error == "ContentPolicyError"
    html = judge.judge(interaction("<html>502 Bad Gateway</html>", status=502, content_type="text/html"))
    assert html.verdict == "deviation" and html.outcome is not None and html.outcome.error == "InternalServerError"
    quota = judge.judge(interaction({"error": {"message": "m", "code": "insufficient_quota"}}, status=429))
    assert quota.outcome is not None and quota.outcome.error == "QuotaExceededError"


def test_streams_are_replayed_as_streams(judge: Judge) -> None:
    events = sse(
        {"type": "image_generation.partial_image", "b64_json": PNG, "partial_image_index": 0},
        ": keep-alive\n\n",
        {"type": "image_generation.completed", "b64_json": PNG, "extra": 1},
        done=True,
    )
    verdict = judge.judge(
        interaction(events, content_type="text/event-stream", request={"prompt": "x", "stream": True})
    )
    assert verdict.verdict == "deviation" and [(f.pointer, f.kind) for f in verdict.findings] == [
        ("/events/1/extra", "extra-key")
    ]
    assert verdict.outcome is not None and (verdict.outcome.events, verdict.outcome.images) == (2, 1)


def test_edits_and_variations_replay_through_their_methods(judge: Judge) -> None:
    body = {"created": 1, "data": [{"url": "https://x/a.png"}]}
    edit = judge.judge(
        interaction(
            body,
            url="https://api.openai.com/v1/images/edits",
            request={"prompt": "x", "images": [{"image_url": "https://x/in.png"}]},
        )
    )
    variation = judge.judge(
        interaction(
            body, url="https://api.openai.com/v1/images/variations", request=b"", request_type="multipart/form-data"
        )
    )
    assert (edit.operation, edit.verdict) == ("edits", "conforms")
    assert variation.operation == "variations" and variation.outcome is not None and variation.outcome.images == 1
    assert [f.kind for f in variation.findings] == [
        "request"
    ] and variation.verdict == "conforms"  # the request is not judged


def test_not_an_operation_is_skipped(judge: Judge) -> None:
    verdict = judge.judge(
        interaction(tiny("png"), method="GET", url="https://cdn.example/img.png", content_type="image/png", request=b"")
    )
    assert verdict.verdict == "skipped" and verdict.outcome is None


FAKE = {
    "acme": Provider(
        "acme",
        "Acme",
        "https://{tenant}.acme.example/v1",
        "bearer",
        ("generations",),
        quirks=(
            Quirk("filter", "extra-key", "every image has a filter", "/data/*/filter"),
            Quirk("jpeg", "deviation", "JPEG", "/data/*/b64_json"),
            Quirk("errors", "error-envelope", "inner errors", "/error/inner"),
            Quirk("request-only", "request", "no pointer"),
        ),
    ),
    "generic": Provider("generic", "Any provider", None, "bearer", ()),
}


def test_declared_quirks_turn_deviations_into_quirks() -> None:
    judge = Judge(providers=FAKE)
    url = "https://t1.acme.example/v1/images/generations"
    declared = judge.judge(interaction({"created": 1, "data": [{"b64_json": JPEG, "filter": {"x": 1}}]}, url=url))
    assert declared.provider == "acme" and declared.verdict == "quirk"
    assert {(f.pointer, f.quirk) for f in declared.findings} == {
        ("/data/0/filter", "filter"),
        ("/data/0/b64_json", "jpeg"),
    }
    mixed = judge.judge(
        interaction({"created": 1, "data": [{"url": "https://cdn.example/u.png", "filter": {}, "other": 1}]}, url=url)
    )
    assert mixed.verdict == "deviation"
    nested = judge.judge(interaction({"error": {"message": "m", "inner": {"code": "x"}}}, status=400, url=url))
    assert nested.verdict == "quirk"
    elsewhere = judge.judge(interaction({"created": 1, "data": [{"url": "https://cdn.example/u.png", "filter": {}}]}))
    assert elsewhere.provider == "generic" and elsewhere.verdict == "deviation"
    forced = judge.judge(
        interaction({"created": 1, "data": [{"url": "https://cdn.example/u.png", "filter": {}}]}), provider="acme"
    )
    assert forced.verdict == "quirk"
    broken = judge.judge(interaction({"created": 1, "data": []}, url=url))
    assert broken.verdict == "violation"


def test_pointer_globs_and_host_guessing() -> None:
    assert matches("/data/*/content_filter_results", "/data/3/content_filter_results")
    assert matches("/error/inner_error", "/error/inner_error/code")
    assert not matches("/data/*/x", "/data/0/y") and not matches("/data/*/x", "/data")
    providers = catalog()
    assert (
        guess("https://contoso.openai.azure.com/openai/deployments/d/images/generations?api-version=1", providers)
        == "azure"
    )
    assert guess("https://bothub.chat/api/v2/openai/images/generations", providers) == "bothub"
    assert guess("http://127.0.0.1:8765/v1/images/generations", providers) == "local"
    assert guess("https://unknown.example/v1/images/generations", providers) == "generic"
    azure = providers["azure"]
    assert azure.quirk_at("/data/0/content_filter_results") is not None


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(BAD_URLS),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["created", "data", "url", "b64_json", "error", "message", "type", "code", "x"])
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=16,
)
_bodies = st.one_of(
    st.binary(max_size=200),
    _json.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda events: "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode(), st.lists(_json, max_size=3)
    ),
    st.sampled_from(
        [
            b"",
            b"data: [DONE]\n\n",
            b"<html>",
            b'{"created": 1, "data": [{"b64_json": "\xff"}]}',
            b"\xef\xbb\xbf{}",
            DEEP,
            b'{"created": 1, "data": ' + DEEP + b"}",
            b"data: " + DEEP + b"\n\n",
        ]
    ),
    st.builds(
        lambda url, many: json.dumps({"created": 1, "data": [{"url": url}] * many}).encode(),
        st.sampled_from(BAD_URLS),
        st.integers(1, 2),
    ),
)
_content_types = st.sampled_from(
    [
        None,
        "application/json",
        "text/event-stream",
        "text/html",
        "text/plain",
        "application/octet-stream",
        "image/png",
        "application/json; charset=latin-1",
        "multipart/form-data",
    ]
)
_urls = st.sampled_from(
    [
        "https://api.openai.com/v1/images/generations",
        "https://h.example/x/images/edits",
        "https://h.example/v1/images/variations",
        "https://h.example/v1/other",
        "not a url",
        "https://[::1/images/generations",
        "http://[::1",
        "/img.png",
        "/v1/images/generations",
    ]
)
_STATUSES = [200, 201, 204, 301, 400, 401, 404, 418, 429, 500, 502, 503]


def _url_answer(url: str) -> bytes:
    return json.dumps({"created": 1, "data": [{"url": url}]}).encode()


_GENERATIONS = "https://api.openai.com/v1/images/generations"
_JSON = "application/json"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=_bodies,
    request=st.one_of(st.binary(max_size=80), _json.map(lambda v: json.dumps(v).encode())),
    status=st.sampled_from(_STATUSES),
    content_type=_content_types,
    request_type=st.sampled_from(["application/json", "multipart/form-data; boundary=x", "text/plain", ""]),
    url=_urls,
    method=st.sampled_from(["POST", "GET"]),
)
@example(body=DEEP, request=b"{}", status=200, content_type=_JSON, request_type=_JSON, url=_GENERATIONS, method="POST")
@example(body=DEEP, request=b"{}", status=400, content_type=_JSON, request_type=_JSON, url=_GENERATIONS, method="POST")
@example(
    body=b"data: " + DEEP + b"\n\n",
    request=b'{"prompt": "x", "stream": true}',
    status=200,
    content_type="text/event-stream",
    request_type=_JSON,
    url=_GENERATIONS,
    method="POST",
)
@example(
    body=_url_answer("http://[::1"),
    request=b"{}",
    status=200,
    content_type=_JSON,
    request_type=_JSON,
    url=_GENERATIONS,
    method="POST",
)
@example(
    body=_url_answer("/img.png"),
    request=b"{}",
    status=200,
    content_type=_JSON,
    request_type=_JSON,
    url=_GENERATIONS,
    method="POST",
)
@example(
    body=_url_answer("https://x/a.png"),
    request=b"{}",
    status=200,
    content_type=_JSON,
    request_type=_JSON,
    url="http://[::1",
    method="POST",
)
def test_any_answer_gets_a_verdict_never_a_traceback(
    judge: Judge,
    body: bytes,
    request: bytes,
    status: int,
    content_type: str | None,
    request_type: str,
    url: str,
    method: str,
) -> None:
    verdict = judge.judge(
        interaction(
            body,
            status=status,
            content_type=content_type,
            url=url,
            method=method,
            request=request,
            request_type=request_type,
        )
    )
    assert verdict.verdict in VERDICTS
    assert all(f.kind not in ("kit", "client-crash") for f in verdict.findings), verdict.findings
    if verdict.verdict != "skipped":
        assert verdict.outcome is not None
        assert verdict.outcome.error is None or verdict.outcome.error in CLIENT_ERRORS, verdict.outcome
    json.dumps(verdict.as_dict())


def test_the_client_errors_are_the_exported_exception_classes() -> None:
    assert {"ImagewireError", "ResponseContractError", "RateLimitError", "ValidationError"} <= CLIENT_ERRORS
    assert not {"RecursionError", "KeyError", "TypeError", "Image", "Client"} & CLIENT_ERRORS


def test_deep_nesting_and_unfetchable_image_urls_are_contract_errors(judge: Judge) -> None:
    """What the property above must never accept: a RecursionError or a crash on a URL the client cannot use."""
    deep = judge.judge(interaction(DEEP))
    assert deep.verdict == "violation" and deep.outcome is not None, deep
    assert deep.outcome.error == "ResponseContractError", deep.outcome
    for url in ("http://[::1", "/img.png"):
        verdict = judge.judge(interaction({"created": 1, "data": [{"url": "https://x/a.png"}, {"url": url}]}))
        assert verdict.outcome is not None and verdict.outcome.error == "ResponseContractError", (url, verdict.outcome)
        assert verdict.outcome.pointer == "/data/1/url" and verdict.verdict == "violation", (url, verdict.outcome)
