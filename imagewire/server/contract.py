"""The request side of spec/openapi.yaml as the reference provider reads it: each operation's path, the
fields of its request bodies, and OpenAI's answer to a body the spec does not admit.

The server answers such a body as OpenAI does: ``unknown_parameter`` for a field the body schema does not
declare, ``missing_required_parameter``, ``invalid_type`` for a value of the wrong JSON type,
``invalid_value`` for a value outside an enum, pattern or range (the first problem, in the order the fields
were sent). Nothing here reads or compiles the spec: operations, fields and their types come from
:mod:`imagewire.check.validate`'s compiled spec (one per spec file, shared with the conformance kit), and a body
is checked by the same openapi-core request validation the kit judges recorded traffic with
(:meth:`~imagewire.check.validate.SpecValidator.body_errors`); this module only words the first problem.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagewire.check.operations import OperationSpec, RequestField
from imagewire.check.validate import DEFAULT_SPEC, SpecValidator, validator
from imagewire.server.errors import ApiError, quote_list

__all__ = ["SPEC_PATH", "Body", "Contract", "load"]

SPEC_PATH = DEFAULT_SPEC


@dataclass(frozen=True)
class Body:
    media: str
    fields: Mapping[str, RequestField]
    required: tuple[str, ...]
    #: the spec's schema errors for a decoded body (openapi-core, through imagewire.check.validate)
    errors: Callable[[Mapping[str, Any]], list[Any]]

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
        by_field: dict[str, list[Any]] = {}
        for error in self.errors(values):
            path = list(error.absolute_path)
            if path:
                by_field.setdefault(str(path[0]), []).append(error)
        for name, value in values.items():
            field = self.fields[name]
            if field.binary:  # files are checked by the server (types, sizes), not by the schema
                continue
            errors = by_field.get(name)
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


def _problem(field: RequestField, value: Any, errors: list[Any]) -> ApiError:
    """OpenAI's answer to a field's schema errors (their paths start at the body, with the field's name)."""
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
    inside = list(detail.absolute_path)[1:]
    where = name + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in inside)
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
    #: the content types an uploaded image may have (the spec's form encodings), sorted
    image_types: tuple[str, ...]


def load(spec_path: str | Path | None = None) -> Contract:
    """The request side of the spec (default: this repository's spec/openapi.yaml), compiled once."""
    return _contract(validator(spec_path or SPEC_PATH))


@functools.lru_cache(maxsize=8)
def _contract(spec: SpecValidator) -> Contract:
    paths: dict[str, str] = {}
    bodies: dict[str, dict[str, Body]] = {}
    image_types: set[str] = set()
    for key, op in spec.operations.items():
        if op.method != "POST":
            continue
        paths[key] = op.path
        bodies[key] = {media: _body(spec, op, media) for media in op.fields}
        for fields in op.fields.values():
            image_types.update(
                t for f in fields.values() if f.binary for t in f.content_types if t.startswith("image/")
            )
    return Contract(paths=paths, bodies=bodies, image_types=tuple(sorted(image_types)))


def _body(spec: SpecValidator, op: OperationSpec, media: str) -> Body:
    return Body(
        media=media,
        fields=op.fields[media],
        required=op.required[media],
        errors=functools.partial(spec.body_errors, op, media),
    )
