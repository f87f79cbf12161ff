"""Scrubbing: a token planted in every place a secret can hide must not survive in the written cassette, and
images are replaced by tiny images of the same format with the original's sha256 and length kept beside them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from imagewire import multipart
from imagewire.images import decode_b64, sniff_bytes, tiny
from imagewire.record.recordings import Interaction, load, write_cassette
from imagewire.record.scrub import REDACTED, scrub, scrub_url

TOKEN = "Pl4ntedS3cretT0kenXyZ"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ" + TOKEN + "In0." + TOKEN + "sig"
SIGNED = "&".join(
    f"{key}={TOKEN}"
    for key in (
        "sig", "se", "st", "skoid", "sktid", "skt", "ske", "sks", "skv", "sv", "sp", "sr", "rscd", "rsct",
        "key", "api-key", "token", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "Signature",
    )
)  # fmt: skip
BLOB = f"https://oaidalleapiprodscus.blob.core.windows.net/private/org-{TOKEN}/user-{TOKEN}/img-abc.png?{SIGNED}"


def png_with(secret: bytes, width: int = 4) -> bytes:
    """A PNG whose bytes carry the secret (a tEXt chunk)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(width))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00" + secret)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


JPEG_WITH = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + TOKEN.encode() * 20
WEBP_WITH = b"RIFF\x00\x01\x00\x00WEBPVP8L" + TOKEN.encode() * 20
GIF_WITH = b"GIF89a\x01\x00\x01\x00" + TOKEN.encode() * 20
PNG_WITH = png_with(TOKEN.encode())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _secret_headers() -> tuple[tuple[str, str], ...]:
    return (
        ("Authorization", f"Bearer sk-proj-{TOKEN}"),
        ("api-key", TOKEN),
        ("x-api-key", TOKEN),
        ("Cookie", f"session={TOKEN}; other={TOKEN}"),
        ("OpenAI-Organization", f"org-{TOKEN}"),
        ("OpenAI-Project", f"proj_{TOKEN}"),
        ("Proxy-Authorization", f"Basic {TOKEN}"),
        ("X-Debug-Jwt", JWT),
        ("X-Upstream-Token", TOKEN),
        ("Referer", BLOB),
    )


def planted() -> list[Interaction]:
    boundary = "B0UNDARY"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image[]"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + PNG_WITH
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="image[]"; filename="b.webp"\r\nContent-Type: image/webp\r\n\r\n'.encode()
        + WEBP_WITH
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="mask"; filename="m.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + TOKEN.encode() * 3
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nsk-{TOKEN} {JWT} see {BLOB}'.encode()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    json_edit = {
        "model": "gpt-image-1.5",
        "prompt": f"use key sk-{TOKEN}, bearer {JWT}",
        "images": [{"image_url": f"data:image/png;base64,{b64(PNG_WITH)}"}, {"image_url": BLOB}],
        "mask": {"image_url": f"data:image/gif;base64,{b64(GIF_WITH)}"},
        "api_key": TOKEN,
    }
    answer = {
        "created": 1,
        "data": [
            {"url": BLOB, "revised_prompt": f"Bearer {TOKEN}1 and sk-{TOKEN} and {JWT}"},
            {"b64_json": "iVBORw0KGgo" + TOKEN + "AAAA"},  # the token inside the base64 text itself
            {"b64_json": b64(JPEG_WITH)},  # the token inside the image bytes
            {"b64_json": None, "url": f"data:image/webp;base64,{b64(WEBP_WITH)}"},
        ],
        "nested": [{"token": TOKEN, "deep": {"password": TOKEN, "list": [f"org-{TOKEN}", f"user-{TOKEN}"]}}],
        "image_data": b64(GIF_WITH),  # a base64 image under a key nobody documented
    }
    stream = (
        f"event: image_generation.partial_image\ndata: {json.dumps({'type': 'image_generation.partial_image', 'b64_json': b64(PNG_WITH), 'partial_image_index': 0})}\n\n"
        f": comment with sk-{TOKEN}\n\n"
        f"data: {json.dumps({'type': 'image_generation.completed', 'b64_json': b64(PNG_WITH), 'url': BLOB})}\n\n"
        "data: [DONE]\n\n"
    ).encode()
    error = {
        "error": {
            "message": f"Incorrect API key provided: sk-{TOKEN}. Token {JWT}",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    url = f"https://contoso.openai.azure.com/openai/deployments/d/images/edits?api-version=2024-10-21&{SIGNED}"
    response_headers = (
        ("Content-Type", "application/json"),
        ("Set-Cookie", f"__cf_bm={TOKEN}; path=/"),
        ("openai-organization", f"user-{TOKEN}"),
        ("Location", BLOB),
        ("Content-Length", "99999"),
    )
    return [
        Interaction("p", 0, "POST", url, (*_secret_headers(), ("Content-Type", f"multipart/form-data; boundary={boundary}")),
                    multipart, 200, "OK", response_headers, json.dumps(answer).encode()),
        Interaction("p", 1, "POST", url, (*_secret_headers(), ("Content-Type", "application/json")),
                    json.dumps(json_edit).encode(), 200, "OK",
                    (("Content-Type", "text/event-stream"), ("Set-Cookie", f"s={TOKEN}")), stream),
        Interaction("p", 2, "POST", f"https://user:{TOKEN}@relay.example.com/v1/images/generations?token={TOKEN}#sig={TOKEN}",
                    _secret_headers(), f"prompt=x&api_key={TOKEN}".encode(), 401, "Unauthorized",
                    (("Content-Type", "application/json"),), json.dumps(error).encode()),
        Interaction("p", 3, "GET", BLOB, _secret_headers(), b"", 200, "OK", (("Content-Type", "image/png"),), PNG_WITH),
        Interaction("p", 4, "POST", url, (("Content-Type", "text/plain"),), f"key: sk-{TOKEN}".encode(), 500, "",
                    (("Content-Type", "text/html"),), f"<a href='{BLOB}'>sk-{TOKEN}</a> {JWT}".encode()),
    ]  # fmt: skip


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)] + [str(k) for k in node]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def _decoded_blobs(body: bytes) -> list[bytes]:
    """Every base64 payload inside a body (JSON strings, data: URLs, SSE events), decoded."""
    out = []
    for match in re.finditer(rb"[A-Za-z0-9+/]{16,}={0,2}", body):
        decoded = decode_b64(match.group(0).decode())
        if decoded:
            out.append(decoded)
    return out


def test_no_byte_of_a_planted_token_survives_in_the_written_cassette(tmp_path: Path) -> None:
    originals = planted()
    for item in originals:  # the token is really everywhere before scrubbing
        assert TOKEN.encode() in item.response_body + item.request_body + item.url.encode() or item.index == 3
    path = write_cassette(tmp_path / "planted.yaml", [scrub(item) for item in originals])
    text = path.read_text()
    assert TOKEN not in text
    assert TOKEN.lower() not in text.lower()
    for binary in re.findall(r"!!binary \|\n((?:\s+[A-Za-z0-9+/=]+\n)+)", text):
        assert TOKEN.encode() not in base64.b64decode("".join(binary.split()))
    for item in load(path).interactions:
        for body in (item.request_body, item.response_body):
            assert TOKEN.encode() not in body
            for blob in _decoded_blobs(body):
                assert TOKEN.encode() not in blob
        for _name, value in item.request_headers + item.response_headers:
            assert TOKEN not in value
        assert TOKEN not in item.url


def test_headers_keep_their_names_and_schemes() -> None:
    scrubbed = scrub(planted()[0])
    headers = dict(scrubbed.request_headers)
    assert headers["Authorization"] == f"Bearer {REDACTED}" and headers["Proxy-Authorization"] == f"Basic {REDACTED}"
    assert (
        headers["api-key"] == headers["Cookie"] == headers["OpenAI-Project"] == headers["X-Upstream-Token"] == REDACTED
    )
    response = dict(scrubbed.response_headers)
    assert response["Content-Length"] == str(len(scrubbed.response_body))
    kept = scrub(
        Interaction(
            "x",
            0,
            "GET",
            "https://h/",
            (("x-ratelimit-remaining-tokens", "4000"), ("User-Agent", "OpenAI/Python 1.0")),
            b"",
            200,
        )
    )
    assert kept.request_headers == (("x-ratelimit-remaining-tokens", "4000"), ("User-Agent", "OpenAI/Python 1.0"))


def test_signed_urls_keep_their_shape() -> None:
    url = "https://x.blob.core.windows.net/private/org-Dy8ARyqBtu507OGoMBxfUU0S/user-n4L5wc2dF1fH9APAG2dE3Rw9/img-1.png?st=2025&sp=r&sig=%2Babc%3D&api-version=2024-10-21"
    assert scrub_url(url) == (
        "https://x.blob.core.windows.net/private/org-REDACTED/user-REDACTED/img-1.png?st=REDACTED&sp=REDACTED&sig=REDACTED&api-version=2024-10-21"
    )
    assert scrub_url("https://user-agent.example/user-guide?q=1") == "https://user-agent.example/user-guide?q=1"


def _answer_of(item: Interaction) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(item.response_body)
    return data


def test_images_become_tiny_images_of_the_same_format_with_the_original_digest() -> None:
    scrubbed = _answer_of(scrub(planted()[0]))
    data = scrubbed["data"]
    text_token = "iVBORw0KGgo" + TOKEN + "AAAA"
    assert base64.b64decode(data[1]["b64_json"]) == tiny("png")
    assert data[1]["b64_json_sha256"] == hashlib.sha256(base64.b64decode(text_token)).hexdigest()
    assert data[1]["b64_json_bytes"] == len(base64.b64decode(text_token))
    assert base64.b64decode(data[2]["b64_json"]) == tiny("jpeg")
    assert data[2]["b64_json_sha256"] == hashlib.sha256(JPEG_WITH).hexdigest() and data[2]["b64_json_bytes"] == len(
        JPEG_WITH
    )
    url = data[3]["url"]
    assert url.startswith(
        f"data:image/webp;sha256={hashlib.sha256(WEBP_WITH).hexdigest()};bytes={len(WEBP_WITH)};base64,"
    )
    assert base64.b64decode(url.partition(",")[2]) == tiny("webp")
    assert "b64_json_sha256" not in data[3]  # null stays null, no markers
    assert scrubbed["nested"][0]["token"] == REDACTED and scrubbed["nested"][0]["deep"]["password"] == REDACTED


def test_multipart_file_parts_are_replaced_and_annotated() -> None:
    item = scrub(planted()[0])
    parts = multipart.parse(item.request_body, item.request_header("content-type") or "")
    assert parts is not None
    assert [p.name for p in parts] == ["image[]", "image[]", "mask", "prompt"]
    assert parts[0].data == tiny("png") and parts[1].data == tiny("webp") and parts[2].data == b"REDACTED"
    head = item.request_body.split(b"\r\n\r\n", 1)[0].decode()
    assert f"X-Imagewire-Original-Sha256: {hashlib.sha256(PNG_WITH).hexdigest()}" in head
    assert f"X-Imagewire-Original-Bytes: {len(PNG_WITH)}" in head
    assert REDACTED in parts[3].data.decode()


def test_sse_events_are_scrubbed_event_by_event() -> None:
    item = scrub(planted()[1])
    events = [json.loads(line[6:]) for line in item.response_body.decode().splitlines() if line.startswith("data: {")]
    assert [sniff_bytes(base64.b64decode(e["b64_json"])) for e in events] == ["png", "png"]
    assert all(e["b64_json_bytes"] == len(PNG_WITH) for e in events)
    assert "data: [DONE]" in item.response_body.decode()
    request = json.loads(item.request_body)
    assert request["images"][0]["image_url"].startswith("data:image/png;sha256=")
    assert request["api_key"] == REDACTED


def test_unreadable_base64_stays_unreadable_and_scrubbing_is_idempotent() -> None:
    body = {"created": 1, "data": [{"b64_json": "not base64 at all!"}, {"b64_json": b64(b"plain text, not an image")}]}
    item = Interaction(
        "x", 0, "POST", "https://h/v1/images/generations", (), b"", 200, "", (), json.dumps(body).encode()
    )
    once = scrub(item)
    data = _answer_of(once)["data"]
    assert decode_b64(data[0]["b64_json"]) is None
    assert base64.b64decode(data[1]["b64_json"]) == REDACTED.encode()
    for original in [*planted(), item]:
        first = scrub(original)
        assert scrub(first) == first


def test_an_answer_cut_off_mid_image_keeps_no_image_bytes() -> None:
    """Truncated JSON (or an event stream cut in its data) cannot be parsed: the image in it goes all the same."""
    image = png_with(TOKEN.encode() * 200, width=32)
    encoded = b64(image)
    whole = json.dumps({"created": 1, "data": [{"b64_json": encoded}]})
    event = json.dumps({"type": "image_generation.completed", "b64_json": encoded})
    cases = {
        "application/json": whole[: len(whole) // 2],
        "text/event-stream": f"event: image_generation.completed\ndata: {event}"[: len(event) // 2],
    }
    for content_type, body in cases.items():
        assert len(body) > 1000
        item = Interaction(
            "x", 0, "POST", "https://h/v1/images/generations", (), b"", 200, "",
            (("Content-Type", content_type),), body.encode(),
        )  # fmt: skip
        scrubbed = scrub(item)
        text = scrubbed.response_body.decode()
        assert encoded[:256] not in text and encoded[300:600] not in text, content_type
        assert b64(tiny("png")) in text, content_type
        assert text.startswith(body[:20]) and len(text) < 400, content_type  # the rest of the text is kept
        assert scrub(scrubbed) == scrubbed


def test_a_tiny_image_is_left_alone() -> None:
    body = json.dumps({"created": 1, "data": [{"b64_json": b64(tiny("gif"))}]}).encode()
    item = Interaction("x", 0, "POST", "https://h/v1/images/generations", (), b"", 200, "", (), body)
    assert scrub(item).response_body == body
    assert yaml.safe_load(body.decode()) == json.loads(body)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["b64_json", "url", "token", "image_url", "x"]) | st.text(max_size=4), inner, max_size=3
        )
    ),
    max_leaves=10,
)
_body = st.one_of(
    st.binary(max_size=120),
    _json.map(lambda v: json.dumps(v).encode()),
    st.lists(_json, max_size=3).map(lambda events: "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode()),
)


@settings(max_examples=200, deadline=None)
@given(
    request=_body,
    response=_body,
    request_type=st.sampled_from(
        ["application/json", "multipart/form-data; boundary=b", "text/plain", "image/png", ""]
    ),
    response_type=st.sampled_from(["application/json", "text/event-stream", "text/html", "image/gif", ""]),
    header=st.text(max_size=30),
)
def test_scrubbing_any_interaction_works_and_is_idempotent(
    request: bytes, response: bytes, request_type: str, response_type: str, header: str
) -> None:
    item = Interaction(
        "x",
        0,
        "POST",
        "https://h.example/v1/images/generations?sig=1&a=b",
        (("Content-Type", request_type), ("Authorization", header), ("X-Other", header)),
        request,
        200,
        "",
        (("Content-Type", response_type),),
        response,
    )
    once = scrub(item)
    assert scrub(once) == once
    assert dict(once.request_headers)["Authorization"] in ("", REDACTED) or dict(once.request_headers)[
        "Authorization"
    ].endswith(f" {REDACTED}")


def test_a_compressed_body_is_written_decoded_and_scrubbed() -> None:
    import gzip

    body = json.dumps({"created": 1, "data": [{"url": BLOB}]}).encode()
    item = Interaction(
        "x", 0, "POST", "https://h/v1/images/generations", (), b"", 200, "",
        (("Content-Type", "application/json"), ("Content-Encoding", "gzip"), ("Content-Length", "1")), gzip.compress(body),
    )  # fmt: skip
    scrubbed = scrub(item)
    assert TOKEN.encode() not in scrubbed.response_body and json.loads(scrubbed.response_body)["created"] == 1
    assert dict(scrubbed.response_headers) == {
        "Content-Type": "application/json",
        "Content-Length": str(len(scrubbed.response_body)),
    }
