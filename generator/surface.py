"""The API surface of a spec, as `imagewire drift` and the change report of a regeneration compare it: request and
response fields, their facts, and the models with their lifecycle.

Every source (our spec, an official OpenAPI document, the openai SDK's types) is read into one
:class:`Surface`, so the comparison knows nothing of where the facts came from.

Locations name a field by scope and path: ``generations.json.quality``, ``edits.multipart.image[]``,
``edits.json.images[].image_url``, ``response.usage.input_tokens``, ``event[image_edit.completed].size``.
Scopes: ``<operation>.<body>`` for requests (``generations.json``, ``edits.multipart``, ``edits.json``,
``variations.multipart``), ``response`` and ``event[<type>]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BOUNDS", "Field", "Lifecycle", "Surface", "from_openapi", "known_values"]

#: the bounds a schema can state, compared as integers
BOUNDS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")
#: the operations drift knows, by the last segment of their path
OPERATIONS = ("generations", "edits", "variations")
_ENCODINGS = {"application/json": "json", "multipart/form-data": "multipart"}
_KNOWN = re.compile(r"Known values:? ([^.]*?)(?:\.|;|$)", re.MULTILINE)


@dataclass
class Field:
    """What one source says about one field."""

    types: frozenset[str]  # string integer number boolean binary object array (null never counts)
    enum: frozenset[str] | None = None  # the values it names (closed enum or known values of an open string)
    required: bool = False
    bounds: dict[str, int] = field(default_factory=dict)
    #: deliberate differences declared on the field in our spec (``x-imagewire-waiver``)
    waivers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def type(self) -> str:
        return "|".join(sorted(self.types)) or "any"


@dataclass(frozen=True)
class Lifecycle:
    status: str  # live | retired | shutdown | ...
    date: str | None = None
    replacements: frozenset[str] = frozenset()


@dataclass
class Surface:
    """One source's view: fields by location, and (when the source knows them) models."""

    name: str
    fields: dict[str, Field] = field(default_factory=dict)
    #: model id -> lifecycle, when the source states lifecycles (None: the source lists no models)
    models: dict[str, Lifecycle | None] | None = None
    #: scope (``generations.json``) -> the model ids the source names for it
    scope_models: dict[str, frozenset[str]] = field(default_factory=dict)
    #: declared waivers (our spec only)
    waivers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scopes(self) -> set[str]:
        return {scope_of(loc) for loc in self.fields}


def scope_of(location: str) -> str:
    if location.startswith("event["):
        return location[: location.index("]") + 1]
    if location.startswith("response"):
        return "response"
    head, _, rest = location.partition(".")
    return f"{head}.{rest.partition('.')[0]}"


def known_values(description: Any) -> frozenset[str] | None:
    """The values an open string's description lists after ``Known values``."""
    if not isinstance(description, str):
        return None
    found = _KNOWN.search(description)
    if not found:
        return None
    values = [v.strip().strip("`") for v in re.split(r",|\bor\b|\band\b", found.group(1))]
    return frozenset(v for v in values if v and " " not in v) or None


# --- OpenAPI (3.0 with nullable, or 3.1) -------------------------------------------------------------


class _Reader:
    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document

    def resolve(self, node: Any, depth: int = 0) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 32:
            ref = node["$ref"]
            target: Any = self.doc
            for token in ref.lstrip("#").split("/")[1:]:
                token = token.replace("~1", "/").replace("~0", "~")
                target = target.get(token) if isinstance(target, dict) else None
            if target is None:
                raise KeyError(ref)
            node = target
            depth += 1
        return node

    def branches(self, schema: Any) -> list[dict[str, Any]]:
        """The non-null alternatives of a schema, flattened through anyOf/oneOf and references."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return []
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives and not schema.get("properties"):
            out: list[dict[str, Any]] = []
            for branch in alternatives:
                out += self.branches(branch)
            return out
        if schema.get("type") == "null":
            return []
        return [schema]

    def field(self, schema: Any, required: bool, into: dict[str, Field], location: str) -> None:
        raw = self.resolve(schema) if isinstance(schema, dict) else {}
        types: set[str] = set()
        enum: set[str] = set()
        open_string = False
        bounds: dict[str, int] = {}
        objects: list[dict[str, Any]] = []
        items: list[Any] = []
        for branch in self.branches(schema):
            kind = branch.get("type")
            kinds = kind if isinstance(kind, list) else [kind]
            for k in kinds:
                if k == "null":
                    continue
                if k == "string" and branch.get("format") == "binary":
                    types.add("binary")
                elif k is None and "properties" in branch:
                    types.add("object")
                elif k is not None:
                    types.add(str(k))
            if "enum" in branch or "const" in branch:
                values = branch.get("enum") or [branch.get("const")]
                if all(isinstance(v, bool) for v in values if v is not None):
                    types.add("boolean")
                else:
                    enum |= {str(v) for v in values if v is not None}
            elif set(kinds) in ({"string"}, {"string", "null"}) and branch.get("format") != "binary":
                open_string = True
            for name in BOUNDS:
                if isinstance(branch.get(name), int) and not isinstance(branch.get(name), bool):
                    bounds[name] = branch[name]
            if "object" in kinds or "properties" in branch:
                objects.append(branch)
            if "array" in kinds:
                items.append(branch.get("items"))
        if not enum and open_string:
            described = known_values(raw.get("description")) if isinstance(raw, dict) else None
            if described is None and isinstance(schema, dict):
                described = known_values(schema.get("description"))
            enum = set(described or ())
        waiver = (schema if isinstance(schema, dict) else {}).get("x-imagewire-waiver")
        waivers = waiver if isinstance(waiver, list) else [waiver] if isinstance(waiver, dict) else []
        into[location] = Field(frozenset(types), frozenset(enum) or None, required, bounds, waivers)
        for obj in objects:
            self.object(obj, into, location)
        for item in items:
            if item is not None:
                self.field(item, False, into, location + "[]")

    def object(self, schema: Any, into: dict[str, Field], prefix: str) -> None:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return
        required = set(schema.get("required") or [])
        for part in schema.get("allOf") or []:
            self.object(part, into, prefix)
        for name, prop in (schema.get("properties") or {}).items():
            self.field(prop, name in required, into, f"{prefix}.{name}")

    def model_ids(self, schema: Any) -> frozenset[str]:
        """The model ids a request schema's ``model`` property names in an enum."""
        schema = self.resolve(schema)
        prop = ((schema or {}).get("properties") or {}).get("model") if isinstance(schema, dict) else None
        ids: set[str] = set()
        for branch in self.branches(prop) if prop is not None else []:
            ids |= {str(v) for v in branch.get("enum") or [] if v is not None}
        return frozenset(ids)


def from_openapi(document: dict[str, Any], name: str) -> Surface:
    """Read the image operations of an OpenAPI document (paths ending in ``/images/<operation>``)."""
    reader = _Reader(document)
    surface = Surface(name)
    for path, item in (document.get("paths") or {}).items():
        op_key = str(path).rstrip("/").rsplit("/", 1)[-1]
        if op_key not in OPERATIONS or "/images/" not in str(path) or not isinstance(item, dict):
            continue
        op = item.get("post")
        if not isinstance(op, dict):
            continue
        body = reader.resolve(op.get("requestBody")) or {}
        for content_type, media in (body.get("content") or {}).items():
            encoding = _ENCODINGS.get(content_type)
            if encoding is None or not isinstance(media, dict):
                continue
            scope = f"{op_key}.{encoding}"
            reader.object(media.get("schema"), surface.fields, scope)
            ids = reader.model_ids(media.get("schema"))
            if ids:
                surface.scope_models[scope] = ids
        ok = reader.resolve((op.get("responses") or {}).get("200")) or {}
        for content_type, media in (ok.get("content") or {}).items():
            if not isinstance(media, dict):
                continue
            if content_type == "application/json" and "response.created" not in surface.fields:
                reader.object(media.get("schema"), surface.fields, "response")
            elif content_type == "text/event-stream":
                for event in reader.branches(media.get("schema")):
                    kind = reader.resolve(((event.get("properties") or {}).get("type")) or {})
                    values = kind.get("enum") or ([kind["const"]] if "const" in kind else [])
                    if values:
                        reader.object(event, surface.fields, f"event[{values[0]}]")
    return surface
