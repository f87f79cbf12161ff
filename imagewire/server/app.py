"""The reference provider as a Starlette application: :func:`make_app`.

Per request, in this order: route (the persona's URL shape; 404 ``Invalid URL``, 405 for a method other
than POST, 404 for an operation the persona does not offer), Azure's ``api-version``, auth (401), faults,
latency, content type (415), size (413), the spec's request schema (400 ``unknown_parameter``,
``missing_required_parameter``, ``invalid_type``, ``invalid_value``), the persona's model table (404
``model_not_found``), input files (413 over a model's limit), the model catalog's checks
(``imagewire_client._checks.check``; 400), the moderation marker word ``forbidden`` (400), then the images.

``created`` and ``created_at`` are the real unix time of the answer; the image bytes do not depend on it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from imagewire.record.scrub import scrub_url
from imagewire.server import render
from imagewire.server.contract import Body, Contract, load
from imagewire.server.errors import ApiError, quote_list
from imagewire.server.faults import HEADER, PRE, Canned, parse_header, parse_list, pre_fault
from imagewire.server.files import FileStore
from imagewire.server.personas import Persona
from imagewire.server.personas import persona as find_persona
from imagewire_client._catalog import MODELS, Model, OperationRules
from imagewire_client._checks import CheckError, check
from imagewire_client._multipart import Upload
from imagewire_client._sniff import sniff

__all__ = ["DEFAULT_MAX_BODY", "ServerState", "make_app"]

DEFAULT_MAX_BODY = 100 * 1024 * 1024
LOG_LIMIT = 10_000

#: the model the server uses when a request names none (the official spec's defaults; Azure: the deployment)
DEFAULT_MODELS: Mapping[str, str] = {"generations": "dall-e-2", "edits": "gpt-image-1.5", "variations": "dall-e-2"}
AZURE_FALLBACK_MODEL = "gpt-image-1.5"

IMAGE_MIMES = ("image/jpeg", "image/png", "image/webp")
_MIME_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}

_EVENT_PREFIX = {"generations": "image_generation", "edits": "image_edit", "variations": "image_variation"}

_OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "xhigh": 6240, "max": 8320}

_AZURE_401 = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)
_SAFE = {"filtered": False, "severity": "safe"}
_FILTER_RESULTS = {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}
_PROMPT_FILTER_RESULTS = {**_FILTER_RESULTS, "jailbreak": {"filtered": False, "detected": False}}
#: request fields that do not change the picture (how it is delivered, who asked)
_NOT_IN_SEED = frozenset(
    ("images", "mask", "stream", "partial_images", "user", "safety_identifier", "response_format", "moderation")
)
_MARKER = re.compile(r"(?i)\bforbidden\b")


def _nested(key: str, value: Any, body: Any, values: dict[str, Any]) -> bool:
    """Fold a bracketed multipart part (``svg[reasoning][effort]``) into its object field; False if not one."""
    found = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[A-Za-z_][A-Za-z0-9_]*\])+)", key)
    if found is None:
        return False
    base, path = found.group(1), re.findall(r"\[([^\]]+)\]", found.group(2))
    field = body.fields.get(base)
    if field is None or "object" not in field.types:
        raise ApiError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
    if isinstance(value, UploadFile):
        raise _file_not_field(key)
    node = values.setdefault(base, {})
    for step in path[:-1]:
        node = node.setdefault(step, {}) if isinstance(node, dict) else node
    if not isinstance(node, dict) or isinstance(node.get(path[-1]), dict):
        raise ApiError(400, f"Invalid '{key}': conflicting parts.", param=key, code="invalid_value")
    node[path[-1]] = value
    return True


@dataclass
class ServerState:
    """Everything one server instance holds: settings, the request log, fault counters, stored images."""

    persona: Persona
    contract: Contract
    api_key: str | None = None
    latency_ms: int = 0
    faults: tuple[str, ...] = ()
    url_ttl: int = 3600
    max_body: int = DEFAULT_MAX_BODY
    files: FileStore = field(default_factory=FileStore)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))
    seq: int = 0
    counters: dict[tuple[str, str], int] = field(default_factory=dict)

    def reset(self) -> None:
        self.log.clear()
        self.counters.clear()


# ---------------------------------------------------------------- request log


class RequestLog:
    """ASGI middleware: every request but ``/_imagewire/*`` is logged when its answer starts (never a header).

    The path and query string are logged as :func:`imagewire.record.scrub.scrub_url` leaves them: a key or a
    signature sent in the URL (``?api-key=...``, ``&sig=...``) never reaches the log.
    """

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith("/_imagewire/"):
            await self.app(scope, receive, send)
            return
        state = self.state
        state.seq += 1
        entry: dict[str, Any] = {
            "seq": state.seq,
            "time": time.time(),
            "method": scope.get("method"),
            "path": scrub_url(str(scope.get("path") or "")),
            "query": _scrubbed_query(bytes(scope.get("query_string") or b"").decode("latin-1")),
            "status": None,
        }
        scope["imagewire.log"] = entry
        started = time.perf_counter()

        async def logged(message: Message) -> None:
            if message["type"] == "http.response.start" and entry["status"] is None:
                entry["status"] = message["status"]
                entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
                state.log.append(entry)
            await send(message)

        await self.app(scope, receive, logged)


def _scrubbed_query(query: str) -> str:
    """A raw query string with credentials and signed-URL values replaced (as recordings scrub them)."""
    return scrub_url("?" + query)[1:] if query else ""


# ---------------------------------------------------------------- parsed requests


@dataclass
class Parsed:
    """One request as read: its encoding, its fields (``None`` values dropped) and files."""

    encoding: str
    fields: dict[str, Any]
    images: list[Upload] = field(default_factory=list)
    image_parts: list[str] = field(default_factory=list)
    mask: Upload | None = None
    markup: Upload | None = None


@dataclass(frozen=True)
class Plan:
    """What to render and how to answer."""

    op: str
    model: str
    gpt: bool
    width: int
    height: int
    quality: str | None
    background: str | None
    output_format: str
    compression: int | None
    response_format: str
    n: int
    prompt: str
    partial_images: int
    stream: bool
    seed_fields: Mapping[str, Any]
    inputs: tuple[bytes, ...]
    mask: bytes | None
    #: the effective safety identifier (safety_identifier, else user) GPT image answers echo
    safety_identifier: str | None = None
    #: the SVG author model (``svg.model``; the image model when not named)
    svg_model: str | None = None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True)
class Rendered:
    data: bytes
    partials: tuple[bytes, ...]


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


# ---------------------------------------------------------------- the application


class Provider:
    """The request handlers of one server instance."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.persona = state.persona

    # -- plumbing

    def _log(self, request: Request, **values: Any) -> None:
        entry = request.scope.get("imagewire.log")
        if isinstance(entry, dict):
            entry.update(values)

    def error_response(self, err: ApiError) -> Response:
        body = err.envelope()
        if err.status == 401 and self.persona.has("error-401-numeric-code"):
            body = {"error": {"code": "401", "message": _AZURE_401}}
        return JSONResponse(body, status_code=err.status, headers=err.headers)

    def _canned(self, canned: Canned) -> Response:
        return Response(
            canned.body, status_code=canned.status, headers={**canned.headers, "content-type": canned.content_type}
        )

    # -- the API

    async def api(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = f"req_{uuid.uuid4().hex}"
        post: list[str] = []
        try:
            response = await self._api(request, request_id, post)
        except ApiError as err:
            response = self.error_response(err)
        response.headers["x-request-id"] = request_id
        if self.persona.model_from_deployment:
            response.headers["apim-request-id"] = str(uuid.UUID(request_id[4:]))
        response.headers["openai-processing-ms"] = str(int((time.perf_counter() - started) * 1000))
        if "truncated" in post or "drop" in post:
            response = await self._post_fault(response, drop="drop" in post)
        return response

    async def _post_fault(self, response: Response, *, drop: bool) -> Response:
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

    async def _api(self, request: Request, request_id: str, post: list[str]) -> Response:
        state, p = self.state, self.persona
        method, path = request.method, request.url.path
        matched = p.match(path)
        if matched is None:
            raise ApiError(404, f"Invalid URL ({method} {path})")
        op, deployment = matched
        self._log(request, operation=op)
        if method != "POST":
            raise ApiError(405, f"Invalid method for URL ({method} {path})")
        if op not in p.operations:
            raise ApiError(404, f"Invalid URL ({method} {path})")
        if p.model_from_deployment and not request.query_params.get("api-version"):
            raise ApiError(
                400,
                "Missing required query parameter 'api-version'.",
                param="api-version",
                code="missing_required_parameter",
            )
        self._authorize(request)

        active = list(state.faults)
        header = request.headers.get(HEADER)
        if header:
            try:
                items = parse_header(header)
            except ValueError as err:
                raise ApiError(400, str(err), param=HEADER, code="unknown_fault") from None
            for fault in items:
                key = (fault.key, path)
                state.counters[key] = state.counters.get(key, 0) + 1
                if fault.times is None or state.counters[key] <= fault.times:
                    active.append(fault.name)
        if active:
            self._log(request, faults=active)
        for name in active:
            if name in PRE:
                answer = pre_fault(name)
                if isinstance(answer, ApiError):
                    raise answer
                if isinstance(answer, Canned):
                    return self._canned(answer)
        post.extend(name for name in active if name in ("truncated", "drop"))
        delay = state.latency_ms / 1000
        if "slow" in active:
            delay = delay or 2.0
        if delay > 0:
            await asyncio.sleep(delay)

        parsed = await self._read(request, op)
        model_id = self._model_for(op, parsed.fields, deployment)
        self._log(request, model=model_id)
        model = p.models.get(model_id)
        if model is None:
            raise ApiError(
                404, f"The model `{model_id}` does not exist or you do not have access to it.", code="model_not_found"
            )
        rules = model.operations.get(op)
        if rules is None:
            offering = [m for m, entry in p.models.items() if op in entry.operations]
            raise ApiError(
                400,
                f"Invalid value: '{model_id}'. {model_id} does not offer {op}; models that do: {', '.join(offering)}.",
                param="model",
                code="invalid_value",
            )
        if parsed.encoding == "json" and op == "edits":
            self._references(request, parsed)
        self._limits(model_id, rules, parsed)
        self._check(op, model_id, model, parsed)
        self._inputs_usable(op, model_id, model, parsed)
        prompt = str(parsed.fields.get("prompt") or "")
        if "moderation_blocked" in active or _MARKER.search(prompt):
            raise self._moderation(model_id, rules, request_id)
        plan = self._plan(op, model_id, model, rules, parsed)
        rendered = await run_in_threadpool(_render_all, plan)
        if plan.stream:
            return self._stream(plan, rendered)
        return self._json(request, plan, rendered)

    def _authorize(self, request: Request) -> None:
        key = self.state.api_key
        if key is None:
            return
        p = self.persona
        raw = request.headers.get(p.auth_header, "")
        token = raw.strip()
        if p.bearer:
            scheme, _, rest = token.partition(" ")
            token = rest.strip() if scheme.lower() == "bearer" else ""
        if not token:
            raise ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using "
                "Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
                "https://platform.openai.com/account/api-keys."
                if p.bearer
                else f"You didn't provide an API key in the {p.auth_header} header.",
                code="invalid_api_key",
            )
        if not hmac.compare_digest(token.encode(), key.encode()):
            shown = f"{token[:3]}***{token[-4:]}" if len(token) >= 12 else "***"
            raise ApiError(
                401,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    # -- reading

    async def _body_bytes(self, request: Request) -> bytes:
        limit = self.state.max_body
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

    async def _read(self, request: Request, op: str) -> Parsed:
        bodies = self.state.contract.bodies.get(op, {})
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media not in bodies:
            accepted = " or ".join(sorted(bodies)) or "nothing"
            raise ApiError(
                415,
                f"Unsupported content type: '{media or 'none'}'. This endpoint accepts {accepted}.",
                code="unsupported_content_type",
            )
        raw = await self._body_bytes(request)
        if media == "application/json":
            return self._read_json(raw, bodies[media])
        return await self._read_multipart(request, raw, bodies[media])

    def _read_json(self, raw: bytes, body: Body) -> Parsed:
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

    async def _read_multipart(self, request: Request, raw: bytes, body: Body) -> Parsed:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        try:
            form = await Request(request.scope, replay).form(max_files=64, max_fields=256)
        except Exception as exc:
            raise ApiError(400, f"Could not parse the multipart form data: {exc}") from None
        arrays = {f.array_part: f.name for f in body.fields.values() if f.array_part}
        values: dict[str, Any] = {}
        files: dict[str, list[tuple[str, Upload]]] = {}
        try:
            for key, value in form.multi_items():
                if key not in arrays and _nested(key, value, body, values):
                    continue
                name = arrays.get(key, key)
                spec = body.fields.get(name)
                if spec is None:
                    raise ApiError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")
                if spec.binary:
                    if not isinstance(value, UploadFile):
                        raise _mimetype(key, "text/plain")
                    content_type = (value.content_type or "application/octet-stream").split(";")[0].strip().lower()
                    content_type = _MIME_ALIASES.get(content_type, content_type)
                    if content_type not in IMAGE_MIMES:
                        raise _mimetype(key, content_type)
                    data = await value.read()
                    files.setdefault(name, []).append(
                        (key, Upload(value.filename or key, data, content_type, sniff(data)))
                    )
                elif isinstance(value, UploadFile):
                    raise _file_not_field(key)
                else:
                    values[name] = spec.coerce(value)
        finally:
            await form.close()
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
                raise ApiError(
                    400, f"Invalid '{name}': send one file, not {len(items)}.", param=name, code="invalid_value"
                )
            elif name == "mask":
                parsed.mask = items[0][1]
            elif name == "markup":
                parsed.markup = items[0][1]
        return parsed

    def _references(self, request: Request, parsed: Parsed) -> None:
        """Resolve the image references of a JSON edit (data URLs; this server's own file URLs)."""
        refs = parsed.fields.get("images")
        if isinstance(refs, list):
            parsed.images = [self._reference(request, ref, f"images[{i}]") for i, ref in enumerate(refs)]
            parsed.image_parts = [f"images[{i}]" for i in range(len(refs))]
        mask = parsed.fields.get("mask")
        if isinstance(mask, dict):
            parsed.mask = self._reference(request, mask, "mask")

    def _reference(self, request: Request, ref: Any, where: str) -> Upload:
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
            mime = head.split(";", 1)[0].strip().lower() or "text/plain"
            mime = _MIME_ALIASES.get(mime, mime)
            try:
                data = (
                    base64.b64decode(payload, validate=True) if ";base64" in head.lower() else unquote_to_bytes(payload)
                )
            except (binascii.Error, ValueError):
                raise _bad_url(where, "its base64 data cannot be decoded") from None
            if mime not in IMAGE_MIMES:
                raise _mimetype(f"{where}.image_url", mime)
            return Upload(f"{where}.{mime.rsplit('/', 1)[-1]}", data, mime, sniff(data))
        if url.startswith(("http://", "https://")):
            own = self._own_file(request, url)
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

    def _own_file(self, request: Request, url: str) -> bytes | None:
        """The bytes behind a URL this server handed out (no network), or ``None``."""
        parts = urlsplit(url)
        if parts.netloc != request.url.netloc or not parts.path.startswith("/files/"):
            return None
        from urllib.parse import parse_qsl

        query = dict(parse_qsl(parts.query))
        status, data, _ = self.state.files.fetch(parts.path[len("/files/") :], query.get("se"), query.get("sig"))
        return data if status == 200 else None

    # -- deciding

    def _model_for(self, op: str, fields: Mapping[str, Any], deployment: str | None) -> str:
        body_model = fields.get("model")
        if self.persona.model_from_deployment and deployment:
            known = {m.lower(): m for m in MODELS}
            if deployment.lower() in known:
                return known[deployment.lower()]  # the deployment decides; a model in the body is ignored
            if isinstance(body_model, str) and body_model in self.persona.models:
                return body_model  # stands in for whatever the deployment runs
            return AZURE_FALLBACK_MODEL
        if isinstance(body_model, str):
            return body_model
        return DEFAULT_MODELS[op]

    def _limits(self, model_id: str, rules: OperationRules, parsed: Parsed) -> None:
        spec = rules.images
        if spec is not None and spec.max_bytes is not None:
            for part, upload in zip(parsed.image_parts, parsed.images, strict=False):
                if len(upload.data) > spec.max_bytes:
                    raise _file_too_large(part, len(upload.data), spec.max_bytes, model_id, "per image")
        mask = rules.mask
        if (
            parsed.mask is not None
            and mask is not None
            and mask.max_bytes is not None
            and len(parsed.mask.data) > mask.max_bytes
        ):
            raise _file_too_large("mask", len(parsed.mask.data), mask.max_bytes, model_id, "as a mask")

    def _check(self, op: str, model_id: str, model: Model, parsed: Parsed) -> None:
        fields = dict(parsed.fields)
        fields["model"] = model_id
        if parsed.markup is not None:
            fields["markup"] = parsed.markup
        try:
            check(
                op,
                fields,
                images=parsed.images,
                mask=parsed.mask,
                encoding=parsed.encoding,
                models=self.persona.models,
                allow_retired=True,
            )
        except CheckError as err:
            raise _from_check(err, fields, parsed) from None

    def _inputs_usable(self, op: str, model_id: str, model: Model, parsed: Parsed) -> None:
        """Every input decodes; a model whose catalog notes ask for transparency without a mask gets it."""
        inputs: list[tuple[str, Upload | None]] = [*zip(parsed.image_parts, parsed.images, strict=False)]
        inputs.append(("mask", parsed.mask))
        for part, upload in inputs:
            if upload is not None and (upload.info is None or upload.info.width is None):
                raise ApiError(
                    400,
                    f"Invalid file '{part}': the data is not a readable image.",
                    param=str(part).split("[", 1)[0],
                    code="invalid_image",
                )
        needs_alpha = any("need an image with transparency" in note for note in model.notes)
        if op == "edits" and needs_alpha and parsed.mask is None and parsed.images:
            info = parsed.images[0].info
            if info is not None and info.has_alpha is False:
                raise ApiError(
                    400,
                    f"Invalid input image: without a mask, {model_id} needs an image with transparency "
                    "(its transparent areas mark where to edit).",
                    param="image",
                    code="invalid_image",
                )

    def _moderation(self, model_id: str, rules: OperationRules, request_id: str) -> ApiError:
        gpt = "output_format" in rules.params
        extra: dict[str, Any] = {}
        if gpt:
            message = (
                "Your request was rejected by the safety system. If you believe this is an error, contact us at "
                f"help.openai.com and include the request ID {request_id}."
            )
            kind, code, param = "image_generation_user_error", "moderation_blocked", None
            extra["moderation_details"] = {"moderation_stage": "input", "categories": ["violence"]}
        else:
            message = "Your request was rejected as a result of our safety system"
            kind, code, param = "invalid_request_error", "content_policy_violation", None
        if self.persona.has("content-filter-inner-error"):
            param = "prompt"
            extra["inner_error"] = {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_results": {**_FILTER_RESULTS, "violence": {"filtered": True, "severity": "high"}},
            }
        return ApiError(400, message, type=kind, param=param, code=code, extra=extra)

    def _plan(self, op: str, model_id: str, model: Model, rules: OperationRules, parsed: Parsed) -> Plan:
        f = parsed.fields
        defaults = rules.defaults
        gpt = "output_format" in rules.params
        size = f.get("size") or defaults.get("size")
        width, height = _size(size)
        quality: str | None
        background: str | None
        if gpt:
            quality = str(f.get("quality") or defaults.get("quality") or "auto")
            quality = "medium" if quality == "auto" else quality
            background = "transparent" if f.get("background") == "transparent" else "opaque"
            output_format = str(f.get("output_format") or defaults.get("output_format") or "png")
            compression = f.get("output_compression")
            response_format = "b64_json"
        else:
            quality = str(f["quality"]) if f.get("quality") else None
            background = None
            jpeg = self.persona.has("jpeg-in-b64") and model_id == "yandexgpt/yandex-art"
            output_format = "jpeg" if jpeg else "png"
            compression = None
            response_format = str(f.get("response_format") or defaults.get("response_format") or "url")
        seed_fields = {k: v for k, v in sorted(f.items()) if k not in _NOT_IN_SEED}
        seed_fields |= {"op": op, "model": model_id, "size": f"{width}x{height}", "output_format": output_format}
        inputs = tuple(u.data for u in parsed.images)
        return Plan(
            op=op,
            model=model_id,
            gpt=gpt,
            width=width,
            height=height,
            quality=quality,
            background=background,
            output_format=output_format,
            compression=compression if isinstance(compression, int) and not isinstance(compression, bool) else None,
            response_format=response_format,
            n=int(f.get("n") or 1),
            prompt=str(f.get("prompt") or ""),
            partial_images=int(f.get("partial_images") or 0),
            stream=f.get("stream") is True,
            seed_fields=seed_fields,
            inputs=inputs,
            mask=parsed.mask.data if parsed.mask is not None else None,
            safety_identifier=str(f.get("safety_identifier") or f.get("user") or "") or None,
            svg_model=str((f.get("svg") or {}).get("model") or model_id) if output_format == "svg" else None,
        )

    # -- answering

    def _json(self, request: Request, plan: Plan, rendered: Sequence[Rendered]) -> Response:
        p = self.persona
        origin = str(request.base_url).rstrip("/")
        mime, ext = render.MIME[plan.output_format]
        data: list[dict[str, Any]] = []
        for image in rendered:
            item: dict[str, Any] = {}
            if plan.model == "dall-e-3":
                item["revised_prompt"] = revised_prompt(plan.prompt, plan.seed_fields)
            if plan.response_format == "url":
                name = self.state.files.put(image.data, ext, mime)
                item["url"] = self.state.files.url(origin, name)
            else:
                item["b64_json"] = base64.b64encode(image.data).decode()
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

    def _stream(self, plan: Plan, rendered: Sequence[Rendered]) -> Response:
        relay = self.persona.relay_sse
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
                    "b64_json": base64.b64encode(image.data).decode(),
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

    # -- the rest of the routes

    async def files(self, request: Request) -> Response:
        name = request.path_params["name"]
        status, body, content_type = self.state.files.fetch(
            name, request.query_params.get("se"), request.query_params.get("sig")
        )
        headers = {"x-ms-request-id": str(uuid.uuid4())}
        if status == 200:
            headers["cache-control"] = "private, max-age=0"
        return Response(body, status_code=status, media_type=content_type, headers=headers)

    async def health(self, request: Request) -> Response:
        import os

        origin = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "status": "ok",
                "persona": self.persona.name,
                "base_url": self.persona.base_url(origin),
                "pid": os.getpid(),
            }
        )

    async def requests(self, request: Request) -> Response:
        return JSONResponse({"requests": list(self.state.log)})

    async def reset(self, request: Request) -> Response:
        self.state.reset()
        return JSONResponse({"reset": True})


# ---------------------------------------------------------------- helpers


class AnyMethod:
    """An ASGI endpoint (not a function), so that its route matches every HTTP method."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def _body_of(response: Response) -> bytes:
    if isinstance(response, StreamingResponse):
        chunks = [chunk if isinstance(chunk, bytes) else str(chunk).encode() async for chunk in response.body_iterator]
        return b"".join(chunks)
    return bytes(response.body)


def _extra_value(quirk: str, top_level: bool) -> Any:
    """The value a provider's extra key carries (Azure's filter results), by quirk id."""
    if quirk == "content-filter-results":
        return _FILTER_RESULTS
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


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413,
        f"Request body too large: {size:,} bytes; the limit is {limit:,} bytes.",
        code="request_too_large",
    )


def _file_too_large(part: str, size: int, limit: int, model: str, what: str) -> ApiError:
    return ApiError(
        413,
        f"Invalid file '{part}': {size:,} bytes is too large; {model} takes at most {limit:,} bytes {what}.",
        param=part.split("[", 1)[0],
        code="file_too_large",
    )


def _file_not_field(part: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{part}': expected a form field, but got a file instead.",
        param=part,
        code="invalid_type",
    )


def _mimetype(part: str, content_type: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid file '{part}': unsupported mimetype ('{content_type}'). Supported file formats are "
        f"{quote_list(IMAGE_MIMES)}.",
        param=part.split("[", 1)[0].split(".", 1)[0],
        code="unsupported_file_mimetype",
    )


def _bad_url(where: str, why: str) -> ApiError:
    return ApiError(400, f"Invalid '{where}.image_url': {why}.", param=f"{where}.image_url", code="invalid_image_url")


def _size(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        w, sep, h = value.partition("x")
        if sep and w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0:
            return int(w), int(h)
    return 1024, 1024  # auto, or no default known


def _from_check(err: CheckError, fields: Mapping[str, Any], parsed: Parsed) -> ApiError:
    """A catalog check failure as OpenAI words it."""
    name = err.field
    value = fields.get(name) if name else None
    shown = getattr(value, "value", value)
    text = err.message[:1].upper() + err.message[1:]
    if err.rule == "param" or (err.rule == "encoding" and name):
        return ApiError(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    if err.rule == "values" and err.allowed:
        return ApiError(
            400,
            f"Invalid value: '{shown}'. Supported values are: {quote_list(err.allowed)}.",
            param=name,
            code="invalid_value",
        )
    if err.rule in ("values", "size"):
        return ApiError(400, f"Invalid value: '{shown}'. {text}.", param=name, code="invalid_value")
    if err.rule in ("n", "range") or err.rule.startswith("rule:"):
        return ApiError(400, f"Invalid '{name}': {err.message}.", param=name, code="invalid_value")
    if err.rule == "prompt":
        return ApiError(
            400, f"Invalid 'prompt': string too long. {text}.", param="prompt", code="string_above_max_length"
        )
    if err.rule in ("images", "mask"):
        param = name or err.rule
        if param == "images" and parsed.encoding == "multipart":
            param = "image"
        return ApiError(400, f"Invalid '{param}': {err.message}.", param=param, code="invalid_image")
    if err.rule in ("model", "lifecycle"):
        model = fields.get("model")
        return ApiError(
            404, f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found"
        )
    return ApiError(400, f"{text}.", param=name or "model", code="invalid_value")


def usage(plan: Plan, n: int) -> dict[str, Any]:
    """Plausible token counts: text ~ 4 characters a token, 323 per input image, output by quality and area."""
    text = max(1, (len(plan.prompt) + 3) // 4)
    image_in = 323 * len(plan.inputs)
    per_image = _OUTPUT_TOKENS.get(plan.quality or "medium", 1056)
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
    """dall-e-3's rewording: deterministic in the prompt and parameters."""
    digest = hashlib.sha256(json.dumps(seed_fields, sort_keys=True, default=str).encode()).digest()
    subject = " ".join(prompt.split()).rstrip(".") or "an abstract composition"
    style = "natural" if seed_fields.get("style") == "natural" else _ADJECTIVES[digest[0] % len(_ADJECTIVES)]
    return (
        f"A {style} image of {subject[0].lower() + subject[1:]}. The scene is shown in "
        f"{_LIGHT[digest[1] % len(_LIGHT)]}, with {_STYLE[digest[2] % len(_STYLE)]}."
    )


def _render_all(plan: Plan) -> list[Rendered]:
    out = []
    for index in range(plan.n):
        seed_text = json.dumps(
            {**plan.seed_fields, "index": index, "inputs": [hashlib.sha256(b).hexdigest() for b in plan.inputs]},
            sort_keys=True,
            default=str,
        )
        if plan.mask is not None:
            seed_text += hashlib.sha256(plan.mask).hexdigest()
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
            partials = tuple(data for _ in range(plan.partial_images if plan.stream else 0))
            out.append(Rendered(data, partials))
            continue
        img = render.render(picture)
        data = render.encode(img, plan.output_format, plan.compression)
        count = plan.partial_images if plan.stream else 0
        partials = tuple(
            render.encode(render.preview(img, k, count), plan.output_format, plan.compression) for k in range(count)
        )
        out.append(Rendered(data, partials))
    return out


def make_app(
    persona: str = "local",
    *,
    api_key: str | None = None,
    latency_ms: int = 0,
    faults: Sequence[str] | str = (),
    url_ttl: int = 3600,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    spec_path: str | None = None,
) -> Starlette:
    """The reference provider as an ASGI application (for ``uvicorn``, ``httpx.ASGITransport`` or Starlette's TestClient)."""
    state = ServerState(
        persona=find_persona(persona),
        contract=load(spec_path),
        api_key=api_key,
        latency_ms=latency_ms,
        faults=parse_list(faults),
        url_ttl=url_ttl,
        max_body=max_body_bytes,
        files=FileStore(url_ttl),
    )
    provider = Provider(state)

    async def on_error(request: Request, exc: Exception) -> Response:
        return JSONResponse(
            ApiError(
                500, f"The server had an error while processing your request: {type(exc).__name__}", type="server_error"
            ).envelope(),
            status_code=500,
        )

    app = Starlette(
        routes=[
            Route("/_imagewire/health", provider.health, methods=["GET"]),
            Route("/_imagewire/requests", provider.requests, methods=["GET"]),
            Route("/_imagewire/reset", provider.reset, methods=["POST"]),
            Route("/files/{name}", provider.files, methods=["GET"]),
            Route("/{path:path}", AnyMethod(request_response(provider.api))),  # every method: 405 is ours
        ],
        middleware=[Middleware(RequestLog, state=state)],
        exception_handlers={Exception: on_error},
    )
    app.state.imagewire = state
    return app
