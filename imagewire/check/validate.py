"""Validate recorded traffic against the spec with openapi-core: requests (operation, JSON and multipart
bodies) and responses (by status and content type: ``ImagesResponse`` JSON, error envelopes, and the events
of ``text/event-stream`` answers), shaped for providers that are not api.openai.com.

Who does what:

* **openapi-core** (one ``OpenAPI`` object, built once from the spec dict that ``imagewire.generator.spec`` loaded and
  checked with openapi-spec-validator, so openapi-core does not check it again) matches the request to its
  operation (method, path template, server) and validates
  - request bodies (``V31RequestBodyValidator``): the content type among those the operation declares, then
    the body against that media type's schema (required fields, types, enums, ranges, ``anyOf``...);
  - response bodies (``V31ResponseDataValidator``): the response chosen by status (exact, ``2XX``-style range,
    else ``default``), the media type among those declared for it, then the body against its schema.
  Its schema validators are compiled once per schema of the spec and reused (``_CompiledValidators``), and
  its operation lookup is memoised (``_KnownOperations``): left to itself openapi-core compiles a validator
  per call and stays under the 2,000 responses/s that ``scripts/bench_validate.py`` requires. Security
  (credentials are scrubbed from recordings) and response headers are not judged.
* **the adapters here** turn an :class:`~imagewire.record.recordings.Interaction` into openapi-core's request and
  response: the operation is found by **path suffix** (``/images/generations`` matches bothub's
  ``/api/v2/openai/images/generations`` and Azure's ``/openai/deployments/{d}/images/generations``) and the
  provider's prefix is replaced by the spec's server (the query, such as ``api-version``, is not part of the
  contract); bodies are decoded once, by the kit (JSON; ``multipart/form-data`` with repeated ``image[]`` parts
  gathered into the ``image`` list, text parts read as the JSON type the schema wants, file parts as
  placeholders) and handed to openapi-core through its media-type deserializer hook, so openapi-core validates
  exactly the value the findings name (its own multipart reader keeps text parts as strings or bytes and
  cannot see ``image[]``). The kit judges the response's content type itself (``media-type`` findings) and hands
  a body that parses as JSON to openapi-core as ``application/json``, so its schema is checked even when a
  provider labels it wrongly; a 2xx status the operation does not declare is read as 200.
* **compiled schema validators of the kit** (openapi-schema-validator's OAS 3.1 dialect, as openapi-core uses)
  only for ``text/event-stream``: openapi-core does not decode event streams (it would validate the whole
  stream as one value), so each ``data:`` event is validated against the event schema the spec declares for
  that media type, chosen by the event's ``type``.
* **the kit** also names keys the schemas do not declare (``extra-key``; the spec tolerates them), sniffs
  ``b64_json`` images, and turns openapi-core's errors into findings, the JSON pointer taken from the schema
  error's path.

:func:`validator` caches the compiled spec per path. Findings are values, never exceptions; any body (random
bytes, wrong content types) gives findings. The reference provider (``imagewire.server.contract``) checks
the requests it serves with the same compiled spec (:meth:`SpecValidator.body_errors`).

A :class:`Finding` names where (a JSON pointer into the body; for event streams ``/events/<n>/…``, where
``n`` counts the stream's data events; ``""`` for the whole response) and what (``kind``):

``schema``        the body breaks the spec's schema (a missing required field, a wrong type)
``extra-key``     a key the schema does not declare (tolerated by the spec, named by the report)
``media-type``    a content type the spec does not declare for this status (or the wrong one for the request)
``json``          the body (or an event's data) is not JSON
``status``        a status the spec does not declare as a success
``image-format``  an image in a format other than the one asked for (``output_format``, PNG by default)
``image``         a ``b64_json`` that is not an image
``stream-error``  an error event inside a 200 event stream
``request``       the recorded request does not match the spec (reported; not the provider's deviation)
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from imagewire._spec import ROOT_DOCUMENT, packaged_spec_dir
from imagewire.record.images import decode_b64, sniff_b64, sniff_bytes
from imagewire.record.recordings import Interaction
from imagewire.record.scrub import is_marker

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError as SchemaError
    from openapi_core import OpenAPI

__all__ = [
    "DEFAULT_SPEC",
    "Finding",
    "OperationSpec",
    "RequestField",
    "RequestInfo",
    "SpecValidator",
    "Validation",
    "escape",
    "validator",
]

DEFAULT_SPEC = packaged_spec_dir() / ROOT_DOCUMENT
_MESSAGE_LIMIT = 200
_JSON = "application/json"
_MULTIPART = "multipart/form-data"
_SSE = "text/event-stream"


@dataclass(frozen=True)
class Finding:
    """One thing in an interaction that is not as the contract says."""

    pointer: str
    message: str
    kind: str
    quirk: str | None = None  # the id of the provider quirk that declares it, when one does

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pointer": self.pointer, "message": self.message, "kind": self.kind}
        if self.quirk:
            out["quirk"] = self.quirk
        return out


def escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _pointer(base: str, path: Iterable[Any]) -> str:
    return base + "".join(f"/{escape(part)}" for part in path)


def _clip(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )


# ---------------------------------------------------------------- schemas: shapes and findings


@dataclass
class _Shape:
    """The keys a schema declares, for naming extra keys (precomputed once per schema)."""

    props: dict[str, _Shape] | None = None  # None: not an object schema (or anything goes)
    items: _Shape | None = None
    closed: bool = False  # additionalProperties: false (the schema validator reports extra keys itself)


class _Schema:
    """One schema of the spec, ``$ref`` inlined: its shape, and (compiled on first use) a schema validator.

    Request and response bodies are validated by openapi-core and use only the shape here; the validator is
    compiled for stream events, which openapi-core cannot decode.
    """

    def __init__(self, schema: Any, name: str) -> None:
        self.name = name
        self.schema = schema
        self.shape = _shape_of(schema)

    @functools.cached_property
    def validator(self) -> Any:
        from openapi_schema_validator import OAS31Validator

        return OAS31Validator(self.schema)

    def findings(self, data: Any, base: str = "") -> list[Finding]:
        out: list[Finding] = []
        for error in self.validator.iter_errors(data):
            out.extend(_error_findings(error, base))
        _extra_keys(data, self.shape, base, out)
        return out


def _merge(shapes: list[_Shape]) -> _Shape:
    props: dict[str, _Shape] | None = None
    items: list[_Shape] = []
    for shape in shapes:
        if shape.props is not None:
            props = dict(props or {})
            for key, child in shape.props.items():
                props[key] = _merge([props[key], child]) if key in props else child
        if shape.items is not None:
            items.append(shape.items)
    return _Shape(props, _merge(items) if items else None, all(s.closed for s in shapes) and bool(shapes))


def _shape_of(schema: Any, depth: int = 0) -> _Shape:
    if not isinstance(schema, dict) or depth > 40:
        return _Shape()
    variants = [
        _shape_of(s, depth + 1)
        for key in ("anyOf", "oneOf", "allOf")
        for s in schema.get(key) or ()
        if isinstance(s, dict)
    ]
    own = _Shape()
    if isinstance(schema.get("properties"), dict):
        own.props = {key: _shape_of(sub, depth + 1) for key, sub in schema["properties"].items()}
        own.closed = schema.get("additionalProperties") is False
    if isinstance(schema.get("items"), dict):
        own.items = _shape_of(schema["items"], depth + 1)
    if not variants:
        return own
    merged = _merge([own, *variants]) if (own.props is not None or own.items is not None) else _merge(variants)
    merged.closed = False
    return merged


def _extra_keys(data: Any, shape: _Shape, base: str, out: list[Finding]) -> None:
    if isinstance(data, dict) and shape.props is not None:
        for key, value in data.items():
            child = shape.props.get(key)
            if child is None:
                if not shape.closed and not is_marker(str(key), data):
                    out.append(Finding(f"{base}/{escape(key)}", "a key the contract does not declare", "extra-key"))
                continue
            if child.props is not None or child.items is not None:
                _extra_keys(value, child, f"{base}/{escape(key)}", out)
    elif isinstance(data, list) and shape.items is not None:
        for index, item in enumerate(data):
            _extra_keys(item, shape.items, f"{base}/{index}", out)


def _error_findings(error: Any, base: str) -> list[Finding]:
    """Findings for one schema error (jsonschema's, from openapi-core or the kit): the pointer is its path."""
    where = _pointer(base, error.absolute_path)
    instance = error.instance
    kind = error.validator
    if kind == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        return [Finding(f"{where}/{escape(name)}", "missing (the contract requires it)", "schema") for name in missing]
    if kind == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return [Finding(where, f"expected {expected_text}, got {_json_type(instance)}", "schema")]
    if kind == "enum":
        return [Finding(where, _clip(f"{instance!r} is not one of {error.validator_value}"), "schema")]
    if kind == "additionalProperties" and isinstance(instance, dict):
        return [Finding(where, "additional properties are not allowed", "schema")]
    if kind in ("anyOf", "oneOf"):
        return [
            Finding(
                where, _clip(f"matches none of the allowed shapes ({_json_type(instance)} {instance!r:.60})"), "schema"
            )
        ]
    message = (
        error.message if len(error.message) <= _MESSAGE_LIMIT else f"fails '{kind}' ({error.validator_value!r:.80})"
    )
    return [Finding(where, _clip(message), "schema")]


def _inline(spec: Any, node: Any, depth: int = 0) -> Any:
    """A copy of ``node`` with every local ``$ref`` replaced by its target (the spec has no cycles)."""
    if depth > 64:
        raise ValueError("schema references nest too deep (a cycle?)")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = _lookup(spec, ref)
            siblings = {k: v for k, v in node.items() if k not in ("$ref", "description", "summary")}
            resolved = _inline(spec, target, depth + 1)
            if siblings and isinstance(resolved, dict):
                return {**resolved, **_inline(spec, siblings, depth + 1)}
            return resolved
        return {key: _inline(spec, value, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(spec, item, depth + 1) for item in node]
    return node


def _lookup(spec: Any, ref: str) -> Any:
    node = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _deref(spec: Any, node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 16:
        node = _lookup(spec, node["$ref"])
        seen += 1
    return node


def _types_of(schema: Any) -> frozenset[str]:
    """The JSON types a schema admits (``type``, the values of an untyped ``enum``, ``anyOf``/``oneOf`` branches)."""
    if not isinstance(schema, dict):
        return frozenset()
    found: set[str] = set()
    kind = schema.get("type")
    if isinstance(kind, str):
        found.add(kind)
    elif isinstance(kind, list):
        found.update(k for k in kind if isinstance(k, str))
    if "enum" in schema and not kind:
        found.update(_json_type(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            found |= _types_of(sub)
    return frozenset(found)


def _enum_of(schema: Any) -> tuple[str, ...]:
    """The string values a schema enumerates (through ``anyOf``/``oneOf``), in the spec's order."""
    if not isinstance(schema, dict):
        return ()
    values = [v for v in schema.get("enum") or () if isinstance(v, str)]
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            values += [v for v in _enum_of(sub) if v not in values]
    return tuple(values)


def _is_binary(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("format") == "binary":
        return True
    if isinstance(schema.get("items"), dict) and _is_binary(schema["items"]):
        return True
    return any(_is_binary(sub) for key in ("anyOf", "oneOf") for sub in schema.get(key) or ())


# ---------------------------------------------------------------- openapi-core: one OpenAPI object per spec


#: the decoded value of a body that could not be decoded (the kit has said so already)
_UNDECODABLE: Any = object()


class _Decoded(bytes):
    """A body as recorded, carrying the kit's decoding of it (JSON, or the fields of a multipart form).

    openapi-core's media-type deserializers (:func:`_json_loads`, :func:`_form_loads`) hand the decoded value
    back, so a body is decoded once and openapi-core validates the value the findings name. ``value`` is
    ``_UNDECODABLE`` when the body could not be decoded.
    """

    value: Any

    def __new__(cls, raw: bytes, value: Any) -> _Decoded:
        self = super().__new__(cls, raw or b"-")  # an empty body would read as "no body" to openapi-core
        self.value = value
        return self


def _decoded_value(value: Any, fallback: Any) -> Any:
    if isinstance(value, _Decoded):
        if value.value is _UNDECODABLE:
            raise ValueError("the body could not be decoded")
        return value.value
    return fallback(value)


def _json_loads(value: bytes, **parameters: str) -> Any:
    return _decoded_value(value, json.loads)


def _form_loads(value: bytes, **parameters: str) -> Any:
    from openapi_core.deserializing.media_types.util import data_form_loads

    return _decoded_value(value, lambda raw: data_form_loads(raw, **parameters))


@dataclass
class _CoreRequest:
    """An interaction's request as openapi-core reads it (``openapi_core.protocols.Request``)."""

    host_url: str
    path: str
    method: str
    body: bytes | None = None
    content_type: str = ""
    parameters: Any = None

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters

        if self.parameters is None:
            self.parameters = RequestParameters()


@dataclass
class _CoreResponse:
    """An interaction's response as openapi-core reads it (``openapi_core.protocols.Response``)."""

    status_code: int
    content_type: str
    data: bytes | None
    headers: Mapping[str, Any] = field(default_factory=dict)


def _compiled_validators() -> Any:
    """openapi-core's OAS 3.1 schema validators factory, compiling each schema of the spec once."""
    from openapi_core.validation.schemas import oas31_schema_validators_factory as default
    from openapi_core.validation.schemas.factories import DialectSchemaValidatorsFactory
    from openapi_schema_validator import OAS31_BASE_DIALECT_ID

    class _CompiledValidators(DialectSchemaValidatorsFactory):
        """Compiled validators reused per schema location (openapi-core compiles one per call otherwise)."""

        def __init__(self) -> None:
            super().__init__(default.schema_validator_cls, OAS31_BASE_DIALECT_ID, format_checker=default.format_checker)
            self.compiled: dict[tuple[Any, ...], Any] = {}

        def create(
            self,
            spec: Any,
            schema: Any,
            format_validators: Any = None,
            extra_format_validators: Any = None,
            forbid_unspecified_additional_properties: bool = False,
            enforce_properties_required: bool = False,
        ) -> Any:
            key = (
                tuple(schema.parts),
                forbid_unspecified_additional_properties,
                enforce_properties_required,
                format_validators is None and extra_format_validators is None,
            )
            compiled = self.compiled.get(key) if key[-1] else None
            if compiled is None:
                compiled = super().create(
                    spec,
                    schema,
                    format_validators,
                    extra_format_validators,
                    forbid_unspecified_additional_properties,
                    enforce_properties_required,
                )
                if key[-1]:
                    self.compiled[key] = compiled
            return compiled

    return _CompiledValidators()


def _known_operations() -> Any:
    """openapi-core's path finder, memoised: the adapters only ever ask for the spec's own operation URLs."""
    from openapi_core.templating.paths.finders import APICallPathFinder

    class _KnownOperations(APICallPathFinder):
        def __init__(self, spec: Any, base_url: str | None = None) -> None:
            super().__init__(spec, base_url=base_url)
            self._found: dict[tuple[str, str], Any] = {}

        def find(self, method: str, name: str) -> Any:
            found = self._found.get((method, name))
            if found is None:
                found = self._found[(method, name)] = super().find(method, name)
            return found

    return _KnownOperations


def _openapi(data: Mapping[str, Any], validators: Any) -> OpenAPI:
    from openapi_core import Config, OpenAPI
    from openapi_core.validation.request.validators import V31RequestBodyValidator
    from openapi_core.validation.response.validators import V31ResponseDataValidator

    config = Config(
        # imagewire.generator.spec checked the document with openapi-spec-validator already; None (openapi-core's documented
        # way to skip its own check) is missing from the annotation
        spec_validator_cls=None,  # type: ignore[arg-type]
        request_validator_cls=V31RequestBodyValidator,
        response_validator_cls=V31ResponseDataValidator,
        schema_validators_factory=validators,
        path_finder_cls=_known_operations(),
        extra_media_type_deserializers={_JSON: _json_loads, _MULTIPART: _form_loads},
    )
    return OpenAPI.from_dict(dict(data), config=config)


def _server_url(servers: Any) -> tuple[str, str]:
    """``(scheme://host, base path)`` of the first server (variables at their defaults; ``/`` when none)."""
    server = servers[0] if isinstance(servers, list) and servers and isinstance(servers[0], dict) else {}
    url = str(server.get("url") or "/")
    for name, variable in (server.get("variables") or {}).items():
        if isinstance(variable, dict):
            url = url.replace("{" + str(name) + "}", str(variable.get("default", "")))
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    return "http://localhost", parts.path.rstrip("/")  # a relative server: openapi-core compares the path only


def _schema_errors(error: BaseException) -> list[SchemaError] | None:
    """The schema errors (jsonschema's) behind an openapi-core validation error; ``None`` for other errors."""
    from jsonschema.exceptions import ValidationError
    from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

    cause = error.__cause__
    if isinstance(cause, InvalidSchemaValue):
        return [e for e in cause.schema_errors if isinstance(e, ValidationError)]
    return None


# ---------------------------------------------------------------- operations


@dataclass(frozen=True)
class RequestField:
    """One field of a request body (a JSON property or a multipart part), as the spec declares it."""

    name: str
    schema: Any  # ``$ref`` inlined
    types: frozenset[str]  # the JSON types it admits
    enum: tuple[str, ...]  # the string values it enumerates (through anyOf/oneOf)
    binary: bool  # a file (``format: binary``, or a list of them)
    array_part: str | None  # the multipart part name of its list form (``image[]``)


def _request_field(name: str, schema: Any) -> RequestField:
    part = schema.get("x-imagewire-array-part-name") if isinstance(schema, dict) else None
    return RequestField(
        name=name,
        schema=schema,
        types=_types_of(schema),
        enum=_enum_of(schema),
        binary=_is_binary(schema),
        array_part=part if isinstance(part, str) else None,
    )


@dataclass
class OperationSpec:
    """One operation of the spec: where openapi-core finds it, and the schemas the kit needs beside it."""

    key: str  # generations | edits | variations
    operation_id: str
    method: str
    path: str
    #: request media type (lower case) -> the body schema (its shape names extra fields)
    requests: dict[str, _Schema] = field(default_factory=dict)
    #: request media type -> property name -> its declaration
    fields: dict[str, dict[str, RequestField]] = field(default_factory=dict)
    #: request media type -> the required property names
    required: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: multipart array part name (``image[]``) -> property name
    array_parts: dict[str, str] = field(default_factory=dict)
    #: status ("200", "400", ..., "default") -> media type -> the body schema (its shape names extra keys)
    responses: dict[str, dict[str, _Schema]] = field(default_factory=dict)
    #: stream event type -> compiled schema of that event (the kit validates event streams itself)
    events: dict[str, _Schema] = field(default_factory=dict)
    #: the URL openapi-core is given for this operation: (scheme://host, path under the spec's server)
    core_url: tuple[str, str] = ("", "")

    @property
    def request_types(self) -> dict[str, dict[str, frozenset[str]]]:
        """Request media type -> property name -> the JSON types it admits (for multipart coercion)."""
        return {media: {name: f.types for name, f in props.items()} for media, props in self.fields.items()}


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
    return media == _JSON or media.endswith("+json") or media == "text/json"


class SpecValidator:
    """Every operation of a spec compiled once (one openapi-core ``OpenAPI`` object); validate interactions."""

    def __init__(self, spec_path: str | Path = DEFAULT_SPEC) -> None:
        from imagewire.generator.spec import read

        spec = read(Path(spec_path))
        self.spec_path = Path(spec_path)
        self.data: dict[str, Any] = spec.data
        #: openapi-core's view of the spec: operation matching, request and response validation
        self._validators = _compiled_validators()
        self.openapi = _openapi(self.data, self._validators)
        self._request_validator = self.openapi.request_validator
        self._response_validator = self.openapi.response_validator
        self.operations: dict[str, OperationSpec] = {}
        for key, op in spec.operations.items():
            self.operations[key] = self._compile(key, op.operation_id, op.method.upper(), op.path, op.data)
        #: longest paths first, so a more specific operation wins a suffix match
        self._by_path = sorted(self.operations.values(), key=lambda o: -len(o.path))

    @property
    def compiled_schemas(self) -> int:
        """How many schema validators openapi-core has compiled so far (each is compiled once, then reused)."""
        return len(self._validators.compiled)

    # -- compiling

    def _compile(self, key: str, operation_id: str, method: str, path: str, data: Mapping[str, Any]) -> OperationSpec:
        spec = self.data
        op = OperationSpec(key, operation_id, method, path)
        item = spec.get("paths", {}).get(path) or {}
        host, base = _server_url(data.get("servers") or item.get("servers") or spec.get("servers"))
        op.core_url = (host, base + path)
        body = _deref(spec, data.get("requestBody")) or {}
        for media, content in (body.get("content") or {}).items():
            schema = _inline(spec, (content or {}).get("schema") or {})
            media = media.lower()
            op.requests[media] = _Schema(schema, f"{operation_id} request {media}")
            props = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
            op.fields[media] = {name: _request_field(name, sub) for name, sub in props.items()}
            op.required[media] = tuple((schema.get("required") or ()) if isinstance(schema, dict) else ())
            for name, declared in op.fields[media].items():
                if declared.array_part:
                    op.array_parts[declared.array_part] = name
        for status, response in (data.get("responses") or {}).items():
            resolved = _deref(spec, response) or {}
            media_map: dict[str, _Schema] = {}
            for media, content in (resolved.get("content") or {}).items():
                schema = _inline(spec, (content or {}).get("schema") or {})
                media_map[media.lower()] = _Schema(schema, f"{operation_id} {status} {media}")
                if media.lower() == _SSE:
                    for variant in schema.get("oneOf") or schema.get("anyOf") or [schema]:
                        type_schema = (variant.get("properties") or {}).get("type") or {}
                        for value in type_schema.get("enum") or (
                            [type_schema["const"]] if "const" in type_schema else []
                        ):
                            op.events[str(value)] = _Schema(variant, f"{operation_id} event {value}")
            op.responses[str(status)] = media_map
        return op

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

    def _core_request(self, op: OperationSpec, body: bytes | None = None, media: str = "") -> _CoreRequest:
        """The request as openapi-core reads it: the provider's prefix replaced by the spec's server."""
        host, path = op.core_url
        return _CoreRequest(host, path, op.method.lower(), body, media)

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
    ) -> tuple[list[SchemaError], list[BaseException]]:
        """openapi-core's request body validation: schema errors, and the other problems it found (a media type
        the operation does not declare). ``value`` ``_UNDECODABLE``: only the media type is checked."""
        request = self._core_request(op, _Decoded(raw, value), media)
        schema_errors: list[SchemaError] = []
        problems: list[BaseException] = []
        for error in self._request_validator.iter_errors(request):
            found = _schema_errors(error)
            if found is not None:
                schema_errors.extend(found)
            elif not _undecodable(error):
                problems.append(error)
        return schema_errors, problems

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
        payload: Any = _UNDECODABLE
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
        declared = media if media in op.requests else (_JSON if info.encoding == "json" else media)
        schema_errors, problems = self._check_body(op, declared, payload, body)
        findings.extend(_request_problem(problem, media) for problem in problems)
        for error in schema_errors:
            findings.extend(Finding(f.pointer, f.message, "request") for f in _error_findings(error, ""))
        schema = op.requests.get(declared)
        if schema is not None and payload is not _UNDECODABLE:
            extra: list[Finding] = []
            _extra_keys(payload, schema.shape, "", extra)
            findings.extend(Finding(f.pointer, "a field the contract does not declare", "request") for f in extra)
        return info, findings

    def _multipart_fields(
        self, body: bytes, content_type: str, op: OperationSpec | None, info: RequestInfo, findings: list[Finding]
    ) -> dict[str, Any]:
        """The fields of a multipart form as the schema reads them: ``image[]`` parts gathered into the ``image``
        list, text parts read as the JSON type the schema wants, file parts as ``<file NAME N bytes>``."""
        parts = parse_multipart(body, content_type)
        if parts is None:
            findings.append(Finding("", "the multipart body cannot be parsed (no boundary)", "request"))
            return {}
        declared = op.fields.get(_MULTIPART, {}) if op is not None else {}
        arrays = op.array_parts if op is not None else {}
        fields: dict[str, Any] = {}
        for part in parts:
            name = arrays.get(part.name) or (part.name[:-2] if part.name.endswith("[]") else part.name)
            if part.is_file:
                info.files[name] = info.files.get(name, 0) + 1
                value: Any = f"<file {part.filename or ''} {len(part.data)} bytes>"
            else:
                types = declared[name].types if name in declared else frozenset()
                value = _coerce(part.data.decode("utf-8", errors="replace"), types)
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
                findings.append(Finding("", f"the body is not JSON: {_clip(stripped, 60)!r}", "json"))
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
        declared: Mapping[str, _Schema],
        findings: list[Finding],
    ) -> None:
        """A JSON body against the response openapi-core chooses by status and content type; extra keys named."""
        response = _CoreResponse(status, _JSON, _Decoded(raw, payload))
        for error in self._response_validator.iter_errors(self._core_request(op), response):
            schema_errors = _schema_errors(error)
            if schema_errors is not None:
                for schema_error in schema_errors:
                    findings.extend(_error_findings(schema_error, ""))
            else:
                findings.append(_response_problem(error, status))
        schema = declared.get(_JSON)
        if schema is not None:
            _extra_keys(payload, schema.shape, "", findings)

    def _check_events(self, text: str, op: OperationSpec, request: RequestInfo, findings: list[Finding]) -> None:
        """Each ``data:`` event of a stream against the event schema of its ``type`` (openapi-core reads no SSE)."""
        from imagewire_client._sse import is_done, is_error_event, iter_events

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
                findings.append(Finding(base, f"event data is not JSON: {_clip(sse.data, 60)!r}", "json"))
                continue
            if is_error_event(sse, payload):
                findings.append(Finding(base, _clip(f"an error event in the stream: {sse.data}"), "stream-error"))
                continue
            if not isinstance(payload, dict):
                findings.append(Finding(base, f"event data is {_json_type(payload)}, not an object", "schema"))
                continue
            kind = payload.get("type")
            if kind is None and sse.event:
                payload = {**payload, "type": sse.event}
                kind = sse.event
            schema = op.events.get(kind) if isinstance(kind, str) else None
            if schema is None:
                message = f"unknown event type {kind!r}; known: {', '.join(op.events)}"
                findings.append(Finding(f"{base}/type", _clip(message), "schema"))
                if fallback is not None:
                    extra: list[Finding] = []
                    _extra_keys(payload, fallback.shape, base, extra)
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


def _undecodable(error: BaseException) -> bool:
    """An openapi-core error that only says the body could not be decoded (the kit has reported that itself)."""
    from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError

    return isinstance(error.__cause__, MediaTypeDeserializeError)


def _request_problem(error: BaseException, media: str) -> Finding:
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound

    cause = error.__cause__
    if isinstance(cause, MediaTypeNotFound):
        accepted = sorted(cause.availableMimetypes)
        return Finding("", f"request content type {media or 'none'!r} is not one of {accepted}", "request")
    return Finding("", _clip(f"openapi-core: {error}"), "request")


def _response_problem(error: BaseException, status: int) -> Finding:
    from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
    from openapi_core.templating.responses.exceptions import ResponseNotFound

    cause = error.__cause__
    if isinstance(cause, MediaTypeNotFound):
        declared = " or ".join(sorted(cause.availableMimetypes)) or "no body"
        return Finding("", f"JSON, where the contract declares {declared} for status {status}", "media-type")
    if isinstance(error, ResponseNotFound):
        return Finding("", f"status {status} is not declared (and there is no default response)", "status")
    return Finding("", _clip(f"openapi-core: {error}"), "schema")


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


def _coerce(value: str, types: frozenset[str]) -> Any:
    if not types or "string" in types:
        return value
    text = value.strip()
    if "integer" in types and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in types:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "null" in types and text.lower() in ("null", ""):
        return None
    return value


def _url_path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


# ---------------------------------------------------------------- multipart


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def is_file(self) -> bool:
        return self.filename is not None or bool(
            self.content_type and not self.content_type.lower().startswith("text/plain")
        )


def parse_multipart(body: bytes, content_type: str) -> list[Part] | None:
    """The parts of a multipart body (``None`` when there is no boundary to split on)."""
    match = re.search(r'(?i)boundary="?([^";,]+)"?', content_type)
    boundary = match.group(1).strip() if match else None
    if boundary is None:
        first = re.match(rb"--([^\r\n]{1,200})\r?\n", body)
        boundary = first.group(1).decode("latin-1") if first else None
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1", errors="replace")
    parts: list[Part] = []
    for piece in body.split(delimiter)[1:]:
        if piece.startswith(b"--"):
            break
        piece = piece[2:] if piece.startswith(b"\r\n") else piece.removeprefix(b"\n")
        head, sep, data = piece.partition(b"\r\n\r\n")
        newline = b"\r\n"
        if not sep:
            head, sep, data = piece.partition(b"\n\n")
            newline = b"\n"
        data = data.removesuffix(newline)
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _param(disposition, "name") or ""
        parts.append(Part(name, _param(disposition, "filename"), headers.get("content-type"), data))
    return parts


def _param(header: str, key: str) -> str | None:
    match = re.search(rf'(?i)(?:^|;)\s*{key}="((?:[^"\\]|\\.)*)"', header) or re.search(
        rf"(?i)(?:^|;)\s*{key}=([^;]*)", header
    )
    return match.group(1).strip() if match else None


@functools.cache
def _cached(path: str) -> SpecValidator:
    return SpecValidator(path)


def validator(spec_path: str | Path | None = None) -> SpecValidator:
    """The compiled validator of a spec (default: this repository's ``spec/openapi.yaml``), built once."""
    return _cached(str(Path(spec_path or DEFAULT_SPEC).resolve()))
