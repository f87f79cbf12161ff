"""The spec's schemas as the check reads them: ``$ref`` inlined, the keys each declares (to name extra keys),
the JSON types and enum values of a field, and a schema error worded as :class:`~imagewire.check.findings.Finding` s.

Request and response bodies are validated by openapi-core (:mod:`imagewire.check.engine`); the schema
validators compiled here (openapi-schema-validator's OAS 3.1 dialect, as openapi-core uses) serve the events
of ``text/event-stream`` answers, which openapi-core cannot decode.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from imagewire.check.findings import MESSAGE_LIMIT, Finding, clip, escape, json_type, pointer
from imagewire.record.scrub import is_marker

__all__ = [
    "Schema",
    "Shape",
    "deref",
    "enum_of",
    "error_findings",
    "extra_keys",
    "inline",
    "is_binary",
    "shape_of",
    "types_of",
]


@dataclass
class Shape:
    """The keys a schema declares, for naming extra keys (precomputed once per schema)."""

    props: dict[str, Shape] | None = None  # None: not an object schema (or anything goes)
    items: Shape | None = None
    closed: bool = False  # additionalProperties: false (the schema validator reports extra keys itself)


class Schema:
    """One schema of the spec, ``$ref`` inlined: its shape, and (compiled on first use) a schema validator.

    Request and response bodies are validated by openapi-core and use only the shape here; the validator is
    compiled for stream events, which openapi-core cannot decode.
    """

    def __init__(self, schema: Any, name: str) -> None:
        self.name = name
        self.schema = schema
        self.shape = shape_of(schema)

    @functools.cached_property
    def validator(self) -> Any:
        from openapi_schema_validator import OAS31Validator

        return OAS31Validator(self.schema)

    def findings(self, data: Any, base: str = "") -> list[Finding]:
        out: list[Finding] = []
        for error in self.validator.iter_errors(data):
            out.extend(error_findings(error, base))
        extra_keys(data, self.shape, base, out)
        return out


def _merge(shapes: list[Shape]) -> Shape:
    props: dict[str, Shape] | None = None
    items: list[Shape] = []
    for shape in shapes:
        if shape.props is not None:
            props = dict(props or {})
            for key, child in shape.props.items():
                props[key] = _merge([props[key], child]) if key in props else child
        if shape.items is not None:
            items.append(shape.items)
    return Shape(props, _merge(items) if items else None, all(s.closed for s in shapes) and bool(shapes))


def shape_of(schema: Any, depth: int = 0) -> Shape:
    if not isinstance(schema, dict) or depth > 40:
        return Shape()
    variants = [
        shape_of(s, depth + 1)
        for key in ("anyOf", "oneOf", "allOf")
        for s in schema.get(key) or ()
        if isinstance(s, dict)
    ]
    own = Shape()
    if isinstance(schema.get("properties"), dict):
        own.props = {key: shape_of(sub, depth + 1) for key, sub in schema["properties"].items()}
        own.closed = schema.get("additionalProperties") is False
    if isinstance(schema.get("items"), dict):
        own.items = shape_of(schema["items"], depth + 1)
    if not variants:
        return own
    merged = _merge([own, *variants]) if (own.props is not None or own.items is not None) else _merge(variants)
    merged.closed = False
    return merged


def extra_keys(data: Any, shape: Shape, base: str, out: list[Finding]) -> None:
    if isinstance(data, dict) and shape.props is not None:
        for key, value in data.items():
            child = shape.props.get(key)
            if child is None:
                if not shape.closed and not is_marker(str(key), data):
                    out.append(Finding(f"{base}/{escape(key)}", "a key the contract does not declare", "extra-key"))
                continue
            if child.props is not None or child.items is not None:
                extra_keys(value, child, f"{base}/{escape(key)}", out)
    elif isinstance(data, list) and shape.items is not None:
        for index, item in enumerate(data):
            extra_keys(item, shape.items, f"{base}/{index}", out)


def error_findings(error: Any, base: str) -> list[Finding]:
    """Findings for one schema error (jsonschema's, from openapi-core or the kit): the pointer is its path."""
    where = pointer(base, error.absolute_path)
    instance = error.instance
    kind = error.validator
    if kind == "required" and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        return [Finding(f"{where}/{escape(name)}", "missing (the contract requires it)", "schema") for name in missing]
    if kind == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return [Finding(where, f"expected {expected_text}, got {json_type(instance)}", "schema")]
    if kind == "enum":
        return [Finding(where, clip(f"{instance!r} is not one of {error.validator_value}"), "schema")]
    if kind == "additionalProperties" and isinstance(instance, dict):
        return [Finding(where, "additional properties are not allowed", "schema")]
    if kind in ("anyOf", "oneOf"):
        return [
            Finding(
                where, clip(f"matches none of the allowed shapes ({json_type(instance)} {instance!r:.60})"), "schema"
            )
        ]
    message = (
        error.message if len(error.message) <= MESSAGE_LIMIT else f"fails '{kind}' ({error.validator_value!r:.80})"
    )
    return [Finding(where, clip(message), "schema")]


def inline(spec: Any, node: Any, depth: int = 0) -> Any:
    """A copy of ``node`` with every local ``$ref`` replaced by its target (the spec has no cycles)."""
    if depth > 64:
        raise ValueError("schema references nest too deep (a cycle?)")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = _lookup(spec, ref)
            siblings = {k: v for k, v in node.items() if k not in ("$ref", "description", "summary")}
            resolved = inline(spec, target, depth + 1)
            if siblings and isinstance(resolved, dict):
                return {**resolved, **inline(spec, siblings, depth + 1)}
            return resolved
        return {key: inline(spec, value, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [inline(spec, item, depth + 1) for item in node]
    return node


def _lookup(spec: Any, ref: str) -> Any:
    node = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def deref(spec: Any, node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 16:
        node = _lookup(spec, node["$ref"])
        seen += 1
    return node


def types_of(schema: Any) -> frozenset[str]:
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
        found.update(json_type(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            found |= types_of(sub)
    return frozenset(found)


def enum_of(schema: Any) -> tuple[str, ...]:
    """The string values a schema enumerates (through ``anyOf``/``oneOf``), in the spec's order."""
    if not isinstance(schema, dict):
        return ()
    values = [v for v in schema.get("enum") or () if isinstance(v, str)]
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            values += [v for v in enum_of(sub) if v not in values]
    return tuple(values)


def is_binary(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("format") == "binary":
        return True
    if isinstance(schema.get("items"), dict) and is_binary(schema["items"]):
        return True
    return any(is_binary(sub) for key in ("anyOf", "oneOf") for sub in schema.get(key) or ())
