"""What our own templates see: data computed from the spec in Python (the engine passes no ``x-``
extensions of operations to templates), and the filters that turn it into Python source."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .catalog import resolve_models, resolve_providers
from .spec import Spec

__all__ = ["context", "filters"]


def context(spec: Spec, spec_name: str, config: dict[str, Any]) -> dict[str, Any]:
    info = spec.data.get("info") or {}
    operations = []
    for op in spec.operations.values():
        lifecycle = op.data.get("x-imagewire-lifecycle") or {}
        operations.append(
            {
                "key": op.key,
                "operation_id": op.operation_id,
                "method": op.method.upper(),
                "path": op.path,
                "summary": op.data.get("summary") or "",
                "deprecated": bool(op.data.get("deprecated")),
                "lifecycle": lifecycle,
                "encodings": sorted(op.request),
                "fields": sorted(op.properties),
            }
        )
    statuses = {
        int(status)
        for op in spec.operations.values()
        for status in (op.data.get("responses") or {})
        if str(status).isdigit() and int(status) >= 400
    }
    models = resolve_models(spec.catalogs["models"].data)
    for model in models.values():  # the client states several replacements as one piece of advice
        life = model.get("lifecycle") or {}
        if isinstance(life.get("replacement"), list):
            model["lifecycle"] = {**life, "replacement": " or ".join(life["replacement"])}
        _schema_bounds(spec, model)
    providers = resolve_providers(spec.catalogs["providers"].data, models) if "providers" in spec.catalogs else {}
    provider_params = sorted(
        (
            {
                setting.get("param") or name
                for p in providers.values()
                for group in ("url_params", "query", "headers")
                for name, setting in (p.get(group) or {}).items()
            }
            | {p["endpoint"].get("param") or "endpoint" for p in providers.values() if p.get("endpoint")}
            | {p["auth"]["token"]["param"] for p in providers.values() if (p.get("auth") or {}).get("token")}
        )
        - {"organization", "project"}
    )
    #: keyword arguments that take a callable asked for a bearer token before every request
    token_providers = sorted(
        {p["auth"]["token"]["provider_param"] for p in providers.values() if (p.get("auth") or {}).get("token")}
    )
    return {
        "spec_name": spec_name,
        "error_statuses": sorted(statuses),
        "errors": errors(spec.catalogs["errors"].data if "errors" in spec.catalogs else {}),
        "title": info.get("title", ""),
        "api_version": str(info.get("version", "")),
        "project_name": config["project_name_override"],
        "package_name": config["package_name_override"],
        "package_version": config["package_version"],
        "servers": [s.get("url") for s in spec.data.get("servers") or [] if isinstance(s, dict)],
        "operations": operations,
        "models": models,
        "providers": providers,
        "provider_params": provider_params,
        "plain": plain(spec.catalogs["providers"].data if "providers" in spec.catalogs else {}, providers),
        "token_providers": token_providers,
        "results": results(spec, dict(config.get("result_mixins") or {})),
        "facade": facade(spec, config),
        "constraints": constraints(spec),
    }


#: a spec without a provider catalog: a client reads the variables the openai SDK reads
_PLAIN_FALLBACK = {"key_env": "OPENAI_API_KEY", "base_url_env": "OPENAI_BASE_URL"}


def plain(catalog: dict[str, Any], providers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a client without a provider uses: the ``plain`` provider's key and address variables."""
    chosen = providers.get(catalog.get("plain") or "")
    if chosen is None:
        return {"id": None, **_PLAIN_FALLBACK}
    return {
        "id": chosen["id"],
        "key_env": (chosen.get("auth") or {}).get("env") or _PLAIN_FALLBACK["key_env"],
        "base_url_env": chosen.get("base_url_env"),
    }


def _norm(code: str) -> str:
    """A code or type as the client compares it: lower-case, letters and digits only."""
    return "".join(c for c in code.lower() if c.isalnum())


def errors(catalog: dict[str, Any]) -> dict[str, Any]:
    """The error catalog with codes normalised; empty tables without one."""
    classes = catalog.get("classes") or {}
    return {
        "request_id_headers": [h.lower() for h in catalog.get("request_id_headers") or []],
        "classes": {kind: sorted({_norm(c) for c in classes.get(kind) or []}) for kind in _ERROR_KINDS},
        "stream_status": {_norm(code): status for code, status in (catalog.get("stream_status") or {}).items()},
    }


_ERROR_KINDS = ("quota", "content_policy", "model_not_found")


def py(value: Any) -> str:
    """A Python literal for plain data: lists become tuples, mappings keep their order."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(py(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return repr(str(value))  # dates and other scalars YAML may produce


def filters() -> dict[str, Callable[..., Any]]:
    return {"py": py}


# --- response classes ---------------------------------------------------------------------------------

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_") if part)


def _ref_name(schema: Any) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _types(schema: dict[str, Any]) -> tuple[str | None, bool]:
    """The JSON type of a schema and whether null is admitted (``type: [x, "null"]`` or ``anyOf`` with null)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        return (rest[0] if len(rest) == 1 else None), "null" in kind
    return kind, kind == "null"


class _Shapes:
    """Collects the classes the generated reader needs, children before parents."""

    def __init__(self, spec: Spec, mixins: dict[str, str]) -> None:
        self.spec = spec
        self.mixins = mixins
        self.classes: dict[str, dict[str, Any]] = {}
        self.unions: dict[str, list[tuple[str, str]]] = {}

    def root(self, schema: Any) -> str | None:
        name = _ref_name(schema)
        target = self.spec.resolve(schema)
        if name is None or not isinstance(target, dict):
            return None
        branches = target.get("oneOf") or target.get("anyOf")
        if branches and not target.get("properties"):
            members = []
            for branch in branches:
                member = self.root(branch)
                kind = ((self.spec.resolve(branch).get("properties") or {}).get("type") or {}).get("enum") or [None]
                if member:
                    members.append((str(kind[0]), member))
            self.unions[name] = members
            return name
        self.model(name, target)
        return name

    def model(self, name: str, schema: dict[str, Any]) -> None:
        if name in self.classes:
            return
        self.classes[name] = {}  # placeholder against cycles
        required = set(schema.get("required") or [])
        fields = []
        for key, prop in (schema.get("properties") or {}).items():
            field = self.field(name, key, prop)
            field["required"] = key in required
            fields.append(field)
        self.classes.pop(name)
        self.classes[name] = {
            "name": name,
            "doc": (schema.get("description") or name).strip(),
            "fields": fields,
            "mixin": self.mixins.get(name),
        }

    def field(self, owner: str, key: str, prop: Any) -> dict[str, Any]:
        attr = key if key.isidentifier() else "field_" + "".join(c if c.isalnum() else "_" for c in key)
        kind, item, nullable = self.kind(owner, key, prop)
        annotation = f"list[{item}]" if kind == "list" else f"{item} | None"
        return {"key": key, "attr": attr, "kind": kind, "item": item, "nullable": nullable, "annotation": annotation}

    def kind(self, owner: str, key: str, prop: Any) -> tuple[str, str, bool]:
        name = _ref_name(prop)
        schema = self.spec.resolve(prop)
        if not isinstance(schema, dict):
            return "any", "Any", True
        branches = [b for b in (schema.get("anyOf") or []) if self.spec.resolve(b).get("type") != "null"]
        if len(branches) == 1 and len(schema.get("anyOf") or []) == 2:
            kind, item, _ = self.kind(owner, key, branches[0])
            return kind, item, True
        json_type, nullable = _types(schema)
        if json_type == "object" or (json_type is None and "properties" in schema):
            if schema.get("properties"):
                model = name or f"{owner}{_pascal(key)}"
                self.model(model, schema)
                return "model", model, nullable
            return "any", "dict[str, Any]", nullable
        if json_type == "array":
            item_kind, item, _ = self.kind(owner, key, schema.get("items") or {})
            inner = item if item_kind in ("model", "str", "int", "float", "bool") else "Any"
            return "list", inner, nullable
        if json_type in _SCALARS:
            return _SCALARS[json_type], _SCALARS[json_type], nullable
        return "any", "Any", True


def results(spec: Spec, mixins: dict[str, str]) -> dict[str, Any]:
    """Classes for every 200 answer (JSON bodies and stream events), and the event unions by ``type``."""
    shapes = _Shapes(spec, mixins)
    roots: dict[str, dict[str, str | None]] = {}
    for op in spec.operations.values():
        ok = spec.resolve((op.data.get("responses") or {}).get("200")) or {}
        content = ok.get("content") or {}
        roots[op.key] = {
            "json": shapes.root((content.get("application/json") or {}).get("schema")),
            "stream": shapes.root((content.get("text/event-stream") or {}).get("schema")),
        }
    return {"classes": list(shapes.classes.values()), "unions": shapes.unions, "roots": roots}


# --- the facade -------------------------------------------------------------------------------------------


def _is_binary(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "string" and schema.get("format") == "binary"


class _Params:
    """Python annotations for request fields, collecting the ``Literal`` aliases they use."""

    def __init__(self, spec: Spec, literal_fields: dict[str, str]) -> None:
        self.spec = spec
        self.literal_fields = literal_fields
        self.literals: dict[str, list[Any]] = {}
        self.references: dict[str, dict[str, str]] = {}

    def annotation(self, name: str, schema: Any) -> tuple[str, str]:
        """(annotation, kind) where kind is ``value``, ``file``, ``files`` or ``reference``."""
        if name in self.literal_fields:
            return f"{self.literal_fields[name]} | str", "value"
        ref = _ref_name(schema)
        target = self.spec.resolve(schema)
        if not isinstance(target, dict):
            return "Any", "value"
        if ref and "enum" in target:
            self.literals[ref] = list(target["enum"])
            return ref, "value"
        if _is_binary(target):
            return "FileInput", "file"
        branches = [
            b
            for b in (target.get("anyOf") or target.get("oneOf") or [])
            if self.spec.resolve(b).get("type") != "null" and set(self.spec.resolve(b)) != {"required"}
        ]
        if branches:
            parts = [self.annotation(name, b) for b in branches]
            kinds = {kind for _, kind in parts}
            kind = "files" if "files" in kinds else ("file" if "file" in kinds else "value")
            return " | ".join(dict.fromkeys(a for a, _ in parts)), kind
        json_type, _ = _types(target)
        if json_type == "array":
            item, item_kind = self.annotation(name, target.get("items") or {})
            if item_kind == "file":
                return f"Sequence[{item}]", "files"
            return f"Sequence[{item}]", item_kind if item_kind == "reference" else "value"
        if json_type == "object" and ref:
            self.references[ref] = {
                key: _SCALARS.get(_types(self.spec.resolve(p) or {})[0] or "", "Any")
                for key, p in (target.get("properties") or {}).items()
            }
            self.references[ref]["__doc__"] = " ".join((target.get("description") or ref).split())
            return ref, "reference"
        if json_type == "object":
            return "Mapping[str, Any]", "value"
        return _SCALARS.get(json_type or "", "Any"), "value"


def facade(spec: Spec, config: dict[str, Any]) -> dict[str, Any]:
    """Per operation: the facade method and its keyword parameters (merged over request encodings)."""
    methods: dict[str, str] = config.get("methods") or {}
    params = _Params(spec, dict(config.get("literal_fields") or {}))
    operations = []
    for op in spec.operations.values():
        merged: dict[str, dict[str, Any]] = {}
        for encoding, props in sorted(op.request.items()):
            body = spec.resolve(
                (spec.resolve(op.data.get("requestBody")) or {})
                .get("content", {})
                .get({"json": "application/json", "multipart": "multipart/form-data"}[encoding], {})
                .get("schema")
            )
            required = set((body or {}).get("required") or [])
            for name, prop in props.items():
                raw = _raw_property(spec, op, encoding, name)
                annotation, kind = params.annotation(name, raw)
                entry = merged.setdefault(
                    name,
                    {
                        "name": name,
                        "annotations": [],
                        "kinds": [],
                        "encodings": [],
                        "required": True,
                        "doc": "",
                        "array_part": None,
                        "deprecated": False,
                    },
                )
                entry["annotations"].append(annotation)
                entry["kinds"].append(kind)
                entry["encodings"].append(encoding)
                entry["required"] = entry["required"] and name in required
                entry["doc"] = entry["doc"] or _first_sentence(prop.get("description") or "")
                entry["array_part"] = entry["array_part"] or prop.get("x-imagewire-array-part-name")
                entry["deprecated"] = entry["deprecated"] or bool(prop.get("deprecated"))
        fields = []
        for entry in merged.values():
            if entry["name"] == "stream":
                continue
            annotations = list(dict.fromkeys(" | ".join(entry["annotations"]).split(" | ")))
            kinds = set(entry["kinds"])
            entry["annotation"] = " | ".join(annotations)
            entry["kind"] = "files" if "files" in kinds else "file" if "file" in kinds else "value"
            entry["required"] = entry["required"] and len(entry["encodings"]) == len(op.request)
            fields.append(entry)
        fields.sort(
            key=lambda f: (not f["required"], f["name"] != "prompt", f["name"] != "image", f["name"] != "model")
        )
        streams = bool(
            ((spec.resolve((op.data.get("responses") or {}).get("200")) or {}).get("content") or {}).get(
                "text/event-stream"
            )
        )
        operations.append(
            {
                "key": op.key,
                "method": methods.get(op.operation_id, op.operation_id),
                "fields": fields,
                "streams": streams,
                "summary": op.data.get("summary") or "",
                "deprecated": bool(op.data.get("deprecated")),
            }
        )
    return {"operations": operations, "literals": params.literals, "references": params.references}


#: the keywords of a request field's schema the client checks before sending, independent of the catalog
CONSTRAINT_KEYS = ("enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "minItems", "maxItems")


def _alternatives(spec: Spec, schema: Any, depth: int = 0) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema (through ``$ref``, ``anyOf`` and ``oneOf``)."""
    schema = spec.resolve(schema)
    if not isinstance(schema, dict) or depth > 16:
        return []
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        return [alt for branch in branches for alt in _alternatives(spec, branch, depth + 1)]
    kind = schema.get("type")
    kinds = [str(k) for k in (kind if isinstance(kind, list) else [kind]) if k not in ("null", None)]
    if kind == "null" or (isinstance(kind, list) and not kinds):
        return []
    if "string" in kinds and schema.get("format") == "binary":
        return [{"type": "binary"}]
    enum = [v for v in schema.get("enum") or [] if v is not None]
    alt: dict[str, Any] = {"type": "|".join(kinds) or "any"}
    alt.update({key: schema[key] for key in CONSTRAINT_KEYS if key in schema and key != "enum"})
    if enum:
        alt["enum"] = enum
    return [alt]


def constraints(spec: Spec) -> dict[str, Any]:
    """The request fields whose schema states a constraint (``CONSTRAINT_KEYS``): ``table`` maps operation ->
    body encoding -> field -> a name in ``shared``, which holds each distinct list of alternatives once (a
    value passes when one alternative of its kind accepts it)."""
    shared: dict[str, list[dict[str, Any]]] = {}
    table: dict[str, dict[str, dict[str, str]]] = {}
    for op in spec.operations.values():
        for encoding in sorted(op.request):
            fields: dict[str, str] = {}
            for name in op.request[encoding]:
                alternatives = _alternatives(spec, _raw_property(spec, op, encoding, name))
                if not any(set(alt) & set(CONSTRAINT_KEYS) for alt in alternatives):
                    continue
                same = [key for key, alts in shared.items() if alts == alternatives and key.startswith(f"{name}-")]
                key = same[0] if same else f"{name}-{sum(k.startswith(f'{name}-') for k in shared) + 1}"
                shared[key] = alternatives
                fields[name] = key
            table.setdefault(op.key, {})[encoding] = fields
    return {"shared": shared, "table": table}


def _raw_property(spec: Spec, op: Any, encoding: str, name: str) -> Any:
    """The property schema before resolving its own ``$ref`` (so enum references keep their names)."""
    from .spec import _object_properties

    content_type = {"json": "application/json", "multipart": "multipart/form-data"}[encoding]
    body = spec.resolve(op.data.get("requestBody")) or {}
    schema = ((body.get("content") or {}).get(content_type) or {}).get("schema")
    return _object_properties(spec.data, schema).get(name)


def _first_sentence(text: str) -> str:
    """The first paragraph of a description, on one line."""
    return " ".join(text.strip().split("\n\n")[0].split())


def _schema_bounds(spec: Spec, model: dict[str, Any]) -> None:
    """An integer param the catalog leaves unbounded takes the spec's own ``minimum``/``maximum``, so the
    client checks the schema's range before sending as it checks the model's."""
    for op_key, entry in (model.get("operations") or {}).items():
        operation = spec.operations.get(op_key)
        params = (entry or {}).get("params") or {}
        if operation is None:
            continue
        for name, param in list(params.items()):
            schema = operation.properties.get(name) or {}
            kind = schema.get("type")
            kinds: list[Any] = kind if isinstance(kind, list) else [kind]
            if "integer" not in kinds or (param or {}).get("values"):
                continue
            bounds: dict[str, int] = {}
            for key, word in (("min", "minimum"), ("max", "maximum")):
                if word in schema and (param or {}).get(key) is None:
                    bounds[key] = schema[word]
            if bounds:
                params[name] = {**(param or {}), **bounds}
