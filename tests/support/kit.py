"""Helpers for the check and record tests (no tests here): interactions and event streams built inline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imagewire.record.recordings import Interaction

RELAY = "https://relay.example.com/v1/images/generations"
RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"


def interaction(
    body: bytes | dict[str, Any] | list[Any] | str,
    *,
    status: int = 200,
    content_type: str | None = "application/json",
    url: str = RELAY,
    method: str = "POST",
    request: bytes | dict[str, Any] | None = None,
    request_type: str = "application/json",
    request_headers: tuple[tuple[str, str], ...] = (),
    response_headers: tuple[tuple[str, str], ...] = (),
    source: str = "test",
    index: int = 0,
) -> Interaction:
    if isinstance(body, (dict, list)):
        raw = json.dumps(body).encode()
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = body
    if request is None:
        request = {"model": "dall-e-3", "prompt": "A yellow alpaca"}
    request_raw = json.dumps(request).encode() if isinstance(request, dict) else request
    headers = (("Content-Type", content_type),) if content_type is not None else ()
    return Interaction(
        source,
        index,
        method,
        url,
        (("Content-Type", request_type), *request_headers),
        request_raw,
        status,
        "",
        headers + response_headers,
        raw,
    )


def sse(*events: dict[str, Any] | str, event_lines: bool = False, done: bool = False) -> bytes:
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(event)
            continue
        if event_lines:
            out.append(f"event: {event['type']}\n")
        out.append(f"data: {json.dumps(event)}\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()
