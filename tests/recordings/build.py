"""Build the recordings of this folder from the seed documents (``shared/seeds``; their answers are vendored in
``seeds.py``) and the reference's list of tolerant shapes: each interaction is written by hand below (the seeds'
bodies, realistic headers), scrubbed with :func:`imagewire.record.scrub.scrub` exactly as ``imagewire record`` will,
and written as a VCR cassette
(``<name>.yaml``) or a HAR file (``<name>.har``) with its expectations (``<name>.expect.yaml``).

The expectations are declared here by hand, not copied from what the kit answers today: the contract test
(``tests/check/test_recordings.py``) replays every recording and compares.

    .venv/bin/python tests/recordings/build.py             # rewrite every recording and expectation
    .venv/bin/python tests/recordings/build.py --out DIR   # write them elsewhere (the tests compare)
"""

from __future__ import annotations

import base64
import json
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from imagewire.record.recordings import Interaction, write_cassette
from imagewire.record.scrub import scrub

HERE = Path(__file__).resolve().parent


def _sibling(name: str) -> Any:
    """A module of this folder by path (``seeds``), without putting the folder on ``sys.path``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"imagewire_recordings_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_seeds = _sibling("seeds")
ANSWERS: dict[str, Any] = _seeds.ANSWERS
SEED_000_URL: str = _seeds.SEED_000_URL

# ---------------------------------------------------------------- building blocks


def png(width: int, height: int, shade: int = 40) -> bytes:
    """A real RGB PNG of the given size (so the scrubber has something to replace)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = bytes((shade + x) % 256 for x in range(width * 3))
    raw = b"".join(b"\x00" + row for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_head() -> bytes:
    """The first bytes of a JFIF JPEG followed by filler: enough to be recognised as a JPEG."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) * 8


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def dumps(data: Any, *, indent: int | None = None) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=indent).encode()


def multipart(boundary: str, parts: list[tuple[str, str | bytes, str | None, str | None]]) -> bytes:
    """(name, value, filename, content type) parts as a form-data body."""
    out = bytearray()
    for name, value, filename, ctype in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + (value if isinstance(value, bytes) else value.encode()) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def sse(*events: dict[str, Any] | str, event_lines: bool, comments: bool = False, done: bool = False) -> bytes:
    out = []
    if comments:
        out.append(": OPENROUTER PROCESSING\n\n")
    for event in events:
        if isinstance(event, str):
            out.append(event)
            continue
        if event_lines:
            out.append(f"event: {event['type']}\n")
        out.append(f"data: {json.dumps(event)}\n\n")
        if comments:
            out.append(": keep-alive\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def _fake_jwt(claims: dict[str, object]) -> str:
    """A JWT-shaped token made up here (header.claims.signature, base64url): shaped like a key, worth nothing."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = part(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{body}.{part(b'planted-signature-for-scrubbing-tests')}"


# Planted, made-up secrets shaped like real ones: every one of them must be gone from the written files.
BOTHUB_JWT = _fake_jwt({"id": "planted-user", "isDeveloper": True})
OPENAI_KEY = "sk-proj-Q8mW2xZp4LrT7vN1cJ5bH3kD9fG6sA0eY2uI8oP4tR1wE7qZ"
AZURE_KEY = "4b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
CF_COOKIE = "__cf_bm=pXn8d.Rk2qHwT5vY1mZ3aB7cD9eF0gH2iJ4kL6mN8oP-1749756865-1.0.1.1-AbCdEfGhIjKlMnOpQrStUvWxYz; path=/; expires=Thu, 12-Jun-25 20:04:25 GMT; domain=.api.openai.com; HttpOnly; Secure; SameSite=None"


def openai_response_headers(
    date: str, request_id: str, ms: int, ctype: str = "application/json"
) -> list[tuple[str, str]]:
    return [
        ("Date", date),
        ("Content-Type", ctype),
        ("Connection", "keep-alive"),
        ("openai-version", "2020-10-01"),
        ("openai-organization", "user-n4l5wc2df1fh9apag2de3rw9"),
        ("openai-processing-ms", str(ms)),
        ("x-request-id", request_id),
        ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
        ("cf-cache-status", "DYNAMIC"),
        ("Set-Cookie", CF_COOKIE),
        ("X-Content-Type-Options", "nosniff"),
        ("Server", "cloudflare"),
        ("CF-RAY", "94f1c2c3d8a1e2f0-AMS"),
        ("alt-svc", 'h3=":443"; ma=86400'),
    ]


def sdk_request_headers(
    key: str, ctype: str = "application/json", accept: str = "application/json"
) -> list[tuple[str, str]]:
    return [
        ("Accept", accept),
        ("Accept-Encoding", "gzip, deflate"),
        ("Authorization", f"Bearer {key}"),
        ("Connection", "keep-alive"),
        ("Content-Type", ctype),
        ("User-Agent", "OpenAI/Python 1.86.0"),
        ("X-Stainless-Lang", "python"),
        ("X-Stainless-Package-Version", "1.86.0"),
        ("X-Stainless-Retry-Count", "0"),
    ]


@dataclass
class Item:
    note: str
    url: str
    request: bytes
    status: int
    response: bytes
    verdict: str
    findings: list[str] = field(default_factory=list)
    images: int | None = None
    events: int | None = None
    error: str | None = None
    method: str = "POST"
    reason: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    response_headers: list[tuple[str, str]] = field(default_factory=list)

    def interaction(self, source: str, index: int) -> Interaction:
        from http import HTTPStatus

        reason = self.reason or HTTPStatus(self.status).phrase
        return Interaction(
            source,
            index,
            self.method,
            self.url,
            tuple(self.request_headers),
            self.request,
            self.status,
            reason,
            tuple(self.response_headers),
            self.response,
        )

    def expectation(self, index: int) -> dict[str, Any]:
        entry: dict[str, Any] = {"interaction": index + 1, "note": self.note, "verdict": self.verdict}
        if self.error is not None:
            entry["error"] = self.error
        elif self.verdict != "skipped":
            result = {"images": self.images if self.images is not None else 0}
            if self.events is not None:
                result["events"] = self.events
            entry["result"] = result
        entry["findings"] = sorted(set(self.findings))
        return entry


@dataclass
class Recording:
    name: str
    title: str
    items: list[Item]
    provider: str | None = None
    har: bool = False


def json_headers(extra: list[tuple[str, str]] | None = None, ctype: str = "application/json") -> list[tuple[str, str]]:
    return [("Date", "Mon, 17 Nov 2026 10:00:00 GMT"), ("Content-Type", ctype), *(extra or [])]


# ---------------------------------------------------------------- seeds 000 and 001: bothub, dall-e-3


def bothub() -> Recording:
    url = "https://bothub.chat/api/v2/openai/images/generations"
    body = dumps({"prompt": "Yellow alpaca", "n": 1, "size": "1024x1024", "model": "dall-e-3"})
    request_headers = [
        ("Content-Type", "application/json"),
        ("Authorization", f"Bearer {BOTHUB_JWT}"),
        ("Accept", "*/*"),
        ("User-Agent", "1Script v2.0"),
        ("Host", "bothub.chat"),
    ]

    def response_headers(date: str, request_id: str) -> list[tuple[str, str]]:
        return [
            ("Server", "nginx"),
            ("Date", date),
            ("Content-Type", "application/json; charset=utf-8"),
            ("Connection", "keep-alive"),
            ("X-Request-Id", request_id),
            ("Access-Control-Allow-Origin", "*"),
            ("Set-Cookie", "bothub_session=s%3AkH2mX9pQ4rT7vY1zB5nC8dF3gJ6; Path=/; HttpOnly; Secure"),
        ]

    return Recording(
        "bothub-dalle3",
        "bothub.chat passing OpenAI's dall-e-3 answers through (OpenIntegrations docs, seeds 000 and 001)",
        [
            Item(
                "seed 000 (2025-06-12): url answer with revised_prompt",
                url,
                body,
                200,
                dumps(ANSWERS["000_0bbb8c2e42243b03.txt"], indent=2),
                "conforms",
                images=1,
                request_headers=request_headers,
                response_headers=response_headers(
                    "Thu, 12 Jun 2025 19:34:25 GMT", "a1b2c3d4-0000-4000-8000-000000000000"
                ),
            ),
            Item(
                "seed 001 (2025-06-16): the same call four days later",
                url,
                body,
                200,
                dumps(ANSWERS["001_619dde2b4eea99e3.txt"], indent=2),
                "conforms",
                images=1,
                request_headers=request_headers,
                response_headers=response_headers(
                    "Mon, 16 Jun 2025 18:34:06 GMT", "a1b2c3d4-0000-4000-8000-000000000001"
                ),
            ),
        ],
        provider="bothub",
    )


# ---------------------------------------------------------------- seed 002: aipomogator


def aipomogator() -> Recording:
    url = "https://api.aipomogator.ru/v1/images/generations"
    headers = sdk_request_headers("sk-aipomogator-7f3e9a1c5b2d8e4f6a0b")

    def response_headers(request_id: str) -> list[tuple[str, str]]:
        return [
            ("Server", "nginx/1.24.0"),
            ("Date", "Thu, 01 Feb 2024 00:00:00 GMT"),
            ("Content-Type", "application/json"),
            ("X-Request-Id", request_id),
        ]

    return Recording(
        "aipomogator",
        "api.aipomogator.ru: the documented answers and errors (seed 002)",
        [
            Item(
                "documented url answer (dall-e-3, revised_prompt)",
                url,
                dumps(
                    {
                        "model": "dall-e-3",
                        "prompt": "Космический корабль на орбите Юпитера, реалистичный стиль",
                        "n": 1,
                        "size": "1024x1024",
                    },
                    indent=2,
                ),
                200,
                dumps(
                    {
                        "created": 1706745600,
                        "data": [
                            {
                                "url": "https://..../image.png",
                                "revised_prompt": "A detailed realistic image of a spacecraft orbiting Jupiter...",
                            }
                        ],
                    },
                    indent=2,
                ),
                "conforms",
                images=1,
                request_headers=headers,
                response_headers=response_headers("req-aipom-0001"),
            ),
            Item(
                "documented b64 answer: JPEG bytes (/9j/...) where PNG is implied; the provider declares it (jpeg-in-b64)",
                url,
                dumps({"model": "dall-e-3", "prompt": "Абстрактная картина", "response_format": "b64_json"}),
                200,
                dumps({"created": 1706745600, "data": [{"b64_json": "/9j/4AAQSkZJRgABAQAA..."}]}, indent=2),
                "quirk",
                findings=["/data/0/b64_json"],
                images=1,
                request_headers=headers,
                response_headers=response_headers("req-aipom-0002"),
            ),
            Item(
                "documented 400 for a size dall-e-3 does not take (no code, no param)",
                url,
                dumps({"model": "dall-e-3", "prompt": "Московский кремль на закате", "size": "256x256"}),
                400,
                dumps(
                    {"error": {"message": "Invalid size for model dall-e-3", "type": "invalid_request_error"}}, indent=2
                ),
                "conforms",
                error="BadRequestError",
                request_headers=headers,
                response_headers=response_headers("req-aipom-0003"),
            ),
            Item(
                "documented 400 content_policy_violation",
                url,
                dumps({"model": "dall-e-3", "prompt": "(a prompt the safety system rejects)", "size": "1024x1024"}),
                400,
                dumps(
                    {
                        "error": {
                            "message": "Your request was rejected as a result of our safety system",
                            "type": "invalid_request_error",
                            "code": "content_policy_violation",
                        }
                    },
                    indent=2,
                ),
                "conforms",
                error="ContentPolicyError",
                request_headers=headers,
                response_headers=response_headers("req-aipom-0004"),
            ),
        ],
        provider="aipomogator",
    )


# ---------------------------------------------------------------- seed 003: OpenAI's reference examples


def openai_reference() -> Recording:
    two_urls = dumps({"created": 1589478378, "data": [{"url": "https://..."}, {"url": "https://..."}]}, indent=2)
    boundary = "a3f1c2e4b5d6978812345678abcdef00"
    edit_body = multipart(
        boundary,
        [
            ("image", png(64, 64), "otter.png", "image/png"),
            ("mask", png(64, 64, shade=0), "mask.png", "image/png"),
            ("prompt", "A cute baby sea otter wearing a beret", None, None),
            ("n", "2", None, None),
            ("size", "1024x1024", None, None),
        ],
    )
    variation_body = multipart(
        boundary,
        [("image", png(64, 64), "otter.png", "image/png"), ("n", "2", None, None), ("size", "1024x1024", None, None)],
    )
    form = f"multipart/form-data; boundary={boundary}"
    return Recording(
        "openai-reference",
        "api.openai.com: the reference examples of generations, edits and variations (seed 003)",
        [
            Item(
                "generations: two images as URLs",
                "https://api.openai.com/v1/images/generations",
                dumps({"prompt": "A cute baby sea otter", "n": 2, "size": "1024x1024"}, indent=2),
                200,
                two_urls,
                "conforms",
                images=2,
                request_headers=[
                    *sdk_request_headers(OPENAI_KEY),
                    ("OpenAI-Organization", "org-Dy8ARyqBtu507OGoMBxfUU0S"),
                    ("OpenAI-Project", "proj_Xk2mQ9rT4vW7yZ1b"),
                ],
                response_headers=openai_response_headers(
                    "Thu, 14 May 2020 17:46:18 GMT", "req_8c1f0e5a2b9d4c7e6f3a1b0c9d8e7f6a", 9120
                ),
            ),
            Item(
                "edits: multipart with image and mask parts",
                "https://api.openai.com/v1/images/edits",
                edit_body,
                200,
                two_urls,
                "conforms",
                images=2,
                request_headers=sdk_request_headers(OPENAI_KEY, ctype=form),
                response_headers=openai_response_headers(
                    "Thu, 14 May 2020 17:47:02 GMT", "req_1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a", 10480
                ),
            ),
            Item(
                "variations: multipart with one image part",
                "https://api.openai.com/v1/images/variations",
                variation_body,
                200,
                two_urls,
                "conforms",
                images=2,
                request_headers=sdk_request_headers(OPENAI_KEY, ctype=form),
                response_headers=openai_response_headers(
                    "Thu, 14 May 2020 17:48:40 GMT", "req_6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c", 8730
                ),
            ),
        ],
        provider="openai",
    )


# ---------------------------------------------------------------- seed 004: a proxy documenting a chat.completion


def proxy_chat_completion() -> Recording:
    chat = (
        '{\n    "id": "chatcmpl-123",\n    "object": "chat.completion",\n    "created": 1677652288,\n    "choices": [\n'
        '        {\n            "index": 0,\n            "message": {\n                "role": "assistant",\n'
        '                "content": "\\n\\nHello there, how may I assist you today?"\n            },\n'
        '            "finish_reason": "stop"\n        }\n    ],\n    "usage": {\n        "prompt_tokens": 9,\n'
        '        "completion_tokens": 12,\n        "total_tokens": 21\n    }\n}'
    )
    return Recording(
        "proxy-chat-completion",
        "a gpt-image-1.5 proxy whose doc (seed 004) answers image generation with a chat.completion: a KNOWN VIOLATION",
        [
            Item(
                "seed 004: the documented 200 answer is a chat.completion, no images",
                "https://gpt-image-proxy.invalid/v1/images/generations",
                b'{\n    "size": "1024x1536",\n    "prompt": "a man walks",\n    "model": "gpt-image-1.5",\n    "n": 1\n}',
                200,
                chat.encode(),
                "violation",
                findings=["/choices", "/data", "/id", "/object", "/usage/completion_tokens", "/usage/prompt_tokens"],
                error="ResponseContractError",
                request_headers=[
                    ("Content-Type", "application/json"),
                    ("Accept", "application/json"),
                    ("Authorization", "Bearer sk-proxy-3a9f7c1e5b2d8f4a6c0e"),
                ],
                response_headers=json_headers(),
            )
        ],
    )


# ---------------------------------------------------------------- the reference's tolerant shapes


RELAY = "https://relay.example.com/v1/images/generations"
PNG_B64 = b64(png(32, 32))
JPEG_B64 = b64(jpeg_head())


def gen(model: str, **extra: Any) -> bytes:
    return dumps({"model": model, "prompt": "A yellow alpaca", **extra})


def relay_headers() -> list[tuple[str, str]]:
    return sdk_request_headers("sk-relay-5d8e2f1a9c3b7e4d6a0f")


def tolerant_answers() -> Recording:
    gpt = {"background": "opaque", "output_format": "png", "quality": "high", "size": "1024x1024"}
    usage = {
        "input_tokens": 12,
        "output_tokens": 4160,
        "total_tokens": 4172,
        "input_tokens_details": {"text_tokens": 12, "image_tokens": 0},
    }
    items = [
        Item(
            "created missing",
            RELAY,
            gen("dall-e-3"),
            200,
            dumps({"data": [{"url": "https://cdn.relay.example.com/a.png"}]}),
            "deviation",
            findings=["/created"],
            images=1,
        ),
        Item(
            "extra keys: id and model at the top, index per item",
            RELAY,
            gen("dall-e-3"),
            200,
            dumps(
                {
                    "id": "img_01J9",
                    "model": "dall-e-3",
                    "created": 1763700000,
                    "data": [{"index": 0, "url": "https://cdn.relay.example.com/b.png"}],
                }
            ),
            "deviation",
            findings=["/data/0/index", "/id", "/model"],
            images=1,
        ),
        Item(
            "revised_prompt null",
            RELAY,
            gen("dall-e-3"),
            200,
            dumps(
                {
                    "created": 1763700000,
                    "data": [{"url": "https://cdn.relay.example.com/c.png", "revised_prompt": None}],
                }
            ),
            "conforms",
            images=1,
        ),
        Item(
            'revised_prompt ""',
            RELAY,
            gen("dall-e-3"),
            200,
            dumps(
                {"created": 1763700000, "data": [{"url": "https://cdn.relay.example.com/d.png", "revised_prompt": ""}]}
            ),
            "conforms",
            images=1,
        ),
        Item(
            "revised_prompt echoes the prompt",
            RELAY,
            gen("dall-e-3"),
            200,
            dumps(
                {
                    "created": 1763700000,
                    "data": [{"url": "https://cdn.relay.example.com/e.png", "revised_prompt": "A yellow alpaca"}],
                }
            ),
            "conforms",
            images=1,
        ),
        Item(
            "url and b64_json both present, b64_json null",
            RELAY,
            gen("dall-e-3"),
            200,
            dumps({"created": 1763700000, "data": [{"url": "https://cdn.relay.example.com/f.png", "b64_json": None}]}),
            "conforms",
            images=1,
        ),
        Item(
            "b64_json and url both present, url null",
            RELAY,
            gen("gpt-image-1.5"),
            200,
            dumps({"created": 1763700000, "data": [{"b64_json": PNG_B64, "url": None}], **gpt, "usage": usage}),
            "conforms",
            images=1,
        ),
        Item(
            "JPEG in b64_json where PNG is the default",
            RELAY,
            gen("gpt-image-1.5"),
            200,
            dumps({"created": 1763700000, "data": [{"b64_json": JPEG_B64}], **gpt, "usage": usage}),
            "deviation",
            findings=["/data/0/b64_json"],
            images=1,
        ),
        Item(
            "JPEG in b64_json, asked for with output_format jpeg",
            RELAY,
            gen("gpt-image-1.5", output_format="jpeg"),
            200,
            dumps(
                {
                    "created": 1763700000,
                    "data": [{"b64_json": JPEG_B64}],
                    **gpt,
                    "output_format": "jpeg",
                    "usage": usage,
                }
            ),
            "conforms",
            images=1,
        ),
        Item(
            "GPT echo fields null",
            RELAY,
            gen("gpt-image-1.5"),
            200,
            dumps(
                {
                    "created": 1763700000,
                    "data": [{"b64_json": PNG_B64}],
                    "background": None,
                    "output_format": None,
                    "quality": None,
                    "size": None,
                    "usage": usage,
                }
            ),
            "conforms",
            images=1,
        ),
        Item(
            "GPT echo fields and usage missing",
            RELAY,
            gen("gpt-image-1.5"),
            200,
            dumps({"created": 1763700000, "data": [{"b64_json": PNG_B64}]}),
            "conforms",
            images=1,
        ),
        Item(
            "usage with extra counters (cached tokens) and output_tokens_details",
            RELAY,
            gen("gpt-image-1.5"),
            200,
            dumps(
                {
                    "created": 1763700000,
                    "data": [{"b64_json": PNG_B64}],
                    **gpt,
                    "usage": {
                        **usage,
                        "output_tokens_details": {"image_tokens": 4160, "text_tokens": 0},
                        "input_tokens_details": {"text_tokens": 12, "image_tokens": 0, "cached_tokens": 0},
                    },
                }
            ),
            "deviation",
            findings=["/usage/input_tokens_details/cached_tokens"],
            images=1,
        ),
    ]
    for item in items:
        item.request_headers = relay_headers()
        item.response_headers = json_headers([("X-Request-Id", "relay-0001")])
    return Recording(
        "tolerant-answers", "an OpenAI-compatible relay: 200 answers in the shapes a tolerant reader must take", items
    )


def tolerant_errors() -> Recording:
    def err(
        note: str,
        status: int,
        body: bytes,
        verdict: str,
        error: str,
        findings: list[str] | None = None,
        ctype: str = "application/json",
        extra: list[tuple[str, str]] | None = None,
    ) -> Item:
        item = Item(note, RELAY, gen("gpt-image-1.5"), status, body, verdict, findings=findings or [], error=error)
        item.request_headers = relay_headers()
        item.response_headers = json_headers([("X-Request-Id", "relay-0002"), *(extra or [])], ctype=ctype)
        return item

    html_page = (
        b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
        b"<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return Recording(
        "tolerant-errors",
        "an OpenAI-compatible relay: error bodies in the shapes a tolerant reader must take",
        [
            err(
                "429 with a numeric code",
                429,
                dumps(
                    {
                        "error": {
                            "message": "Rate limit reached for images per minute. Please try again in 12s.",
                            "type": "requests",
                            "param": None,
                            "code": 429,
                        }
                    }
                ),
                "conforms",
                "RateLimitError",
                extra=[("retry-after", "12")],
            ),
            err(
                "401 with a numeric-string code and no type (Azure style)",
                401,
                dumps(
                    {
                        "error": {
                            "code": "401",
                            "message": "Access denied due to invalid subscription key or wrong API endpoint.",
                        }
                    }
                ),
                "conforms",
                "AuthenticationError",
            ),
            err(
                '400 with param ""',
                400,
                dumps(
                    {
                        "error": {
                            "message": "Invalid value: '256x256'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.",
                            "type": "invalid_request_error",
                            "param": "",
                            "code": "invalid_value",
                        }
                    }
                ),
                "conforms",
                "BadRequestError",
            ),
            err(
                "400 with a type nobody documented",
                400,
                dumps(
                    {
                        "error": {
                            "message": "prompt too long for this upstream",
                            "type": "upstream_validation_error",
                            "param": "prompt",
                            "code": None,
                        }
                    }
                ),
                "conforms",
                "BadRequestError",
            ),
            err(
                "400 moderation_blocked with moderation_details",
                400,
                dumps(
                    {
                        "error": {
                            "message": "Your request was rejected by the safety system.",
                            "type": "image_generation_user_error",
                            "param": None,
                            "code": "moderation_blocked",
                            "moderation_details": {"moderation_stage": "input", "categories": ["violence"]},
                        }
                    }
                ),
                "conforms",
                "ContentPolicyError",
            ),
            err(
                "400 without the error wrapper",
                400,
                dumps(
                    {
                        "message": "size must be one of 1024x1024, 1536x1024, 1024x1536",
                        "type": "invalid_request_error",
                        "code": "invalid_size",
                    }
                ),
                "deviation",
                "BadRequestError",
                findings=["/code", "/error", "/message", "/type"],
            ),
            err(
                "429 insufficient_quota",
                429,
                dumps(
                    {
                        "error": {
                            "message": "You exceeded your current quota, please check your plan and billing details.",
                            "type": "insufficient_quota",
                            "param": None,
                            "code": "insufficient_quota",
                        }
                    }
                ),
                "conforms",
                "QuotaExceededError",
            ),
            err(
                "500 server_error",
                500,
                dumps(
                    {
                        "error": {
                            "message": "The server had an error while processing your request. Sorry about that!",
                            "type": "server_error",
                            "param": None,
                            "code": None,
                        }
                    }
                ),
                "conforms",
                "InternalServerError",
            ),
            err(
                "502 as plain text from a gateway",
                502,
                b"upstream connect error or disconnect/reset before headers. reset reason: overflow",
                "deviation",
                "InternalServerError",
                findings=[""],
                ctype="text/plain",
            ),
            err(
                "503 as an nginx HTML page",
                503,
                html_page,
                "deviation",
                "InternalServerError",
                findings=[""],
                ctype="text/html",
            ),
        ],
    )


def tolerant_streams() -> Recording:
    partial = {
        "type": "image_generation.partial_image",
        "b64_json": PNG_B64,
        "partial_image_index": 0,
        "created_at": 1763700000,
        "size": "1024x1024",
        "quality": "high",
        "background": "opaque",
        "output_format": "png",
    }
    completed = {
        "type": "image_generation.completed",
        "b64_json": PNG_B64,
        "created_at": 1763700001,
        "size": "1024x1024",
        "quality": "high",
        "background": "opaque",
        "output_format": "png",
        "usage": {
            "input_tokens": 12,
            "output_tokens": 4160,
            "total_tokens": 4172,
            "input_tokens_details": {"text_tokens": 12, "image_tokens": 0},
        },
    }
    edit_partial = {**partial, "type": "image_edit.partial_image"}
    edit_completed = {**completed, "type": "image_edit.completed"}
    stream_body = dumps({"model": "gpt-image-1.5", "prompt": "A yellow alpaca", "stream": True, "partial_images": 1})
    boundary = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"
    edit_body = multipart(
        boundary,
        [
            ("image[]", png(48, 48), "a.png", "image/png"),
            ("image[]", png(48, 48, shade=90), "b.png", "image/png"),
            ("prompt", "Put them in a basket", None, None),
            ("model", "gpt-image-1.5", None, None),
            ("stream", "true", None, None),
            ("partial_images", "1", None, None),
        ],
    )
    sse_headers = json_headers(
        [("Cache-Control", "no-cache"), ("X-Request-Id", "relay-0003")], ctype="text/event-stream"
    )
    return Recording(
        "tolerant-streams",
        "event streams: with and without event: lines, : comments, data: [DONE]",
        [
            Item(
                "no event: lines, : comments, a final data: [DONE]",
                RELAY,
                stream_body,
                200,
                sse(partial, completed, event_lines=False, comments=True, done=True),
                "conforms",
                images=1,
                events=2,
                request_headers=sdk_request_headers("sk-relay-5d8e2f1a9c3b7e4d6a0f", accept="text/event-stream"),
                response_headers=sse_headers,
            ),
            Item(
                "OpenAI style: event: lines, the final image before the partial",
                "https://api.openai.com/v1/images/generations",
                stream_body,
                200,
                sse(completed, partial, event_lines=True),
                "conforms",
                images=1,
                events=2,
                request_headers=sdk_request_headers(OPENAI_KEY, accept="text/event-stream"),
                response_headers=openai_response_headers(
                    "Mon, 17 Nov 2026 10:00:00 GMT",
                    "req_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                    21034,
                    ctype="text/event-stream",
                ),
            ),
            Item(
                "streamed multipart edit of two images (image[] parts)",
                "https://api.openai.com/v1/images/edits",
                edit_body,
                200,
                sse(edit_partial, edit_completed, event_lines=True),
                "conforms",
                images=1,
                events=2,
                request_headers=sdk_request_headers(
                    OPENAI_KEY, ctype=f"multipart/form-data; boundary={boundary}", accept="text/event-stream"
                ),
                response_headers=openai_response_headers(
                    "Mon, 17 Nov 2026 10:01:00 GMT",
                    "req_1f2e3d4c5b6a79887766a5b4c3d2e1f0",
                    25110,
                    ctype="text/event-stream",
                ),
            ),
            Item(
                "a stream asked for, plain JSON answered",
                RELAY,
                stream_body,
                200,
                dumps({"created": 1763700000, "data": [{"b64_json": PNG_B64}]}),
                "deviation",
                findings=[""],
                images=1,
                events=1,
                request_headers=relay_headers(),
                response_headers=json_headers(),
            ),
            Item(
                "an error event inside a 200 stream",
                RELAY,
                stream_body,
                200,
                sse(
                    partial,
                    {
                        "type": "error",
                        "error": {"message": "upstream timed out", "type": "server_error", "code": "server_error"},
                    },
                    event_lines=False,
                ),
                "deviation",
                findings=["/events/1"],
                error="InternalServerError",
                request_headers=relay_headers(),
                response_headers=sse_headers,
            ),
        ],
    )


def azure() -> Recording:
    url = "https://contoso-images.openai.azure.com/openai/deployments/dalle3/images/generations?api-version=2024-10-21"
    body = dumps({"prompt": "A yellow alpaca", "size": "1024x1024", "n": 1, "quality": "standard", "style": "vivid"})
    request_headers = [
        ("Content-Type", "application/json"),
        ("api-key", AZURE_KEY),
        ("User-Agent", "AzureOpenAI/Python 1.86.0"),
    ]
    filters = {
        "hate": {"filtered": False, "severity": "safe"},
        "self_harm": {"filtered": False, "severity": "safe"},
        "sexual": {"filtered": False, "severity": "safe"},
        "violence": {"filtered": False, "severity": "safe"},
    }
    blob = SEED_000_URL.replace(
        "oaidalleapiprodscus.blob.core.windows.net/private", "dalleprodsec.blob.core.windows.net/private/images"
    )

    def response_headers(ctype: str = "application/json") -> list[tuple[str, str]]:
        return [
            ("Content-Type", ctype),
            ("apim-request-id", "6f0b7c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b"),
            ("x-ms-region", "Sweden Central"),
            ("x-ms-rai-invoked", "true"),
            ("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload"),
            ("Date", "Mon, 17 Nov 2026 10:05:00 GMT"),
        ]

    return Recording(
        "azure-dalle3",
        "Azure OpenAI: per-item content filter results, its 401 and content-filter error envelopes",
        [
            Item(
                "content_filter_results on every item: a declared quirk",
                url,
                body,
                200,
                dumps(
                    {
                        "created": 1763700300,
                        "data": [
                            {
                                "revised_prompt": "A yellow alpaca in a meadow.",
                                "url": blob,
                                "content_filter_results": filters,
                            }
                        ],
                    },
                    indent=2,
                ),
                "quirk",
                findings=["/data/0/content_filter_results"],
                images=1,
                request_headers=request_headers,
                response_headers=response_headers(),
            ),
            Item(
                "prompt_filter_results and content_filter_results per item, both declared Azure quirks",
                url,
                body,
                200,
                dumps(
                    {
                        "created": 1763700300,
                        "data": [
                            {
                                "revised_prompt": "A yellow alpaca in a meadow.",
                                "url": blob,
                                "content_filter_results": filters,
                                "prompt_filter_results": filters,
                            }
                        ],
                    },
                    indent=2,
                ),
                "quirk",
                findings=["/data/0/content_filter_results", "/data/0/prompt_filter_results"],
                images=1,
                request_headers=request_headers,
                response_headers=response_headers(),
            ),
            Item(
                "401: numeric-string code, no type",
                url,
                body,
                401,
                dumps(
                    {
                        "error": {
                            "code": "401",
                            "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
                        }
                    }
                ),
                "conforms",
                error="AuthenticationError",
                request_headers=request_headers,
                response_headers=response_headers(),
            ),
            Item(
                "400 content filter with inner_error",
                url,
                body,
                400,
                dumps(
                    {
                        "error": {
                            "code": "content_policy_violation",
                            "message": "Your request was rejected as a result of our safety system.",
                            "param": None,
                            "type": None,
                            "inner_error": {
                                "code": "ResponsibleAIPolicyViolation",
                                "revised_prompt": "A yellow alpaca.",
                                "content_filter_results": {
                                    **filters,
                                    "violence": {"filtered": True, "severity": "medium"},
                                },
                            },
                        }
                    },
                    indent=2,
                ),
                "conforms",
                error="ContentPolicyError",
                request_headers=request_headers,
                response_headers=response_headers(),
            ),
        ],
        provider="azure",
    )


def violations() -> Recording:
    items = [
        Item(
            "HTML on 200 (a captive portal / login page)",
            RELAY,
            gen("dall-e-3"),
            200,
            b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>...</form></body></html>",
            "violation",
            findings=[""],
            error="ResponseContractError",
            response_headers=json_headers(ctype="text/html; charset=utf-8"),
        ),
        Item(
            "truncated JSON (the connection closed mid-body)",
            RELAY,
            gen("dall-e-3"),
            200,
            b'{"created": 1763700000, "data": [{"url": "https://cdn.relay.example.com/g.p',
            "violation",
            findings=[""],
            error="ResponseContractError",
            response_headers=json_headers(),
        ),
        Item(
            "no images: data is empty",
            RELAY,
            gen("dall-e-3"),
            200,
            dumps({"created": 1763700000, "data": []}),
            "violation",
            findings=["/data"],
            error="ResponseContractError",
            response_headers=json_headers(),
        ),
        Item(
            "b64_json that is not base64",
            RELAY,
            gen("gpt-image-1.5"),
            200,
            dumps({"created": 1763700000, "data": [{"b64_json": "not base64 at all!"}]}),
            "violation",
            findings=["/data/0/b64_json"],
            images=1,
            response_headers=json_headers(),
        ),
        Item(
            "a stream that ends without a completed image",
            RELAY,
            dumps({"model": "gpt-image-1.5", "prompt": "A yellow alpaca", "stream": True}),
            200,
            sse(
                {"type": "image_generation.partial_image", "b64_json": PNG_B64, "partial_image_index": 0},
                event_lines=True,
            ),
            "violation",
            findings=[""],
            error="ResponseContractError",
            response_headers=json_headers(ctype="text/event-stream"),
        ),
    ]
    for item in items:
        item.request_headers = relay_headers()
    return Recording("violations", "answers the generated client cannot honour: KNOWN VIOLATIONS", items)


AZURE_LEGACY = "https://contoso-images.openai.azure.com/openai"
AZURE_LEGACY_VERSION = "api-version=2023-06-01-preview"


def azure_legacy_async() -> Recording:
    """Azure's old DALL·E 2 API: submit, get 202 Accepted with an operation-location, poll it, download."""
    operation = "6d1c9e2b-8f0a-4e3b-9b51-0c7d2a4f1e88"
    poll = f"{AZURE_LEGACY}/operations/images/{operation}?{AZURE_LEGACY_VERSION}"
    image_url = f"https://dalleprodsec.blob.core.windows.net/private/images/{operation}/generated_00.png?se=2026-11-18&sig=abc%3D"
    headers = [("Content-Type", "application/json"), ("api-key", AZURE_KEY)]
    items = [
        Item(
            "submit: 202 Accepted with operation-location; the images come from polling (the contract has none)",
            f"{AZURE_LEGACY}/images/generations:submit?{AZURE_LEGACY_VERSION}",
            dumps({"prompt": "A yellow alpaca", "size": "1024x1024", "n": 1}),
            202,
            dumps({"id": operation, "status": "notRunning"}),
            "violation",
            findings=["", "/created", "/id", "/status"],
            error="ResponseContractError",
            request_headers=headers,
            response_headers=json_headers([("operation-location", poll), ("Retry-After", "2")]),
        ),
        Item(
            "the poll: not an Images API call (the submit is judged)",
            poll,
            b"",
            200,
            dumps(
                {
                    "created": 1763700000,
                    "expires": 1763786400,
                    "id": operation,
                    "result": {"created": 1763700000, "data": [{"url": image_url}]},
                    "status": "succeeded",
                }
            ),
            "skipped",
            method="GET",
            request_headers=[("api-key", AZURE_KEY)],
            response_headers=json_headers(),
        ),
        Item(
            "the image download: not an Images API call",
            image_url,
            b"",
            200,
            png(1024, 1024),
            "skipped",
            method="GET",
            response_headers=json_headers(ctype="image/png"),
        ),
    ]
    return Recording(
        "azure-legacy-async",
        "Azure's legacy asynchronous DALL·E 2 API (images/generations:submit, 202 + operation-location): "
        "a KNOWN VIOLATION, its poll and download skipped",
        items,
        provider="azure",
    )


def unreadable_answers() -> Recording:
    items = [
        Item(
            "raw PNG bytes instead of JSON: a content type the client cannot read",
            RELAY,
            gen("dall-e-2"),
            200,
            png(256, 256),
            "violation",
            findings=[""],
            error="ResponseContractError",
            response_headers=json_headers(ctype="image/png"),
        ),
        Item(
            "application/octet-stream",
            RELAY,
            gen("dall-e-2"),
            200,
            b"\x00\x01\x02 not an images answer",
            "violation",
            findings=[""],
            error="ResponseContractError",
            response_headers=json_headers(ctype="application/octet-stream"),
        ),
        Item(
            "an empty body on 200",
            RELAY,
            gen("dall-e-2"),
            200,
            b"",
            "violation",
            findings=[""],
            error="ResponseContractError",
            response_headers=json_headers(),
        ),
        Item(
            "204 No Content",
            RELAY,
            gen("dall-e-2"),
            204,
            b"",
            "violation",
            findings=[""],
            error="ResponseContractError",
            response_headers=[("Date", "Mon, 17 Nov 2026 10:00:00 GMT")],
        ),
        Item(
            "a CORS preflight: not an Images API call",
            RELAY,
            b"",
            204,
            b"",
            "skipped",
            method="OPTIONS",
            response_headers=[("Access-Control-Allow-Methods", "POST"), ("Access-Control-Allow-Origin", "*")],
        ),
        Item(
            "the model list: not an Images API call",
            "https://relay.example.com/v1/models",
            b"",
            200,
            dumps({"object": "list", "data": [{"id": "dall-e-2", "object": "model"}]}),
            "skipped",
            method="GET",
            response_headers=json_headers(),
        ),
    ]
    for item in items:
        if item.method == "POST":
            item.request_headers = relay_headers()
    return Recording(
        "unreadable-answers",
        "answers the client cannot turn into images (unknown content types, empty bodies): KNOWN VIOLATIONS; "
        "other traffic skipped",
        items,
    )


def openai_har() -> Recording:
    body = dumps(
        {
            "model": "gpt-image-1.5",
            "prompt": "A cute baby sea otter",
            "size": "1024x1536",
            "background": "transparent",
            "output_format": "png",
        }
    )
    return Recording(
        "openai-gpt-image",
        "a browser-style HAR capture of gpt-image-1.5 on api.openai.com (base64 response content)",
        [
            Item(
                "b64 answer with the GPT echo fields and usage",
                "https://api.openai.com/v1/images/generations",
                body,
                200,
                dumps(
                    {
                        "created": 1763700400,
                        "background": "transparent",
                        "data": [{"b64_json": b64(png(40, 60))}],
                        "output_format": "png",
                        "quality": "high",
                        "size": "1024x1536",
                        "usage": {
                            "input_tokens": 10,
                            "input_tokens_details": {"image_tokens": 0, "text_tokens": 10},
                            "output_tokens": 6240,
                            "total_tokens": 6250,
                        },
                    }
                ),
                "conforms",
                images=1,
                request_headers=sdk_request_headers(OPENAI_KEY),
                response_headers=openai_response_headers(
                    "Mon, 17 Nov 2026 10:10:00 GMT", "req_2a3b4c5d6e7f8091a2b3c4d5e6f70819", 31002
                ),
            ),
            Item(
                "404 model_not_found",
                "https://api.openai.com/v1/images/generations",
                gen("gpt-image-9"),
                404,
                dumps(
                    {
                        "error": {
                            "message": "The model `gpt-image-9` does not exist or you do not have access to it.",
                            "type": "invalid_request_error",
                            "param": None,
                            "code": "model_not_found",
                        }
                    }
                ),
                "conforms",
                error="ModelNotFoundError",
                request_headers=sdk_request_headers(OPENAI_KEY),
                response_headers=openai_response_headers(
                    "Mon, 17 Nov 2026 10:11:00 GMT", "req_3b4c5d6e7f8091a2b3c4d5e6f708192a", 41
                ),
            ),
            Item(
                "GET of the image URL: not an Images API call",
                "https://cdn.openai.example/img-1.png?sig=abc123&se=2026-11-17",
                b"",
                200,
                png(16, 16),
                "skipped",
                method="GET",
                request_headers=[("Accept", "*/*")],
                response_headers=[("Content-Type", "image/png")],
            ),
        ],
        provider="openai",
        har=True,
    )


# ---------------------------------------------------------------- writing


def har_text(interactions: list[Interaction]) -> str:
    entries = []
    for item in interactions:
        content_type = item.response_header("content-type") or ""
        try:
            text, encoding = item.response_body.decode("utf-8"), None
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(item.response_body).decode(), "base64"
        if encoding is None and "json" in content_type:  # as browsers export large JSON bodies
            text, encoding = base64.b64encode(item.response_body).decode(), "base64"
        request: dict[str, Any] = {
            "method": item.method,
            "url": item.url,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": n, "value": v} for n, v in item.request_headers],
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(item.request_body),
        }
        if item.request_body:
            request["postData"] = {
                "mimeType": item.request_header("content-type") or "",
                "text": item.request_body.decode(),
            }
        content: dict[str, Any] = {"size": len(item.response_body), "mimeType": content_type, "text": text}
        if encoding:
            content["encoding"] = encoding
        entries.append(
            {
                "startedDateTime": "2026-11-17T10:10:00.000Z",
                "time": 1000,
                "request": request,
                "response": {
                    "status": item.status,
                    "statusText": item.reason,
                    "httpVersion": "HTTP/1.1",
                    "headers": [{"name": n, "value": v} for n, v in item.response_headers],
                    "cookies": [],
                    "content": content,
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": len(item.response_body),
                },
                "cache": {},
                "timings": {"send": 0, "wait": 1000, "receive": 0},
            }
        )
    return (
        json.dumps(
            {"log": {"version": "1.2", "creator": {"name": "imagewire tests", "version": "1"}, "entries": entries}},
            indent=2,
        )
        + "\n"
    )


def write(recording: Recording, out: Path = HERE) -> list[Path]:
    suffix = ".har" if recording.har else ".yaml"
    path = out / f"{recording.name}{suffix}"
    interactions = [scrub(item.interaction(path.name, index)) for index, item in enumerate(recording.items)]
    if recording.har:
        path.write_text(har_text(interactions), encoding="utf-8")
    else:
        write_cassette(
            path,
            interactions,
            header=f"{recording.title}\nWritten by tests/recordings/build.py (scrubbed); see {recording.name}.expect.yaml.",
        )
    expect: dict[str, Any] = {}
    if recording.provider:
        expect["provider"] = recording.provider
    expect["interactions"] = [item.expectation(index) for index, item in enumerate(recording.items)]
    expect_path = out / f"{recording.name}.expect.yaml"
    text = f"# Expected verdicts of replaying {path.name} (imagewire check --replay): {recording.title}.\n"
    text += yaml.safe_dump(expect, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)
    expect_path.write_text(text, encoding="utf-8")
    return [path, expect_path]


RECORDINGS = (
    bothub,
    aipomogator,
    openai_reference,
    proxy_chat_completion,
    tolerant_answers,
    tolerant_errors,
    tolerant_streams,
    azure,
    violations,
    openai_har,
    azure_legacy_async,
    unreadable_answers,
)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[1]) if len(args) == 2 and args[0] == "--out" else HERE
    for build in RECORDINGS:
        for path in write(build(), out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
