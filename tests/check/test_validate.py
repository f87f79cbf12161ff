"""Spec validation of traffic: operations matched by path suffix on any host and handed to openapi-core at the
spec's server, requests (JSON and multipart) and responses (ImagesResponse JSON and error envelopes by status
and content type through openapi-core; SSE events by the kit) checked with validators compiled once."""

from __future__ import annotations

import base64
import json

import pytest
from support.kit import interaction, sse

from imagewire.check.validate import SpecValidator, validator
from imagewire.images import tiny

PNG = base64.b64encode(tiny("png")).decode()


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("POST", "https://api.openai.com/v1/images/generations", "generations"),
        ("POST", "https://bothub.chat/api/v2/openai/images/generations", "generations"),
        ("POST", "https://bothub.chat/api/v2/openai/v1/images/edits/", "edits"),
        (
            "POST",
            "https://r.openai.azure.com/openai/deployments/dalle3/images/generations?api-version=2024-10-21",
            "generations",
        ),
        ("POST", "http://127.0.0.1:8765/v1/images/variations", "variations"),
        ("GET", "https://api.openai.com/v1/images/generations", None),
        ("POST", "https://api.openai.com/v1/chat/completions", None),
        ("GET", "https://cdn.example/images/generations.png", None),
    ],
)
def test_operations_are_matched_by_path_suffix(
    spec: SpecValidator, method: str, url: str, expected: str | None
) -> None:
    op = spec.operation_for(method, url)
    assert (op.key if op else None) == expected


def test_validators_are_compiled_once_and_reused(spec: SpecValidator) -> None:
    assert validator() is spec
    op = spec.operations["generations"]
    compiled = op.responses["200"]["application/json"]
    spec.validate(interaction({"created": 1, "data": [{"url": "https://x"}]}))
    assert op.responses["200"]["application/json"] is compiled
    assert set(op.events) == {"image_generation.partial_image", "image_generation.completed"}
    assert set(spec.operations["edits"].requests) == {"multipart/form-data", "application/json"}
    assert spec.operations["edits"].array_parts == {"image[]": "image"}


def test_openapi_core_is_built_once_and_its_schema_validators_reused(spec: SpecValidator) -> None:
    assert validator().engine is spec.engine
    factory = spec.engine.openapi.config.schema_validators_factory
    schema = spec.engine.openapi.spec / "paths" / "/images/generations" / "post" / "responses" / "200"
    schema = schema / "content" / "application/json" / "schema"
    assert factory.create(spec.engine.openapi.spec, schema) is factory.create(spec.engine.openapi.spec, schema)
    spec.validate(interaction({"created": 1, "data": [{"url": "https://x"}]}))
    compiled = spec.compiled_schemas
    for _ in range(3):
        spec.validate(interaction({"created": 1, "data": [{"url": "https://x"}]}))
        spec.validate(interaction({"error": {"message": "m"}}, status=429))
    assert spec.compiled_schemas <= compiled + 1  # the 429 envelope once, then nothing new


@pytest.mark.parametrize(
    ("url", "core_path", "body_extra"),
    [
        ("https://bothub.chat/api/v2/openai/images/generations", "/v1/images/generations", {}),
        (
            "https://r.openai.azure.com/openai/deployments/d/images/edits?api-version=1",
            "/v1/images/edits",
            {"images": [{"file_id": "file-1"}]},
        ),
    ],
)
def test_the_providers_prefix_is_replaced_by_the_specs_server(
    spec: SpecValidator, url: str, core_path: str, body_extra: dict[str, object]
) -> None:
    op = spec.operation_for("POST", url)
    assert op is not None and op.core_url == ("https://api.openai.com", core_path)
    found = spec.validate(interaction({"data": [{"url": 1}]}, url=url, request={"prompt": "p", "n": "2", **body_extra}))
    assert sorted(_kinds(found.findings)) == [("/created", "schema"), ("/data/0/url", "schema"), ("/n", "request")]


def _kinds(findings: list[object]) -> list[tuple[str, str]]:
    return [(f.pointer, f.kind) for f in findings]  # type: ignore[attr-defined]


def test_a_conforming_answer_has_no_findings(spec: SpecValidator) -> None:
    body = {"created": 1, "data": [{"url": "https://x/y.png", "revised_prompt": None}]}
    assert spec.validate(interaction(body)).findings == []


def test_schema_errors_and_extra_keys_are_named_by_pointer(spec: SpecValidator) -> None:
    body = {
        "data": [{"url": 5, "index": 0, "b64_json": PNG, "b64_json_sha256": "ab", "b64_json_bytes": 3}],
        "usage": {"input_tokens": "7"},
        "id": "x",
    }
    found = _kinds(spec.validate(interaction(body)).findings)
    assert ("/created", "schema") in found
    assert ("/data/0/url", "schema") in found
    assert ("/usage/input_tokens", "schema") in found
    assert ("/data/0/index", "extra-key") in found and ("/id", "extra-key") in found
    assert not any("sha256" in pointer or "_bytes" in pointer for pointer, _ in found)  # scrub markers


def test_requests_json_and_multipart(spec: SpecValidator) -> None:
    bad = spec.validate(interaction({"created": 1, "data": [{"url": "u"}]}, request={"n": "two", "style": "loud"}))
    assert sorted(_kinds(bad.findings)) == [("/n", "request"), ("/prompt", "request"), ("/style", "request")]
    boundary = "XyZ"
    parts = [
        ("image[]", b"\x89PNG...", 'filename="a.png"', "image/png"),
        ("image[]", b"\x89PNG...", 'filename="b.png"', "image/png"),
        ("prompt", b"Put them in a basket", None, None),
        ("n", b"2", None, None),
        ("stream", b"true", None, None),
        ("output_format", b"webp", None, None),
        ("model", b"gpt-image-1.5", None, None),
    ]
    body = _form(*parts, boundary=boundary)
    info, findings = spec.request_info(
        interaction(
            {},
            url="https://api.openai.com/v1/images/edits",
            request=body,
            request_type=f"multipart/form-data; boundary={boundary}",
        ),
        spec.operations["edits"],
    )
    assert findings == []
    assert info.encoding == "multipart" and info.files == {"image": 2} and info.fields["n"] == 2
    assert info.stream is True and info.output_format == "webp" and info.model == "gpt-image-1.5"
    _, findings = spec.request_info(
        interaction({}, url="https://api.openai.com/v1/images/edits", request=b"x", request_type="text/plain"),
        spec.operations["edits"],
    )
    assert _kinds(findings) == [("", "request")]


def _form(*parts: tuple[str, bytes, str | None, str | None], boundary: str = "XyZ") -> bytes:
    return (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"{"; " + fn if fn else ""}\r\n'.encode()
            + (f"Content-Type: {ct}\r\n".encode() if ct else b"")
            + b"\r\n"
            + value
            + b"\r\n"
            for name, value, fn, ct in parts
        )
        + f"--{boundary}--\r\n".encode()
    )


def test_multipart_requests_are_validated_by_openapi_core(spec: SpecValidator) -> None:
    body = _form(
        ("image[]", b"\x89PNG...", 'filename="a.png"', "image/png"),
        ("image[]", b"\x89PNG...", 'filename="b.png"', "image/png"),
        ("n", b"two", None, None),
        ("stream", b"maybe", None, None),
        ("style", b"vivid", None, None),
    )
    edit = interaction(
        {},
        url="https://h/v1/images/edits",
        request=body,
        request_type="multipart/form-data; boundary=XyZ",
    )
    info, findings = spec.request_info(edit, spec.operations["edits"])
    assert info.files == {"image": 2} and info.fields["image"] == ["<file a.png 7 bytes>", "<file b.png 7 bytes>"]
    assert sorted(_kinds(findings)) == [
        ("/n", "request"),
        ("/prompt", "request"),
        ("/stream", "request"),
        ("/style", "request"),
    ]
    too_many = _form(
        *[("image[]", b"\x89PNG", f'filename="{n}.png"', "image/png") for n in range(17)], ("prompt", b"p", None, None)
    )
    _, findings = spec.request_info(
        interaction(
            {}, url="https://h/v1/images/edits", request=too_many, request_type="multipart/form-data; boundary=XyZ"
        ),
        spec.operations["edits"],
    )
    assert _kinds(findings) == [("/image", "request")]  # maxItems 16, through the anyOf


def test_a_request_content_type_the_operation_does_not_declare(spec: SpecValidator) -> None:
    variation = interaction({}, url="https://h/v1/images/variations", request={"image": "x"})
    _, findings = spec.request_info(variation, spec.operations["variations"])
    assert [(f.pointer, f.message, f.kind) for f in findings] == [
        ("", "request content type 'application/json' is not one of ['multipart/form-data']", "request")
    ]
    _, findings = spec.request_info(interaction({}, request=b"null"), spec.operations["generations"])
    assert [(f.pointer, f.message) for f in findings] == [("", "expected object, got null")]  # JSON, but no object
    form = interaction({}, request=b"prompt=x", request_type="application/x-www-form-urlencoded")
    _, findings = spec.request_info(form, spec.operations["generations"])
    assert _kinds(findings) == [("", "request")] and "x-www-form-urlencoded" in findings[0].message


def test_body_errors_is_the_servers_view_of_a_decoded_body(spec: SpecValidator) -> None:
    generations = spec.operations["generations"]
    assert spec.body_errors(generations, "application/json", {"prompt": "p", "n": 2}) == []
    errors = spec.body_errors(generations, "application/json", {"prompt": "p", "n": "two", "quality": "ultra"})
    assert sorted(tuple(e.absolute_path) for e in errors) == [("n",), ("quality",)]
    edits = spec.operations["edits"]
    values = {"prompt": "p", "image": True, "n": 2, "stream": True}  # a file part: any placeholder
    assert [tuple(e.absolute_path) for e in spec.body_errors(edits, "multipart/form-data", values)] == [("image",)]


def test_azure_model_comes_from_the_deployment(spec: SpecValidator) -> None:
    url = "https://r.openai.azure.com/openai/deployments/my-dalle/images/generations?api-version=1"
    assert (
        spec.validate(
            interaction({"created": 1, "data": [{"url": "u"}]}, url=url, request={"prompt": "x"})
        ).request.model
        == "my-dalle"
    )


def test_media_types_and_bodies_that_are_not_json(spec: SpecValidator) -> None:
    html = spec.validate(interaction("<html></html>", content_type="text/html"))
    assert _kinds(html.findings) == [("", "media-type")] and html.body_kind == "text"
    truncated = spec.validate(interaction('{"created": 1, "data": [', content_type="application/json; charset=utf-8"))
    assert _kinds(truncated.findings) == [("", "json")]
    untyped = spec.validate(interaction({"created": 1, "data": [{"url": "u"}]}, content_type=None))
    assert _kinds(untyped.findings) == [("", "media-type")]
    empty = spec.validate(interaction(b"", status=200))
    assert empty.body_kind == "empty" and _kinds(empty.findings) == [("", "schema")]
    created = spec.validate(interaction({"created": 1, "data": [{"url": "u"}]}, status=201))
    assert _kinds(created.findings) == [("", "status")]


def test_error_envelopes(spec: SpecValidator) -> None:
    good = {
        "error": {"message": "m", "type": None, "param": "", "code": 429, "moderation_details": {"categories": ["x"]}}
    }
    assert spec.validate(interaction(good, status=429)).findings == []
    assert spec.validate(interaction({"error": {"code": "401", "message": "denied"}}, status=401)).findings == []
    bare = spec.validate(interaction({"message": "m", "code": "x"}, status=400))
    assert sorted(_kinds(bare.findings)) == [("/code", "extra-key"), ("/error", "schema"), ("/message", "extra-key")]
    assert _kinds(spec.validate(interaction({"error": {"code": "x"}}, status=418)).findings) == [
        ("/error/message", "schema")
    ]
    plain = spec.validate(interaction("Bad Gateway", status=502, content_type="text/plain"))
    assert _kinds(plain.findings) == [("", "media-type")]


def test_responses_are_chosen_by_status_and_a_mislabelled_json_body_still_checked(spec: SpecValidator) -> None:
    images = {"created": 1, "data": [{"url": "u"}]}
    assert _kinds(spec.validate(interaction(images, status=400)).findings) == [
        ("/error", "schema"),
        ("/created", "extra-key"),
        ("/data", "extra-key"),
    ]
    assert _kinds(spec.validate(interaction({"error": {"message": "m"}}, status=200)).findings) == [
        ("/created", "schema"),
        ("/error", "extra-key"),
    ]
    html = spec.validate(interaction({"data": 5}, content_type="text/html"))
    assert _kinds(html.findings) == [("", "media-type"), ("/created", "schema"), ("/data", "schema")]


def _stream(body: bytes, **request: object) -> list[tuple[str, str]]:
    spec = validator()
    request_body = {"model": "gpt-image-1.5", "prompt": "x", "stream": True, **request}
    return _kinds(spec.validate(interaction(body, content_type="text/event-stream", request=request_body)).findings)


def test_event_streams_are_validated_event_by_event() -> None:
    partial = {"type": "image_generation.partial_image", "b64_json": PNG, "partial_image_index": 0}
    completed = {"type": "image_generation.completed", "b64_json": PNG, "usage": {"total_tokens": 3}}
    assert _stream(sse(partial, ": comment\n\n", completed, done=True)) == []
    assert _stream(sse(partial, completed, event_lines=True)) == []
    assert _stream(sse({"b64_json": PNG}, event_lines=False)) == [("/events/0/type", "schema")]
    assert _stream(sse({"type": "image_generation.completed"})) == [("/events/0/b64_json", "schema")]
    assert _stream(sse("data: not json\n\n", completed)) == [("/events/0", "json")]
    assert _stream(sse({"type": "error", "error": {"message": "m"}})) == [("/events/0", "stream-error")]
    jpeg = base64.b64encode(tiny("jpeg")).decode()
    assert _stream(sse({**completed, "b64_json": jpeg})) == [("/events/0/b64_json", "image-format")]
    assert _stream(sse({**completed, "b64_json": jpeg, "output_format": "jpeg"})) == []
    assert _stream(sse({**completed, "b64_json": jpeg}), output_format="jpeg") == []
    event = b"event: image_generation.completed\ndata: " + json.dumps({"b64_json": PNG}).encode() + b"\n\n"
    assert _stream(event) == []  # the type comes from the event: line


def test_a_stream_where_json_was_asked_and_json_where_a_stream_was(spec: SpecValidator) -> None:
    completed = {"type": "image_generation.completed", "b64_json": PNG}
    unasked = spec.validate(
        interaction(sse(completed), content_type="text/event-stream", request={"prompt": "x", "stream": False})
    )
    assert _kinds(unasked.findings) == [("", "media-type")]
    json_answer = spec.validate(
        interaction({"created": 1, "data": [{"b64_json": PNG}]}, request={"prompt": "x", "stream": True})
    )
    assert _kinds(json_answer.findings) == [("", "media-type")]
    variation = spec.validate(
        interaction(sse(completed), content_type="text/event-stream", url="https://h/v1/images/variations")
    )
    assert ("", "media-type") in _kinds(variation.findings)
