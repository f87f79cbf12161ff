"""Reading a request: its body within the size limit, as JSON or a multipart form, checked against the
spec's request schema (:mod:`imagewire.server.contract`), and the image references of a JSON edit resolved
(data URLs, and URLs this server handed out; nothing is downloaded).

A form is read part by part as it arrives (:class:`imagewire.multipart.Reader`): text parts are held (at
most :data:`MAX_FIELD_BYTES` each), file parts are spooled (in memory up to :data:`SPOOL_BYTES`, then to a
temporary file), the whole body within ``--max-body`` and the body timeout. A file is read into memory once,
by :meth:`Parsed.load`, after its size has passed the model's limit; a request's files are deleted when it
is answered (:meth:`Parsed.close`)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
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

__all__ = [
    "MAX_FIELDS",
    "MAX_FIELD_BYTES",
    "MAX_FILES",
    "SPOOL_BYTES",
    "Parsed",
    "Received",
    "read",
    "resolve_references",
]

#: the most file parts and text parts a form may have
MAX_FILES = 64
MAX_FIELDS = 256
#: the most bytes one text part of a form may hold
MAX_FIELD_BYTES = 1024 * 1024
#: a file part larger than this goes from memory to a temporary file
SPOOL_BYTES = 1024 * 1024


@dataclass
class Received:
    """A file part as it arrived: its form part name, file name, media type, size, and its bytes spooled."""

    part: str
    filename: str
    content_type: str
    file: tempfile.SpooledTemporaryFile[bytes] = field(repr=False)
    size: int = 0

    def upload(self) -> Upload:
        """The file read into memory (once), then its spool closed."""
        with self.file:
            self.file.seek(0)
            data = self.file.read()
        return Upload(self.filename, data, self.content_type, sniff(data))


@dataclass
class Parsed:
    """One request as read: its encoding, its fields (``None`` values dropped) and files."""

    encoding: str
    fields: dict[str, Any]
    images: list[Upload] = field(default_factory=list)
    image_parts: list[str] = field(default_factory=list)
    mask: Upload | None = None
    markup: Upload | None = None
    #: the file fields of a form as received, until :meth:`load` reads them into the fields above
    received: dict[str, list[Received]] = field(default_factory=dict)

    def sizes(self, name: str) -> list[tuple[str, int]]:
        """(part, bytes) of each file sent as ``image`` or ``mask``, received or loaded."""
        if name in self.received:
            return [(item.part, item.size) for item in self.received[name]]
        if name == "image":
            return [(part, len(upload.data)) for part, upload in zip(self.image_parts, self.images, strict=False)]
        return [(name, len(self.mask.data))] if name == "mask" and self.mask is not None else []

    def load(self) -> None:
        """Read the received files into memory: the images, the mask and the markup."""
        received, self.received = self.received, {}
        try:
            for name, items in received.items():
                uploads = [item.upload() for item in items]
                if name == "image":
                    self.images, self.image_parts = uploads, [item.part for item in items]
                elif name == "mask":
                    self.mask = uploads[0]
                elif name == "markup":
                    self.markup = uploads[0]
        finally:
            _close(received)

    def close(self) -> None:
        """Delete what is still spooled."""
        received, self.received = self.received, {}
        _close(received)

    def __enter__(self) -> Parsed:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _close(received: dict[str, list[Received]]) -> None:
    for items in received.values():
        for item in items:
            item.file.close()


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
            if media == "application/json":
                raw = bytearray()
                async for chunk in _chunks(request, state.max_body):
                    raw += chunk
            else:
                parts = await _receive(_chunks(request, state.max_body), content_type)
    except TimeoutError:
        message = f"Timed out reading the request body (the limit is {state.body_timeout:g} s)."
        raise ApiError(408, message, code="timeout") from None
    if media == "application/json":
        return _read_json(raw, bodies[media])
    try:
        return _read_multipart(parts, bodies[media], state.contract.image_types)
    except BaseException:
        _close_parts(parts)
        raise


async def _chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body as it arrives; 413 as soon as it is past ``limit`` bytes (or says it will be)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(int(length), limit)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        yield chunk


#: a part as received: its head, and its text or its spooled file
_Item = tuple[multipart.Part, "bytes | Received"]


async def _receive(chunks: AsyncIterator[bytes], content_type: str) -> list[_Item]:
    """The parts of a form, read as the body arrives: text held, files spooled; bounded in count and size."""
    found = multipart.boundary(content_type)
    head = b""
    parts: list[_Item] = []
    try:
        if found is None:  # the boundary from the body's first line
            async for chunk in chunks:
                head += chunk
                if b"\n" in head or len(head) > 256:
                    break
            found = multipart.boundary(content_type, head)
            if found is None:
                raise ApiError(400, "Could not parse the multipart form data: no boundary.")
        reader = multipart.Reader(found)
        events = reader.feed(head)
        while True:
            _take(events, parts)
            if reader.done:
                break
            chunk = await anext(chunks, b"")
            if not chunk:  # the end of the body (Starlette passes an empty piece only there)
                _take(reader.finish(), parts)
                break
            events = reader.feed(chunk)
        async for _ in chunks:  # what follows the closing delimiter still counts against the limit
            pass
    except multipart.FormError as err:
        _close_parts(parts)
        raise ApiError(400, f"Could not parse the multipart form data: {err}.") from None
    except BaseException:
        _close_parts(parts)
        raise
    return parts


def _take(events: list[multipart.Part | bytes | None], parts: list[_Item]) -> None:
    """Add what a reader read to ``parts``: a new part, or data for the last one."""
    for event in events:
        if isinstance(event, multipart.Part):
            parts.append((event, _start(event, parts)))
        elif isinstance(event, bytes):
            part, value = parts[-1]
            if isinstance(value, Received):
                value.file.write(event)
                value.size += len(event)
            elif len(value) + len(event) > MAX_FIELD_BYTES:
                raise ApiError(
                    400,
                    f"Invalid '{part.name}': a form field may hold at most {MAX_FIELD_BYTES:,} bytes.",
                    param=part.name,
                    code="invalid_value",
                )
            else:
                parts[-1] = (part, value + event)


def _start(part: multipart.Part, parts: list[_Item]) -> bytes | Received:
    """What a new part's data goes into: a spooled file for a file part, bytes for a text part."""
    files = sum(1 for _, value in parts if isinstance(value, Received)) + (part.filename is not None)
    if files > MAX_FILES or len(parts) + 1 - files > MAX_FIELDS:
        raise ApiError(
            400,
            f"Could not parse the multipart form data: at most {MAX_FILES} files and {MAX_FIELDS} fields.",
        )
    if part.filename is None:
        return b""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, prefix="imagewire-upload-")  # noqa: SIM115 - closed by Parsed
    return Received(
        part.name, part.filename or part.name, media_type(part.content_type or "application/octet-stream"), spool
    )


def _close_parts(parts: list[_Item]) -> None:
    for _, value in parts:
        if isinstance(value, Received):
            value.file.close()


def _read_json(raw: bytes | bytearray, body: Body) -> Parsed:
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


def _read_multipart(parts: list[_Item], body: Body, image_types: tuple[str, ...]) -> Parsed:
    arrays = {f.array_part: f.name for f in body.fields.values() if f.array_part}
    values: dict[str, Any] = {}
    files: dict[str, list[Received]] = {}
    for part, value in parts:
        key = part.name
        if key not in arrays and _nested(part, value, body, values):
            continue
        name = arrays.get(key, key)
        spec = body.fields.get(name)
        if spec is None:
            raise ApiError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
        if spec.binary:
            if not isinstance(value, Received):
                raise _mimetype(key, "text/plain", image_types)
            if value.content_type not in image_types:
                raise _mimetype(key, value.content_type, image_types)
            files.setdefault(name, []).append(value)
        elif isinstance(value, Received):
            raise _file_not_field(key)
        else:
            # as the JSON type the schema wants; a text "null" stays text
            values[name] = coerce(value.decode("utf-8", errors="replace"), spec.types - {"null"})
    body.validate({**values, **{name: True for name in files}})
    for name, items in files.items():
        if name == "image" and len(items) > 16:
            raise ApiError(
                400, f"Invalid 'image': at most 16 images, got {len(items)}.", param="image", code="invalid_value"
            )
        if name != "image" and len(items) > 1:
            raise ApiError(400, f"Invalid '{name}': send one file, not {len(items)}.", param=name, code="invalid_value")
    return Parsed("multipart", values, received=files)


def _nested(part: multipart.Part, value: bytes | Received, body: Body, values: dict[str, Any]) -> bool:
    """Fold a bracketed multipart part (``svg[reasoning][effort]``) into its object field; False if not one."""
    key = part.name
    found = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[A-Za-z_][A-Za-z0-9_]*\])+)", key)
    if found is None:
        return False
    base, path = found.group(1), re.findall(r"\[([^\]]+)\]", found.group(2))
    field = body.fields.get(base)
    if field is None or "object" not in field.types:
        raise ApiError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
    if isinstance(value, Received):
        raise _file_not_field(key)
    node = values.setdefault(base, {})
    for step in path[:-1]:
        node = node.setdefault(step, {}) if isinstance(node, dict) else node
    if not isinstance(node, dict) or isinstance(node.get(path[-1]), dict):
        raise ApiError(400, f"Invalid '{key}': conflicting parts.", param=key, code="invalid_value")
    node[path[-1]] = value.decode("utf-8", errors="replace")
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
