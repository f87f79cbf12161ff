"""Answering: the images rendered (:mod:`imagewire.server.render`, deterministic in the request), the JSON
answer or the event stream, plausible usage (the model catalog's output tokens), a revised prompt (for models
whose catalog entry says they answer one), a persona's extra keys, and the
answers cut short by the ``truncated`` and ``drop`` faults."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from imagewire.images import FORMATS
from imagewire.server import render
from imagewire.server.personas import Persona
from imagewire.server.planning import FILTER_RESULTS, Plan
from imagewire.server.state import ServerState

__all__ = [
    "Dropped",
    "Rendered",
    "json_answer",
    "post_fault",
    "render_all",
    "revised_prompt",
    "stream_answer",
    "svg_usage",
    "usage",
]

_EVENT_PREFIX = {"generations": "image_generation", "edits": "image_edit", "variations": "image_variation"}
_PROMPT_FILTER_RESULTS = {**FILTER_RESULTS, "jailbreak": {"filtered": False, "detected": False}}


@dataclass(frozen=True)
class Rendered:
    data: bytes
    partials: tuple[bytes, ...]

    @functools.cached_property
    def b64(self) -> str:
        """``data`` in base64, encoded once per picture (a cached picture answers many requests)."""
        return base64.b64encode(self.data).decode()


def json_answer(state: ServerState, request: Request, plan: Plan, rendered: Sequence[Rendered]) -> Response:
    """The JSON answer: images as URLs (stored in the file store) or base64, with the persona's extra keys."""
    p = state.persona
    origin = str(request.base_url).rstrip("/")
    mime, dotted = FORMATS[plan.output_format]
    ext = dotted.lstrip(".")
    data: list[dict[str, Any]] = []
    for image in rendered:
        item: dict[str, Any] = {}
        if plan.revised_prompt:
            item["revised_prompt"] = revised_prompt(plan.prompt, plan.seed_fields)
        if plan.response_format == "url":
            name = state.files.put(image.data, ext, mime)
            item["url"] = state.files.url(origin, name)
        else:
            item["b64_json"] = image.b64
        data.append(item)
    body: dict[str, Any] = {"created": int(time.time()), "data": data}
    if plan.gpt:
        body |= {
            "background": plan.background,
            "output_format": plan.output_format,
            "quality": plan.quality,
            "size": plan.size,
            "usage": usage(plan, plan.n),
        }
        if plan.safety_identifier:
            body["safety_identifier"] = plan.safety_identifier
        if plan.svg_model:
            body["svg_usage"] = svg_usage(plan)
    for quirk, pointer in p.extra_keys.items():
        _place(body, pointer.strip("/").split("/"), quirk)
    return JSONResponse(body)


def stream_answer(persona: Persona, plan: Plan, rendered: Sequence[Rendered]) -> Response:
    """The event stream: partial images, then one completed event per image (relay dialect when the persona speaks it)."""
    relay = persona.relay_sse
    prefix = _EVENT_PREFIX[plan.op]
    created = int(time.time())
    echo: dict[str, Any] = {
        "size": plan.size,
        "quality": plan.quality,
        "background": plan.background,
        "output_format": plan.output_format,
    }
    chunks: list[bytes] = [b": keep-alive\n\n"] if relay else []
    for image in rendered:
        events: list[dict[str, Any]] = [
            {
                "type": f"{prefix}.partial_image",
                "b64_json": base64.b64encode(partial).decode(),
                "partial_image_index": index,
                "created_at": created,
                **echo,
            }
            for index, partial in enumerate(image.partials)
        ]
        events.append(
            {
                "type": f"{prefix}.completed",
                "b64_json": image.b64,
                "created_at": created,
                **echo,
                "usage": usage(plan, 1),
                **({"safety_identifier": plan.safety_identifier} if plan.safety_identifier else {}),
            }
        )
        for event in events:
            data = json.dumps(event, separators=(",", ":"))
            if relay:
                chunks.append(f"data: {data}\n\n".encode())
                chunks.append(b": keep-alive\n\n")
            else:
                chunks.append(f"event: {event['type']}\ndata: {data}\n\n".encode())
    if relay:
        chunks.append(b"data: [DONE]\n\n")

    async def sse() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return StreamingResponse(sse(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


async def post_fault(response: Response, *, drop: bool) -> Response:
    """The answer cut short (``truncated``) or its connection dropped midway (``drop``)."""
    body = await _body_of(response)
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    media_type = response.headers.get("content-type", "application/json")
    if drop:
        streaming = media_type.startswith("text/event-stream")
        return Dropped(response.status_code, headers, body, media_type, length=not streaming)
    cut = len(body) // 2
    if media_type.startswith("text/event-stream"):
        # end inside the data of the last completed event: the stream never completes
        start = body.rfind(b'data: {"type":"', 0, body.rfind(b'.completed"') + 1)
        end = body.find(b"\n", start)
        if start >= 0 and end > start:
            cut = start + (end - start) // 2
    return Response(body[:cut], status_code=response.status_code, headers=headers, media_type=media_type)


class Dropped(Response):
    """Headers and part of the body, then the connection is closed (the response is never completed)."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, media_type: str, *, length: bool) -> None:
        super().__init__(content=b"", status_code=status, headers=dict(headers), media_type=media_type)
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        if length:
            self.raw_headers.append((b"content-length", str(len(body)).encode()))
        self.full = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.full[: max(1, len(self.full) // 2)], "more_body": True})
        # returning now leaves the response incomplete: uvicorn closes the connection


async def _body_of(response: Response) -> bytes:
    if isinstance(response, StreamingResponse):
        chunks = [chunk if isinstance(chunk, bytes) else str(chunk).encode() async for chunk in response.body_iterator]
        return b"".join(chunks)
    return bytes(response.body)


def _extra_value(quirk: str, top_level: bool) -> Any:
    """The value a provider's extra key carries (Azure's filter results), by quirk id."""
    if quirk == "content-filter-results":
        return FILTER_RESULTS
    if quirk == "prompt-filter-results":
        if top_level:  # a list over the prompts, as in Azure's chat answers
            return [{"prompt_index": 0, "content_filter_results": _PROMPT_FILTER_RESULTS}]
        return _PROMPT_FILTER_RESULTS
    return None


def _place(node: Any, parts: Sequence[str], quirk: str, depth: int = 0) -> None:
    """Set the extra key of ``quirk`` at the pointer ``parts`` (``*`` walks every list item)."""
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    if head == "*":
        for item in node if isinstance(node, list) else ():
            _place(item, rest, quirk, depth + 1)
    elif not rest:
        value = _extra_value(quirk, depth == 0)
        if isinstance(node, dict) and value is not None:
            node[head] = value
    elif isinstance(node, dict) and head in node:
        _place(node[head], rest, quirk, depth + 1)


def usage(plan: Plan, n: int) -> dict[str, Any]:
    """Plausible token counts: text ~ 4 characters a token, 323 per input image, output by quality and area."""
    text = max(1, (len(plan.prompt) + 3) // 4)
    image_in = 323 * len(plan.inputs)
    tokens = plan.output_tokens
    per_image = tokens.get(plan.quality or "medium") or tokens.get("medium", 0)
    output = round(per_image * plan.width * plan.height / (1024 * 1024)) * n
    return {
        "input_tokens": text + image_in,
        "output_tokens": output,
        "total_tokens": text + image_in + output,
        "input_tokens_details": {"text_tokens": text, "image_tokens": image_in},
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
    }


def svg_usage(plan: Plan) -> dict[str, Any]:
    """Plausible SVG-authoring token counts, separate from the rendering usage."""
    text = max(1, (len(plan.prompt) + 3) // 4)
    reasoning, output = 512, 2048
    return {
        "input_tokens": text,
        "model": plan.svg_model,
        "output_tokens": output,
        "reasoning_tokens": reasoning,
        "total_tokens": text + output,
    }


_ADJECTIVES = ("vivid", "detailed", "serene", "striking", "whimsical", "luminous", "dramatic", "gentle")
_LIGHT = ("soft morning light", "warm golden-hour light", "crisp daylight", "moody twilight", "diffuse studio light")
_STYLE = ("a painterly texture", "photographic clarity", "rich, saturated colours", "a calm, balanced composition")


def revised_prompt(prompt: str, seed_fields: Mapping[str, Any]) -> str:
    """A model's rewording of the prompt (dall-e-3's): deterministic in the prompt and parameters."""
    digest = hashlib.sha256(json.dumps(seed_fields, sort_keys=True, default=str).encode()).digest()
    subject = " ".join(prompt.split()).rstrip(".") or "an abstract composition"
    style = "natural" if seed_fields.get("style") == "natural" else _ADJECTIVES[digest[0] % len(_ADJECTIVES)]
    return (
        f"A {style} image of {subject[0].lower() + subject[1:]}. The scene is shown in "
        f"{_LIGHT[digest[1] % len(_LIGHT)]}, with {_STYLE[digest[2] % len(_STYLE)]}."
    )


#: the last pictures rendered, by seed and preview count: the same request gets the same bytes without Pillow
_RENDERED: OrderedDict[tuple[str, int], Rendered] = OrderedDict()
_RENDERED_LIMIT = 64
_RENDERED_LOCK = threading.Lock()


def _keys(plan: Plan) -> list[tuple[str, int]]:
    """The cache keys of a plan's ``n`` images: the seed text of each and its preview count."""
    inputs = [hashlib.sha256(b).hexdigest() for b in plan.inputs]
    mask = hashlib.sha256(plan.mask).hexdigest() if plan.mask is not None else ""
    previews = plan.partial_images if plan.stream else 0
    return [
        (
            json.dumps({**plan.seed_fields, "index": index, "inputs": inputs}, sort_keys=True, default=str) + mask,
            previews,
        )
        for index in range(plan.n)
    ]


def cached_all(plan: Plan) -> list[Rendered] | None:
    """The plan's images when all of them are in the cache (no Pillow, no worker thread), else None."""
    out = []
    with _RENDERED_LOCK:
        for key in _keys(plan):
            cached = _RENDERED.get(key)
            if cached is None:
                return None
            _RENDERED.move_to_end(key)
            out.append(cached)
    return out


def render_all(plan: Plan) -> list[Rendered]:
    """The ``n`` images of a plan, with their partial previews when streamed (recent ones from a small cache)."""
    out = []
    for key in _keys(plan):
        seed_text = key[0]
        with _RENDERED_LOCK:
            cached = _RENDERED.get(key)
            if cached is not None:
                _RENDERED.move_to_end(key)
        if cached is not None:
            out.append(cached)
            continue
        out.append(_render_one(plan, seed_text))
        with _RENDERED_LOCK:
            _RENDERED[key] = out[-1]
            while len(_RENDERED) > _RENDERED_LIMIT:
                _RENDERED.popitem(last=False)
    return out


def _render_one(plan: Plan, seed_text: str) -> Rendered:
    picture = render.Picture(
        seed=hashlib.sha256(seed_text.encode()).digest(),
        width=plan.width,
        height=plan.height,
        prompt=plan.prompt,
        caption=f"imagewire · {plan.model} · {plan.size}",
        transparent=plan.background == "transparent",
        inputs=plan.inputs,
        mask=plan.mask,
    )
    if plan.output_format == "svg":
        data = render.svg(picture)
        return Rendered(data, tuple(data for _ in range(plan.partial_images if plan.stream else 0)))
    img = render.render(picture)
    data = render.encode(img, plan.output_format, plan.compression)
    count = plan.partial_images if plan.stream else 0
    partials = tuple(
        render.encode(render.preview(img, k, count), plan.output_format, plan.compression) for k in range(count)
    )
    return Rendered(data, partials)
