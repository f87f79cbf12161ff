"""Reading a request: its body within the size limit, as JSON or a multipart form, checked against the
spec's request schema (:mod:`imagewire.server.contract`), and the image references of a JSON edit resolved
(data URLs, and URLs this server handed out; nothing is downloaded)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes, urlsplit

from starlette.requests import Request

from imagewire import multipart
from imagewire.check.operations import coerce
from imagewire.images import media_type, sniff
from imagewire.server.contract import Body
from imagewire.server.errors import ApiError, quote_list
from imagewire.server.state import ServerState
from imagewire_client.media import Upload

__all__ = ["MAX_FIELDS", "MAX_FILES", "Parsed", "read", "resolve_references"]

#: the most file parts and text parts a form may have
MAX_FILES = 64
MAX_FIELDS = 256


@dataclass
class Parsed:
    """One request as read: its encoding, its fields (``None`` values dropped) and files."""

    encoding: str
    fields: dict[str, Any]
    images: list[Upload] = field(default_factory=list)
    image_parts: list[str] = field(default_factory=list)
    mask: Upload | None = None
    markup: Upload | None = None


async def read(request: Request, state: ServerState, op: str) -> Parsed:
    """The body of a request to ``op``: 415 for a content type the operation does not take, 413 over the
    size limit (counted as it arrives), 408 when it is not sent within the body timeout, 400 for a body the
    spec's schema does not admit."""
    bodies = state.contract.bodies.get(op, {})
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in bodies:
        accepted = " or ".join(sorted(bodies)) or "nothing"
        raise ApiError(
            415,
            f"Unsupported content type: '{media or 'none'}'. This endpoint accepts {accepted}.",
            code="unsupported_content_type",
        )
    try:
        async with asyncio.timeout(state.body_timeout):
            raw = await _body_bytes(request, state.max_body)
    except TimeoutError:
        message = f"Timed out reading the request body (the limit is {state.body_timeout:g} s)."
        raise ApiError(408, message, code="timeout") from None
    if media == "application/json":
        return _read_json(raw, bodies[media])
    return _read_multipart(raw, content_type, bodies[media], state.contract.image_types)


async def _body_bytes(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(int(length), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_json(raw: bytes, body: Body) -> Parsed:
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
            "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
            "JSON.)",
        ) from None
    if not isinstance(payload, dict):
        raise ApiError(400, "Invalid type for body: expected an object.", code="invalid_type")
    body.validate(payload)
    return Parsed("json", {k: v for k, v in payload.items() if v is not None})


def _read_multipart(raw: bytes, content_type: str, body: Body, image_types: tuple[str, ...]) -> Parsed:
    parts = multipart.parse(raw, content_type)
    if parts is None:
        raise ApiError(400, "Could not parse the multipart form data: no boundary.")
    files_sent = sum(1 for part in parts if part.filename is not None)
    if files_sent > MAX_FILES or len(parts) - files_sent > MAX_FIELDS:
        raise ApiError(
            400,
            f"Could not parse the multipart form data: at most {MAX_FILES} files and {MAX_FIELDS} fields.",
        )
    arrays = {f.array_part: f.name for f in body.fields.values() if f.array_part}
    values: dict[str, Any] = {}
    files: dict[str, list[tuple[str, Upload]]] = {}
    for part in parts:
        key = part.name
        if key not in arrays and _nested(part, body, values):
            continue
        name = arrays.get(key, key)
        spec = body.fields.get(name)
        if spec is None:
            raise ApiError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
        if spec.binary:
            if part.filename is None:
                raise _mimetype(key, "text/plain", image_types)
            mime = media_type(part.content_type or "application/octet-stream")
            if mime not in image_types:
                raise _mimetype(key, mime, image_types)
            files.setdefault(name, []).append((key, Upload(part.filename or key, part.data, mime, sniff(part.data))))
        elif part.filename is not None:
            raise _file_not_field(key)
        else:
            # as the JSON type the schema wants; a text "null" stays text
            values[name] = coerce(part.data.decode("utf-8", errors="replace"), spec.types - {"null"})
    body.validate({**values, **{name: True for name in files}})
    parsed = Parsed("multipart", values)
    for name, items in files.items():
        if name == "image":
            if len(items) > 16:
                raise ApiError(
                    400,
                    f"Invalid 'image': at most 16 images, got {len(items)}.",
                    param="image",
                    code="invalid_value",
                )
            parsed.images = [upload for _, upload in items]
            parsed.image_parts = [part for part, _ in items]
        elif len(items) > 1:
            raise ApiError(400, f"Invalid '{name}': send one file, not {len(items)}.", param=name, code="invalid_value")
        elif name == "mask":
            parsed.mask = items[0][1]
        elif name == "markup":
            parsed.markup = items[0][1]
    return parsed


def _nested(part: multipart.Part, body: Body, values: dict[str, Any]) -> bool:
    """Fold a bracketed multipart part (``svg[reasoning][effort]``) into its object field; False if not one."""
    key = part.name
    found = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[A-Za-z_][A-Za-z0-9_]*\])+)", key)
    if found is None:
        return False
    base, path = found.group(1), re.findall(r"\[([^\]]+)\]", found.group(2))
    field = body.fields.get(base)
    if field is None or "object" not in field.types:
        raise ApiError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
    if part.filename is not None:
        raise _file_not_field(key)
    node = values.setdefault(base, {})
    for step in path[:-1]:
        node = node.setdefault(step, {}) if isinstance(node, dict) else node
    if not isinstance(node, dict) or isinstance(node.get(path[-1]), dict):
        raise ApiError(400, f"Invalid '{key}': conflicting parts.", param=key, code="invalid_value")
    node[path[-1]] = part.data.decode("utf-8", errors="replace")
    return True


def resolve_references(request: Request, state: ServerState, parsed: Parsed) -> None:
    """Resolve the image references of a JSON edit (data URLs; this server's own file URLs)."""
    refs = parsed.fields.get("images")
    if isinstance(refs, list):
        parsed.images = [_reference(request, state, ref, f"images[{i}]") for i, ref in enumerate(refs)]
        parsed.image_parts = [f"images[{i}]" for i in range(len(refs))]
    mask = parsed.fields.get("mask")
    if isinstance(mask, dict):
        parsed.mask = _reference(request, state, mask, "mask")


def _reference(request: Request, state: ServerState, ref: Any, where: str) -> Upload:
    url = ref.get("image_url") if isinstance(ref, dict) else None
    file_id = ref.get("file_id") if isinstance(ref, dict) else None
    if (url is None) == (file_id is None):
        raise ApiError(
            400, f"Invalid '{where}': set exactly one of image_url and file_id.", param=where, code="invalid_value"
        )
    if file_id is not None:
        raise ApiError(404, f"No such File object: {file_id}", param=f"{where}.file_id", code="file_not_found")
    assert isinstance(url, str)
    if url.startswith("data:"):
        head, comma, payload = url[5:].partition(",")
        if not comma:
            raise _bad_url(where, "a data URL needs a comma before its data")
        mime = media_type(head) or "text/plain"
        try:
            data = base64.b64decode(payload, validate=True) if ";base64" in head.lower() else unquote_to_bytes(payload)
        except (binascii.Error, ValueError):
            raise _bad_url(where, "its base64 data cannot be decoded") from None
        if mime not in state.contract.image_types:
            raise _mimetype(f"{where}.image_url", mime, state.contract.image_types)
        return Upload(f"{where}.{mime.rsplit('/', 1)[-1]}", data, mime, sniff(data))
    if url.startswith(("http://", "https://")):
        own = _own_file(request, state, url)
        if own is not None:
            info = sniff(own)
            return Upload(where, own, info.mime if info else "application/octet-stream", info)
        raise ApiError(
            400,
            f"Error while downloading {url}. (The reference provider works offline: send a data URL.)",
            param=f"{where}.image_url",
            code="invalid_image_url",
        )
    raise _bad_url(where, "expected an http(s) URL or a data URL")


def _own_file(request: Request, state: ServerState, url: str) -> bytes | None:
    """The bytes behind a URL this server handed out (no network), or ``None``."""
    parts = urlsplit(url)
    if parts.netloc != request.url.netloc or not parts.path.startswith("/files/"):
        return None
    query = dict(parse_qsl(parts.query))
    status, data, _ = state.files.fetch(parts.path[len("/files/") :], query.get("se"), query.get("sig"))
    return data if status == 200 else None


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413,
        f"Request body too large: {size:,} bytes; the limit is {limit:,} bytes.",
        code="request_too_large",
    )


def _file_not_field(part: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{part}': expected a form field, but got a file instead.",
        param=part,
        code="invalid_type",
    )


def _mimetype(part: str, content_type: str, image_types: tuple[str, ...]) -> ApiError:
    return ApiError(
        400,
        f"Invalid file '{part}': unsupported mimetype ('{content_type}'). Supported file formats are "
        f"{quote_list(image_types)}.",
        param=part.split("[", 1)[0].split(".", 1)[0],
        code="unsupported_file_mimetype",
    )


def _bad_url(where: str, why: str) -> ApiError:
    return ApiError(400, f"Invalid '{where}.image_url': {why}.", param=f"{where}.image_url", code="invalid_image_url")
