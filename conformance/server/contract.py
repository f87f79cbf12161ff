"""The request side of spec/openapi.yaml: which fields each operation's bodies have, and their schemas.

The server answers a request the spec does not admit as OpenAI does: ``unknown_parameter`` for a field
the body schema does not declare, ``missing_required_parameter``, ``invalid_type`` for a value of the
wrong JSON type, ``invalid_value`` for a value outside an enum, pattern or range. Schemas are compiled
once (``$ref`` inlined, one JSON Schema 2020-12 validator per field).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ApiError, quote_list

__all__ = ["SPEC_PATH", "Body", "Contract", "Field", "load"]

SPEC_PATH = Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"


@dataclass(frozen=True)
class Field:
    name: str
    types: frozenset[str]
    enum: tuple[str, ...]
    binary: bool
    array_part: str | None
    validator: Any

    def coerce(self, text: str) -> Any:
        """A multipart text value read as the JSON type the schema wants (integers, booleans)."""
        stripped = text.strip()
        if "string" in self.types or not self.types:
            return text
        if "integer" in self.types and re.fullmatch(r"-?\d{1,18}", stripped):
            return int(stripped)
        if "number" in self.types:
            try:
                return float(stripped)
            except ValueError:
                pass
        if "boolean" in self.types and stripped.lower() in ("true", "false"):
            return stripped.lower() == "true"
        return text


@dataclass(frozen=True)
class Body:
    media: str
    fields: Mapping[str, Field]
    required: tuple[str, ...]

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(name for name, f in self.fields.items() if f.binary)

    def validate(self, values: Mapping[str, Any]) -> None:
        """Raise :class:`ApiError` (400) for the first field the schema does not admit."""
        for name in values:
            if name not in self.fields:
                raise ApiError(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
        for name in self.required:
            if name not in values:
                raise ApiError(
                    400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
                )
        for name, value in values.items():
            field = self.fields[name]
            if field.binary:
                continue
            errors = list(field.validator.iter_errors(value))
            if errors:
                raise _problem(field, value, errors)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_ARTICLES = {"integer": "an integer", "array": "an array", "object": "an object"}


def _a(kind: str) -> str:
    return _ARTICLES.get(kind, f"a {kind}")


def _admits(types: frozenset[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _problem(field: Field, value: Any, errors: list[Any]) -> ApiError:
    kind = _json_type(value)
    name = field.name
    if field.types and not _admits(field.types, kind):
        wanted = sorted(t for t in field.types if t != "null")
        expected = " or ".join(_a(t) for t in wanted) or "null"
        return ApiError(
            400,
            f"Invalid type for '{name}': expected {expected}, but got {_a(kind)} instead.",
            param=name,
            code="invalid_type",
        )
    if isinstance(value, str) and field.enum:
        patterns = " (or a size WxH in pixels)" if name == "size" else ""
        return ApiError(
            400,
            f"Invalid value: '{value}'. Supported values are: {quote_list(field.enum)}{patterns}.",
            param=name,
            code="invalid_value",
        )
    error = min(errors, key=lambda e: len(list(e.absolute_path)))
    detail = _leaf(error)
    where = name + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in detail.absolute_path)
    return ApiError(400, f"Invalid '{where}': {detail.message}", param=name, code="invalid_value")


def _leaf(error: Any) -> Any:
    context = list(getattr(error, "context", None) or ())
    if not context:
        return error
    # the deepest sub-error of the branch that matched the instance's type best
    return max(context, key=lambda e: len(list(e.absolute_path)))


@dataclass(frozen=True)
class Contract:
    """Each operation (keyed like the catalog: generations, edits, variations): path and request bodies."""

    paths: Mapping[str, str]
    bodies: Mapping[str, Mapping[str, Body]]


def _lookup(spec: Any, ref: str) -> Any:
    node = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _inline(spec: Any, node: Any, depth: int = 0) -> Any:
    if depth > 64:
        raise ValueError("schema references nest too deep")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target = _inline(spec, _lookup(spec, ref), depth + 1)
            siblings = {k: v for k, v in node.items() if k not in ("$ref", "description", "summary")}
            if siblings and isinstance(target, dict):
                return {**target, **_inline(spec, siblings, depth + 1)}
            return target
        return {k: _inline(spec, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(spec, item, depth + 1) for item in node]
    return node


def _types(schema: Any) -> set[str]:
    if not isinstance(schema, dict):
        return set()
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
            found |= _types(sub)
    return found


def _enum(schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return []
    values = [v for v in schema.get("enum") or () if isinstance(v, str)]
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            values += [v for v in _enum(sub) if v not in values]
    return values


def _binary(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("format") == "binary":
        return True
    if isinstance(schema.get("items"), dict) and _binary(schema["items"]):
        return True
    return any(_binary(sub) for key in ("anyOf", "oneOf") for sub in schema.get(key) or ())


def _body(media: str, schema: Any) -> Body:
    from jsonschema import Draft202012Validator

    props = schema.get("properties") or {}
    fields = {
        name: Field(
            name=name,
            types=frozenset(_types(sub)),
            enum=tuple(_enum(sub)),
            binary=_binary(sub),
            array_part=sub.get("x-imagewire-array-part-name") if isinstance(sub, dict) else None,
            validator=Draft202012Validator(sub),
        )
        for name, sub in props.items()
    }
    return Body(media=media, fields=fields, required=tuple(schema.get("required") or ()))


def load(spec_path: str | Path | None = None) -> Contract:
    """Read and compile the request side of the spec (default: this repository's spec/openapi.yaml), once."""
    path = Path(spec_path or SPEC_PATH).resolve()
    return _load(str(path), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: int) -> Contract:
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load(text, Loader=loader)
    paths: dict[str, str] = {}
    bodies: dict[str, dict[str, Body]] = {}
    for path, item in (spec.get("paths") or {}).items():
        post = (item or {}).get("post")
        if not isinstance(post, dict):
            continue
        key = path.rstrip("/").rsplit("/", 1)[-1]
        paths[key] = path
        request = post.get("requestBody") or {}
        if "$ref" in request:
            request = _lookup(spec, request["$ref"])
        bodies[key] = {
            media.lower(): _body(media.lower(), _inline(spec, (content or {}).get("schema") or {}))
            for media, content in (request.get("content") or {}).items()
        }
    return Contract(paths=paths, bodies=bodies)
