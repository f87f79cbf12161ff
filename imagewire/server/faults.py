"""Faults on demand: ``--faults`` (every request) or ``X-Imagewire-Fault: NAME[;times=N]`` (per request).

With ``times=N`` the first N requests carrying that header value (counted per header value and path)
fail, later ones are answered normally: what a retry test needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from imagewire.server.errors import ApiError

__all__ = ["FAULTS", "HEADER", "Fault", "parse_header", "parse_list", "pre_fault"]

HEADER = "x-imagewire-fault"

#: name -> what it does
FAULTS: Mapping[str, str] = {
    "rate-limit": "429 rate_limit_exceeded with retry-after: 1 and retry-after-ms",
    "rate-limit-bare": "429 rate_limit_exceeded without retry-after",
    "quota": "429 insufficient_quota (do not retry)",
    "server-error": "500 server_error",
    "bad-gateway": "502 with a JSON envelope",
    "overloaded": "503 overloaded",
    "slow": "sleep --latency (or 2 s) before answering",
    "drop": "send the headers and part of the body, then close the connection",
    "truncated": "200 with the body cut in half (truncated JSON or event stream)",
    "html": "502 with an HTML error page",
    "text": "500 with a text/plain body",
    "wrong-shape": "200 with a chat.completion body (seed 004)",
    "moderation_blocked": "400 moderation_blocked (DALL·E: content_policy_violation), as for the word 'forbidden'",
}

#: faults answered before the request is read
PRE = (
    "rate-limit",
    "rate-limit-bare",
    "quota",
    "server-error",
    "bad-gateway",
    "overloaded",
    "html",
    "text",
    "wrong-shape",
)


@dataclass(frozen=True)
class Fault:
    name: str
    times: int | None
    key: str  # the header item as sent; counted per (key, path)


def _known(name: str) -> str:
    if name not in FAULTS:  # spelled with hyphens like the rest: moderation-blocked
        name = {fault.replace("_", "-"): fault for fault in FAULTS}.get(name, name)
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
    return name


def parse_list(text: str | Iterable[str]) -> tuple[str, ...]:
    """``rate-limit,slow`` (or a list of names) → the names, checked."""
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(_known(item.strip()) for item in items if item.strip())


def parse_header(value: str) -> list[Fault]:
    """``NAME[;times=N]`` items, comma-separated; ``ValueError`` for an unknown name or a bad option."""
    faults = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        name, *options = (part.strip() for part in item.split(";"))
        times: int | None = None
        for option in options:
            key, _, raw = option.partition("=")
            if key.strip().lower() != "times" or not raw.strip().isdigit():
                raise ValueError(f"bad fault option {option!r} in {item!r}; expected times=N")
            times = int(raw.strip())
        faults.append(Fault(_known(name), times, item))
    return faults


_CHAT_COMPLETION = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "created": 1677652288,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "\n\nHello there, how may I assist you today?"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
}

_HTML = """<!DOCTYPE html>
<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


@dataclass(frozen=True)
class Canned:
    """A fixed answer: status, body, content type and headers."""

    status: int
    body: bytes
    content_type: str
    headers: Mapping[str, str]


def _rate_headers(retry: bool) -> dict[str, str]:
    headers = {
        "x-ratelimit-limit-requests": "5",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1s",
    }
    if retry:
        headers |= {"retry-after": "1", "retry-after-ms": "1000"}
    return headers


def pre_fault(name: str) -> ApiError | Canned | None:
    """The answer of a fault that replaces the whole request, or ``None`` for the others."""
    if name in ("rate-limit", "rate-limit-bare"):
        return ApiError(
            429,
            "Rate limit reached for images in organization org-imagewire on images per minute (IPM): "
            "Limit 5, Used 5, Requested 1. Please try again in 1s.",
            type="requests",
            code="rate_limit_exceeded",
            headers=_rate_headers(name == "rate-limit"),
        )
    if name == "quota":
        return ApiError(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
    if name == "server-error":
        return ApiError(
            500, "The server had an error while processing your request. Sorry about that!", type="server_error"
        )
    if name == "bad-gateway":
        return ApiError(502, "Bad gateway.", type="server_error", code="bad_gateway")
    if name == "overloaded":
        return ApiError(503, "The engine is currently overloaded, please try again later", type="server_error")
    if name == "html":
        return Canned(502, _HTML.encode(), "text/html", {})
    if name == "text":
        return Canned(500, b"Internal Server Error", "text/plain; charset=utf-8", {})
    if name == "wrong-shape":
        body: Any = _CHAT_COMPLETION
        return Canned(200, json.dumps(body).encode(), "application/json", {})
    return None
