"""Validate recorded traffic against the spec: requests (operation, JSON and multipart bodies) and responses
(by status and content type: ``ImagesResponse`` JSON, error envelopes, and the events of ``text/event-stream``
answers), shaped for providers that are not api.openai.com.

Who does what:

* **openapi-core**, behind :mod:`imagewire.check.engine` (the only module that imports it), validates request
  bodies and JSON response bodies against the operation's schemas, chosen by media type and status.
* **the adapters here** turn an :class:`~imagewire.record.recordings.Interaction` into what the engine
  reads: the operation is found by **path suffix** (``/images/generations`` matches bothub's
  ``/api/v2/openai/images/generations`` and Azure's ``/openai/deployments/{d}/images/generations``) and the
  provider's prefix is replaced by the spec's server (the query, such as ``api-version``, is not part of the
  contract); bodies are decoded once, by the kit (JSON; ``multipart/form-data`` read by
  :mod:`imagewire.multipart`, with repeated ``image[]`` parts gathered into the ``image`` list, text parts
  read as the JSON type the schema wants, file parts as placeholders). The kit judges the response's content
  type itself (``media-type`` findings) and hands a body that parses as JSON to openapi-core as
  ``application/json``, so its schema is checked even when a provider labels it wrongly; a 2xx status the
  operation does not declare is read as 200.
* **compiled schema validators of the kit** (:mod:`imagewire.check.schemas`) only for ``text/event-stream``:
  openapi-core does not decode event streams, so each ``data:`` event is validated against the event schema
  the spec declares for that media type, chosen by the event's ``type``.
* **the kit** also names keys the schemas do not declare (``extra-key``; the spec tolerates them), sniffs
  ``b64_json`` images, and turns schema errors into findings (:mod:`imagewire.check.findings`), the JSON
  pointer taken from the schema error's path.

:func:`validator` caches the compiled spec per path. Findings are values, never exceptions; any body (random
bytes, wrong content types) gives findings. The reference provider (``imagewire.server.contract``) checks
the requests it serves with the same compiled spec (:meth:`SpecValidator.body_errors`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from imagewire import multipart
from imagewire.check.engine import JSON, MULTIPART, UNDECODABLE, Engine
from imagewire.check.findings import Finding, clip, json_type
from imagewire.check.operations import OperationSpec, RequestField, coerce, compile_operation
from imagewire.check.schemas import Schema, error_findings, extra_keys
from imagewire.generator.locate import ROOT_DOCUMENT, packaged_spec_dir
from imagewire.images import decode_b64, sniff_b64, sniff_bytes
from imagewire.record.recordings import Interaction

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError

__all__ = [
    "DEFAULT_SPEC",
    "Finding",
    "OperationSpec",
    "RequestField",
    "RequestInfo",
    "SpecValidator",
    "Validation",
    "validator",
]

DEFAULT_SPEC = packaged_spec_dir() / ROOT_DOCUMENT
_SSE = "text/event-stream"


@dataclass
class RequestInfo:
    """What the recorded request asked for (as far as the recording tells)."""

    encoding: str = ""  # json | multipart | form | "" (no body) | other
    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # part name -> number of file parts
    model: str | None = None
    stream: bool | None = None
    output_format: str | None = None


@dataclass
class Validation:
    """The spec's view of one interaction."""

    operation: str | None
    request: RequestInfo
    findings: list[Finding]
    body_kind: str = ""  # json | sse | text | empty
    content_type: str = ""


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json_media(media: str) -> bool:
    return media == JSON or media.endswith("+json") or media == "text/json"


class SpecValidator:
    """Every operation of a spec compiled once (one openapi-core ``OpenAPI`` object); validate interactions."""

    def __init__(self, spec_path: str | Path = DEFAULT_SPEC) -> None:
        from imagewire.generator.spec import read

        spec = read(Path(spec_path))
        self.spec_path = Path(spec_path)
        self.data: dict[str, Any] = spec.data
        #: openapi-core's view of the spec: operation matching, request and response validation
        self.engine = Engine(self.data)
        self.operations: dict[str, OperationSpec] = {}
        for key, op in spec.operations.items():
            self.operations[key] = compile_operation(
                self.data, key, op.operation_id, op.method.upper(), op.path, op.data
            )
        #: longest paths first, so a more specific operation wins a suffix match
        self._by_path = sorted(self.operations.values(), key=lambda o: -len(o.path))

    @property
    def compiled_schemas(self) -> int:
        """How many schema validators openapi-core has compiled so far (each is compiled once, then reused)."""
        return self.engine.compiled_schemas

    # -- matching

    def operation_for(self, method: str, url: str) -> OperationSpec | None:
        """The operation whose path ends the URL's path (any prefix, any host), with the same method."""
        op = self.operation_for_path(url)
        return op if op is not None and op.method == method.upper() else None

    def operation_for_path(self, url: str) -> OperationSpec | None:
        """The operation whose path ends the URL's path; an action suffix (Azure's legacy
        ``images/generations:submit``) names the operation it starts."""
        path = re.sub(r":[A-Za-z]+$", "", _url_path(url).rstrip("/"))
        for op in self._by_path:
            if path == op.path or path.endswith(op.path):
                return op
        return None

    # -- requests

    def body_errors(self, op: OperationSpec, media: str, value: Any) -> list[SchemaError]:
        """openapi-core's schema errors for a request body already decoded (a JSON value, or the fields of a
        multipart form with file parts as any placeholder), sent to ``op`` as ``media``: jsonschema
        ``ValidationError``s whose paths are relative to the body; empty when the body is valid. The reference
        provider checks what it is sent with this."""
        errors, _ = self._check_body(op, media, value, b"")
        return errors

    def _check_body(
        self, op: OperationSpec, media: str, value: Any, raw: bytes
    ) -> tuple[list[SchemaError], list[Finding]]:
        """openapi-core's request body validation: schema errors, and the other problems it found (a media type
        the operation does not declare). ``value`` ``UNDECODABLE``: only the media type is checked."""
        return self.engine.request_errors(op.core_url, op.method, media, value, raw)

    def request_info(self, interaction: Interaction, op: OperationSpec | None) -> tuple[RequestInfo, list[Finding]]:
        """Read the recorded request body (JSON, multipart, form) and check it against the operation (openapi-core)."""
        info = RequestInfo()
        findings: list[Finding] = []
        body = interaction.request_content()
        content_type = interaction.request_header("content-type") or ""
        media = _media(content_type)
        accept = (interaction.request_header("accept") or "").lower()
        if not body:
            info.stream = True if "event-stream" in accept else None
            if op is not None and op.requests and interaction.method not in ("GET", "HEAD"):
                findings.append(Finding("", "the request body was not recorded", "request"))
            return info, findings
        payload: Any = UNDECODABLE
        if _is_json_media(media) or (not media and body.lstrip()[:1] in (b"{", b"[")):
            info.encoding = "json"
            try:
                payload = json.loads(body)
            except (ValueError, RecursionError):
                findings.append(Finding("", "the request body is not JSON", "request"))
        elif media.startswith("multipart/"):
            info.encoding = "multipart"
            payload = self._multipart_fields(body, content_type, op, info, findings)
        elif media == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qsl

            info.encoding = "form"
            payload = dict(parse_qsl(body.decode("utf-8", errors="replace")))
        else:
            info.encoding = "other"
        if isinstance(payload, dict):
            info.fields = payload
            model = payload.get("model")
            info.model = model if isinstance(model, str) and model else None
            stream = payload.get("stream")
            info.stream = stream if isinstance(stream, bool) else None
            fmt = payload.get("output_format")
            info.output_format = fmt.lower() if isinstance(fmt, str) else None
        if info.stream is None and "event-stream" in accept:
            info.stream = True
        if info.model is None:
            match = re.search(r"/deployments/([^/]+)/", _url_path(interaction.url))
            if match:
                info.model = match.group(1)
        if op is None:
            return info, findings
        declared = media if media in op.requests else (JSON if info.encoding == "json" else media)
        schema_errors, problems = self._check_body(op, declared, payload, body)
        findings.extend(problems)
        for error in schema_errors:
            findings.extend(Finding(f.pointer, f.message, "request") for f in error_findings(error, ""))
        schema = op.requests.get(declared)
        if schema is not None and payload is not UNDECODABLE:
            extra: list[Finding] = []
            extra_keys(payload, schema.shape, "", extra)
            findings.extend(Finding(f.pointer, "a field the contract does not declare", "request") for f in extra)
        return info, findings

    def _multipart_fields(
        self, body: bytes, content_type: str, op: OperationSpec | None, info: RequestInfo, findings: list[Finding]
    ) -> dict[str, Any]:
        """The fields of a multipart form as the schema reads them: ``image[]`` parts gathered into the ``image``
        list, text parts read as the JSON type the schema wants, file parts as ``<file NAME N bytes>``."""
        parts = multipart.parse(body, content_type)
        if parts is None:
            findings.append(Finding("", "the multipart body cannot be parsed (no boundary)", "request"))
            return {}
        declared = op.fields.get(MULTIPART, {}) if op is not None else {}
        arrays = op.array_parts if op is not None else {}
        fields: dict[str, Any] = {}
        for part in parts:
            name = arrays.get(part.name) or (part.name[:-2] if part.name.endswith("[]") else part.name)
            if part.is_file:
                info.files[name] = info.files.get(name, 0) + 1
                value: Any = f"<file {part.filename or ''} {len(part.data)} bytes>"
            else:
                types = declared[name].types if name in declared else frozenset()
                value = coerce(part.data.decode("utf-8", errors="replace"), types)
            if name in fields:
                existing = fields[name]
                fields[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
            elif part.name.endswith("[]"):
                fields[name] = [value]
            else:
                fields[name] = value
        return fields

    # -- responses

    def check_response(self, interaction: Interaction, op: OperationSpec, request: RequestInfo) -> Validation:
        findings: list[Finding] = []
        status = interaction.status
        content_type = interaction.response_header("content-type") or ""
        media = _media(content_type)
        body = interaction.response_content()
        key = str(status)
        success = 200 <= status < 300
        if success and key not in op.responses:
            findings.append(Finding("", f"status {status} is not declared; read as 200", "status"))
            key = "200"
        declared = op.responses.get(key) or op.responses.get("default") or {}
        validation = Validation(op.key, request, findings, content_type=content_type)
        if not body.strip():
            validation.body_kind = "empty"
            findings.append(Finding("", "empty body", "schema" if declared else "media-type"))
            return validation
        text = body.decode("utf-8", errors="replace")
        stripped = text.lstrip("\ufeff \t\r\n")
        is_sse = media == _SSE or (not media and stripped.startswith(("data:", "event:")))
        if is_sse:
            validation.body_kind = "sse"
            if _SSE not in declared:
                findings.append(
                    Finding("", f"an event stream, where the contract declares {_declared(declared)}", "media-type")
                )
            elif request.stream is False:
                findings.append(Finding("", "an event stream, but the request did not ask for one", "media-type"))
            self._check_events(text, op, request, findings)
            return validation
        if media and not _is_json_media(media):
            findings.append(
                Finding("", f"content type {media!r}, where the contract declares {_declared(declared)}", "media-type")
            )
        elif not media:
            findings.append(Finding("", "no content type", "media-type"))
        elif success and request.stream and _SSE in declared:
            findings.append(Finding("", "JSON where an event stream was asked for", "media-type"))
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):
            validation.body_kind = "text"
            if not media or _is_json_media(media):
                findings.append(Finding("", f"the body is not JSON: {clip(stripped, 60)!r}", "json"))
            return validation
        validation.body_kind = "json"
        self._check_json(op, int(key), body, payload, declared, findings)
        if success and isinstance(payload, dict) and isinstance(payload.get("data"), list):
            expected = request.output_format or "png"
            for index, item in enumerate(payload["data"]):
                if isinstance(item, dict):
                    _image_findings(item.get("b64_json"), expected, f"/data/{index}/b64_json", findings)
        return validation

    def _check_json(
        self,
        op: OperationSpec,
        status: int,
        raw: bytes,
        payload: Any,
        declared: Mapping[str, Schema],
        findings: list[Finding],
    ) -> None:
        """A JSON body against the response openapi-core chooses by status and content type; extra keys named."""
        schema_errors, problems = self.engine.response_errors(op.core_url, op.method, status, raw, payload)
        for schema_error in schema_errors:
            findings.extend(error_findings(schema_error, ""))
        findings.extend(problems)
        schema = declared.get(JSON)
        if schema is not None:
            extra_keys(payload, schema.shape, "", findings)

    def _check_events(self, text: str, op: OperationSpec, request: RequestInfo, findings: list[Finding]) -> None:
        """Each ``data:`` event of a stream against the event schema of its ``type`` (openapi-core reads no SSE)."""
        from imagewire_client.wire import is_done, is_error_event, iter_events

        fallback = (op.responses.get("200") or {}).get(_SSE)
        number = 0
        for sse in iter_events(re.split(r"\r\n|\r|\n", text)):
            if is_done(sse):
                continue
            base = f"/events/{number}"
            number += 1
            try:
                payload = json.loads(sse.data)
            except (ValueError, RecursionError):
                findings.append(Finding(base, f"event data is not JSON: {clip(sse.data, 60)!r}", "json"))
                continue
            if is_error_event(sse, payload):
                findings.append(Finding(base, clip(f"an error event in the stream: {sse.data}"), "stream-error"))
                continue
            if not isinstance(payload, dict):
                findings.append(Finding(base, f"event data is {json_type(payload)}, not an object", "schema"))
                continue
            kind = payload.get("type")
            if kind is None and sse.event:
                payload = {**payload, "type": sse.event}
                kind = sse.event
            schema = op.events.get(kind) if isinstance(kind, str) else None
            if schema is None:
                message = f"unknown event type {kind!r}; known: {', '.join(op.events)}"
                findings.append(Finding(f"{base}/type", clip(message), "schema"))
                if fallback is not None:
                    extra: list[Finding] = []
                    extra_keys(payload, fallback.shape, base, extra)
                    findings.extend(extra)
                continue
            findings.extend(schema.findings(payload, base))
            fmt = payload.get("output_format")
            expected = fmt.lower() if isinstance(fmt, str) else (request.output_format or "png")
            _image_findings(payload.get("b64_json"), expected, f"{base}/b64_json", findings)

    def validate(self, interaction: Interaction) -> Validation:
        """Request and response of one interaction; ``operation`` is ``None`` when the spec has none at its path."""
        op = self.operation_for(interaction.method, interaction.url)
        info, request_findings = self.request_info(interaction, op)
        if op is None:
            return Validation(
                None, info, request_findings, content_type=interaction.response_header("content-type") or ""
            )
        validation = self.check_response(interaction, op, info)
        validation.findings[:0] = request_findings
        return validation

    def validate_response(self, interaction: Interaction, request: RequestInfo | None = None) -> Validation:
        """The response alone (what the benchmark measures); the request is read only when not given."""
        op = self.operation_for(interaction.method, interaction.url)
        if op is None:
            return Validation(None, request or RequestInfo(), [])
        if request is None:
            request, _ = self.request_info(interaction, op)
        return self.check_response(interaction, op, request)


def _declared(declared: Mapping[str, Any]) -> str:
    return " or ".join(sorted(declared)) or "no body"


def _image_findings(value: Any, expected: str, pointer: str, findings: list[Finding]) -> None:
    if not isinstance(value, str) or not value:
        return
    if value.startswith("data:"):
        value = value.partition(",")[2]
    fmt = sniff_b64(value)
    if fmt is None:
        decoded = decode_b64(value)
        fmt = sniff_bytes(decoded) if decoded else None
    if fmt is None:
        findings.append(Finding(pointer, "not an image (PNG, JPEG, WebP or GIF)", "image"))
    elif expected in ("png", "jpeg", "webp", "gif") and fmt != expected:
        findings.append(
            Finding(pointer, f"{fmt.upper()} bytes where {expected} was asked for (or implied)", "image-format")
        )


def _url_path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


@functools.cache
def _cached(path: str) -> SpecValidator:
    return SpecValidator(path)


def validator(spec_path: str | Path | None = None) -> SpecValidator:
    """The compiled validator of a spec (default: this repository's ``spec/openapi.yaml``), built once."""
    return _cached(str(Path(spec_path or DEFAULT_SPEC).resolve()))
