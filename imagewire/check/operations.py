"""The operations of the spec as the check and the reference provider read them: each operation's path,
request fields (JSON types, enum values, files and the content types they may have, the ``image[]`` part
name), the body and response schemas by media type and status, and the event schemas of its streams.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from imagewire.check.schemas import Schema, deref, enum_of, inline, is_binary, types_of

__all__ = ["OperationSpec", "RequestField", "coerce", "compile_operation", "server_url"]

_SSE = "text/event-stream"


@dataclass(frozen=True)
class RequestField:
    """One field of a request body (a JSON property or a multipart part), as the spec declares it."""

    name: str
    schema: Any  # ``$ref`` inlined
    types: frozenset[str]  # the JSON types it admits
    enum: tuple[str, ...]  # the string values it enumerates (through anyOf/oneOf)
    binary: bool  # a file (``format: binary``, or a list of them)
    array_part: str | None  # the multipart part name of its list form (``image[]``)
    #: the content types a file part may have (the media type's ``encoding``); empty when not declared
    content_types: tuple[str, ...] = ()

    def coerce(self, text: str) -> Any:
        """A multipart text value read as the JSON type this field wants."""
        return coerce(text, self.types)


def _request_field(name: str, schema: Any, encoding: Any) -> RequestField:
    part = schema.get("x-imagewire-array-part-name") if isinstance(schema, dict) else None
    declared = encoding.get(name) if isinstance(encoding, dict) else None
    content_type = declared.get("contentType") if isinstance(declared, dict) else None
    content_types = tuple(t.strip().lower() for t in content_type.split(",")) if isinstance(content_type, str) else ()
    return RequestField(
        name=name,
        schema=schema,
        types=types_of(schema),
        enum=enum_of(schema),
        binary=is_binary(schema),
        array_part=part if isinstance(part, str) else None,
        content_types=content_types,
    )


@dataclass
class OperationSpec:
    """One operation of the spec: where openapi-core finds it, and the schemas the kit needs beside it."""

    key: str  # generations | edits | variations
    operation_id: str
    method: str
    path: str
    #: request media type (lower case) -> the body schema (its shape names extra fields)
    requests: dict[str, Schema] = field(default_factory=dict)
    #: request media type -> property name -> its declaration
    fields: dict[str, dict[str, RequestField]] = field(default_factory=dict)
    #: request media type -> the required property names
    required: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: multipart array part name (``image[]``) -> property name
    array_parts: dict[str, str] = field(default_factory=dict)
    #: status ("200", "400", ..., "default") -> media type -> the body schema (its shape names extra keys)
    responses: dict[str, dict[str, Schema]] = field(default_factory=dict)
    #: stream event type -> compiled schema of that event (the kit validates event streams itself)
    events: dict[str, Schema] = field(default_factory=dict)
    #: the URL openapi-core is given for this operation: (scheme://host, path under the spec's server)
    core_url: tuple[str, str] = ("", "")

    @property
    def request_types(self) -> dict[str, dict[str, frozenset[str]]]:
        """Request media type -> property name -> the JSON types it admits (for multipart coercion)."""
        return {media: {name: f.types for name, f in props.items()} for media, props in self.fields.items()}


def compile_operation(
    spec: Mapping[str, Any], key: str, operation_id: str, method: str, path: str, data: Mapping[str, Any]
) -> OperationSpec:
    """One operation of ``spec`` with the schemas the check needs beside openapi-core."""
    op = OperationSpec(key, operation_id, method, path)
    item = spec.get("paths", {}).get(path) or {}
    host, base = server_url(data.get("servers") or item.get("servers") or spec.get("servers"))
    op.core_url = (host, base + path)
    body = deref(spec, data.get("requestBody")) or {}
    for media, content in (body.get("content") or {}).items():
        schema = inline(spec, (content or {}).get("schema") or {})
        media = media.lower()
        op.requests[media] = Schema(schema, f"{operation_id} request {media}")
        props = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
        encoding = (content or {}).get("encoding")
        op.fields[media] = {name: _request_field(name, sub, encoding) for name, sub in props.items()}
        op.required[media] = tuple((schema.get("required") or ()) if isinstance(schema, dict) else ())
        for name, declared in op.fields[media].items():
            if declared.array_part:
                op.array_parts[declared.array_part] = name
    for status, response in (data.get("responses") or {}).items():
        resolved = deref(spec, response) or {}
        media_map: dict[str, Schema] = {}
        for media, content in (resolved.get("content") or {}).items():
            schema = inline(spec, (content or {}).get("schema") or {})
            media_map[media.lower()] = Schema(schema, f"{operation_id} {status} {media}")
            if media.lower() == _SSE:
                for variant in schema.get("oneOf") or schema.get("anyOf") or [schema]:
                    type_schema = (variant.get("properties") or {}).get("type") or {}
                    for value in type_schema.get("enum") or ([type_schema["const"]] if "const" in type_schema else []):
                        op.events[str(value)] = Schema(variant, f"{operation_id} event {value}")
        op.responses[str(status)] = media_map
    return op


def server_url(servers: Any) -> tuple[str, str]:
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


def coerce(text: str, types: frozenset[str]) -> Any:
    """A multipart text value read as the JSON type the schema wants (integers, numbers, booleans, null)."""
    if not types or "string" in types:
        return text
    stripped = text.strip()
    if "integer" in types and re.fullmatch(r"-?\d+", stripped):
        return int(stripped)
    if "number" in types:
        try:
            return float(stripped)
        except ValueError:
            pass
    if "boolean" in types and stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    if "null" in types and stripped.lower() in ("null", ""):
        return None
    return text
