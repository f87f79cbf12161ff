"""Load the spec (OpenAPI document plus its catalogs) and check it; every problem is reported at once.

The checks, in order: each file parses; every local ``$ref`` resolves; the document is valid OpenAPI
(openapi-spec-validator); the house rules below hold; each catalog is valid under its JSON Schema and
agrees with the document (models, operations, parameters and enum values it names exist).
"""

from __future__ import annotations

import contextlib
import json
import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .load import MAX_BYTES, Document, load
from .problems import Problem, SpecError, pointer, unescape

__all__ = ["CATALOG_KINDS", "ERROR_STATUSES", "Operation", "Spec", "read"]

#: Every operation must declare these responses (besides 200), so callers get a typed error for each.
ERROR_STATUSES = ("400", "401", "403", "404", "409", "413", "415", "422", "429", "500", "502", "503", "default")
#: Catalog kinds the generator understands; each is validated by ``spec/schemas/<kind>.schema.json``.
CATALOG_KINDS = ("models", "providers", "errors")
#: Catalogs every spec must declare (a spec without providers gets a client without presets).
REQUIRED_CATALOGS = ("models",)
CATALOGS_KEY = "x-imagewire-catalogs"
#: The catalog formats belong to the generator, which interprets them.
SCHEMAS = Path(__file__).resolve().parent / "schemas"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_ENCODINGS = {"application/json": "json", "multipart/form-data": "multipart"}


@dataclass
class Operation:
    """One API operation, keyed by the last segment of its path (``generations``, ``edits``, ...)."""

    key: str
    operation_id: str
    method: str
    path: str
    pointer: str
    data: dict[str, Any]
    #: request encoding (``json`` / ``multipart``) -> property name -> property schema (``$ref`` resolved)
    request: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: a dangling ``$ref`` that left a request body unread
    unresolved: str | None = None

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for props in self.request.values():
            merged.update(props)
        return merged


@dataclass
class Spec:
    """A spec that passed every check."""

    openapi: Document
    catalogs: dict[str, Document]
    operations: dict[str, Operation]

    @property
    def data(self) -> dict[str, Any]:
        return self.openapi.data  # type: ignore[no-any-return]

    @property
    def files(self) -> list[Path]:
        """Every file the spec is made of (for hashing), in a stable order."""
        return sorted({self.openapi.path, *(d.path for d in self.catalogs.values())})

    def resolve(self, schema: Any) -> Any:
        return _resolve(self.data, schema)


def read(path: Path, *, max_bytes: int = MAX_BYTES) -> Spec:
    """Load and check the spec rooted at ``path``; raise :class:`SpecError` with every problem found.
    ``max_bytes`` bounds each file, also once its YAML aliases are expanded."""
    path = Path(path)
    base = path.parent
    problems: list[Problem] = []
    doc = load(path, _name(path, base), max_bytes=max_bytes)
    if isinstance(doc, Problem):
        raise SpecError([doc])
    if not isinstance(doc.data, dict):
        raise SpecError([doc.problem("", "the document must be a mapping", "openapi")])

    ref_problems = list(_check_refs(doc))
    problems += ref_problems
    if not ref_problems:  # the validator cannot walk a document with dangling references
        problems += _check_openapi(doc)
    operations, op_problems = _operations(doc)
    problems += op_problems
    problems += _house_rules(doc, operations)

    unread = [op for op in operations.values() if op.unresolved]
    causes = {  # what a catalog's problems with the fields of an unread request body follow from
        op.key: next((p for p in ref_problems if f"$ref {op.unresolved!r} " in p.message), None) for op in unread
    }
    catalogs: dict[str, Document] = {}
    declared = doc.data.get(CATALOGS_KEY, {})
    if not isinstance(declared, dict):
        problems.append(doc.problem(pointer(CATALOGS_KEY), "must map a catalog kind to a file", "catalog"))
        declared = {}
    for kind, file in declared.items():
        where = pointer(CATALOGS_KEY, kind)
        if kind not in CATALOG_KINDS:
            problems.append(
                doc.problem(where, f"unknown catalog kind {kind!r}; known: {', '.join(CATALOG_KINDS)}", "catalog")
            )
            continue
        catalog = load(base / str(file), _name(base / str(file), base), max_bytes=max_bytes)
        if isinstance(catalog, Problem):
            problems.append(catalog)
            continue
        catalogs[kind] = catalog
        fields = _catalog_fields(doc.data, operations) if kind == "models" else None
        schema_problems = list(_check_schema(catalog, SCHEMAS / f"{kind}.schema.json", fields))
        problems += schema_problems
        if not schema_problems and kind == "models":
            problems += _check_models(catalog, operations, doc, causes)
    models = catalogs.get("models")
    providers = catalogs.get("providers")
    if providers is not None and models is not None and not any(p.file == providers.name for p in problems):
        from .catalog import resolve_models, select_models

        # a provider's models_where rule becomes its model table (a broken catalog is reported above)
        with contextlib.suppress(KeyError, RecursionError, AttributeError, TypeError):
            select_models(providers.data, resolve_models(models.data))
        problems += _check_providers(providers, models, operations)
    for kind in REQUIRED_CATALOGS:
        if kind not in declared:
            problems.append(doc.problem(pointer(CATALOGS_KEY), f"the {kind} catalog is not declared", "catalog"))
    if problems:
        raise SpecError(problems)
    return Spec(doc, catalogs, operations)


def _name(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve().parent))
    except ValueError:
        return str(path)


# --- references ------------------------------------------------------------------------------------


def enum_member(value: str) -> str:
    """The member name an enum value gets in the client (before its prefix): ``256x256`` -> ``256X256``."""
    return re.sub(r"[^0-9A-Za-z]+", "_", value).strip("_").upper() or "EMPTY"


def _enum_clashes(doc: Document) -> Iterator[Problem]:
    """String enums whose values would get the same member name in the client (``256x256``, ``256X256``)."""
    for ptr, node in _walk(doc.data):
        values = node.get("enum") if isinstance(node, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            continue
        names = node.get("x-enum-varnames")
        if not isinstance(names, list) or len(names) != len(values):
            names = [enum_member(v) for v in values]
        seen: dict[str, str] = {}
        for value, name in zip(values, names, strict=True):
            other = seen.setdefault(str(name).upper(), value)
            if other != value:
                yield doc.problem(
                    ptr + "/enum",
                    f"enum values {other!r} and {value!r} would both be named {str(name).upper()} in the client",
                    "house:enum-names",
                )


def _walk(node: Any, ptr: str = "") -> Iterator[tuple[str, Any]]:
    yield ptr, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, ptr + pointer(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, ptr + pointer(index))


def _lookup(data: Any, ref: str) -> Any:
    """Resolve a local ``#/...`` reference; KeyError when it does not resolve."""
    if not ref.startswith("#"):
        raise KeyError(ref)
    node = data
    for token in [unescape(t) for t in ref[1:].split("/")[1:]]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise KeyError(ref)
    return node


def _resolve(data: Any, schema: Any, depth: int = 0) -> Any:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < 32:
        schema = _lookup(data, schema["$ref"])
        depth += 1
    return schema


def _check_refs(doc: Document) -> Iterator[Problem]:
    """Dangling references; the later references to one missing target follow from the first."""
    first: dict[str, Problem] = {}
    for problem in _dangling(doc):
        target = problem.message
        yield problem.because(first.get(target))
        first.setdefault(target, problem)


def _dangling(doc: Document) -> Iterator[Problem]:
    for ptr, node in _walk(doc.data):
        if isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            where = ptr + "/$ref"
            if not isinstance(ref, str):
                yield doc.problem(where, "$ref must be a string", "ref")
            elif not ref.startswith("#"):
                yield doc.problem(where, f"$ref {ref!r} points outside the document; keep references local", "ref")
            else:
                try:
                    _lookup(doc.data, ref)
                except KeyError:
                    yield doc.problem(where, f"$ref {ref!r} does not resolve", "ref")


# --- OpenAPI validity --------------------------------------------------------------------------------


def _check_openapi(doc: Document) -> Iterator[Problem]:
    version = str(doc.data.get("openapi", ""))
    if not version.startswith("3.1"):
        yield doc.problem("/openapi", f"expected OpenAPI 3.1.x, found {version or 'nothing'!r}", "openapi")
        return
    from openapi_spec_validator import OpenAPIV31SpecValidator

    try:
        for err in OpenAPIV31SpecValidator(doc.data).iter_errors():
            yield doc.problem(pointer(*err.absolute_path), _first_line(err.message), "openapi")
    except Exception as err:  # the validator raises on some malformed documents instead of yielding
        yield doc.problem("", f"openapi-spec-validator failed: {_first_line(str(err))}", "openapi")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "invalid"
    return line if len(line) <= 300 else line[:297] + "..."


# --- operations and house rules ----------------------------------------------------------------------


def _operations(doc: Document) -> tuple[dict[str, Operation], list[Problem]]:
    operations: dict[str, Operation] = {}
    problems: list[Problem] = []
    paths = doc.data.get("paths")
    if not isinstance(paths, dict) or not paths:
        return operations, [doc.problem("/paths", "the document declares no operations", "house")]
    seen_ids: dict[str, str] = {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            where = pointer("paths", path, method)
            op_id = op.get("operationId")
            if not isinstance(op_id, str) or not op_id:
                problems.append(doc.problem(where, "operation has no operationId", "house:operation-id"))
                continue
            if op_id in seen_ids:
                problems.append(
                    doc.problem(
                        where + "/operationId",
                        f"operationId {op_id!r} is also used at {seen_ids[op_id]}",
                        "house:operation-id",
                    )
                )
                continue
            seen_ids[op_id] = where
            key = path.rstrip("/").rsplit("/", 1)[-1]
            if key in operations:
                problems.append(
                    doc.problem(where, f"two operations share the catalog key {key!r}", "house:operation-id")
                )
                continue
            operation = Operation(key, op_id, method, path, where, op)
            try:  # a dangling reference is reported by the reference check; what it hides follows from it
                operation.request, operation.unresolved = _request_properties(doc.data, op)
            except KeyError as err:
                operation.unresolved = str(err.args[0])
            operations[key] = operation
    return operations, problems


def _request_properties(data: Any, op: dict[str, Any]) -> tuple[dict[str, dict[str, dict[str, Any]]], str | None]:
    """Each body's properties, resolved, and the dangling ``$ref`` that left a body unread (or None).

    A property whose own ``$ref`` dangles stays, unresolved (``{}``), so the catalog's checks of it are not
    repeated as "no such field". KeyError when the request body itself cannot be read."""
    body = _resolve(data, op.get("requestBody"))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    unread: str | None = None
    if not isinstance(body, dict):
        return out, unread
    for content_type, media in (body.get("content") or {}).items():
        encoding = _ENCODINGS.get(content_type)
        if encoding is None or not isinstance(media, dict):
            continue
        props: dict[str, dict[str, Any]] = {}
        try:
            declared = _object_properties(data, media.get("schema"))
        except KeyError as err:  # this body's schema dangles; the other bodies are still read
            unread = unread or str(err.args[0])
            continue
        for name, schema in declared.items():
            try:
                props[name] = _resolve(data, schema)
            except KeyError:  # reported by the reference check
                props[name] = {}
        out[encoding] = props
    return out, unread


def _object_properties(data: Any, schema: Any) -> dict[str, Any]:
    schema = _resolve(data, schema)
    props: dict[str, Any] = {}
    if not isinstance(schema, dict):
        return props
    for part in schema.get("allOf", []):
        props.update(_object_properties(data, part))
    props.update(schema.get("properties") or {})
    return props


def _house_rules(doc: Document, operations: dict[str, Operation]) -> Iterator[Problem]:
    if "tags" not in doc.data:
        yield doc.problem("", "declare the tags the operations use", "house:tags")
    for op in operations.values():
        responses = op.data.get("responses") or {}
        if "200" not in responses:
            yield doc.problem(op.pointer + "/responses", "no 200 response", "house:responses")
        missing = [status for status in ERROR_STATUSES if status not in responses]
        if missing:
            yield doc.problem(
                op.pointer + "/responses",
                f"operation {op.operation_id} does not declare its error responses: {', '.join(missing)}",
                "house:errors",
            )
        if len(op.data.get("tags") or []) != 1:
            yield doc.problem(op.pointer + "/tags", "each operation needs exactly one tag", "house:tags")
        body = op.data.get("requestBody")
        if body is not None:
            yield from _no_defaults(doc, body, op.pointer + "/requestBody", set())
    yield from _enum_clashes(doc)
    for ptr, node in _walk(doc.data):
        if isinstance(node, dict) and "enum" in node and isinstance(node.get("type"), list) and "null" in node["type"]:
            yield doc.problem(
                ptr,
                'nullable enum written as type: [..., "null"]; write anyOf: [{$ref: <enum>}, {type: "null"}]',
                "house:nullable-enum",
            )


def _no_defaults(doc: Document, node: Any, ptr: str, seen: set[str]) -> Iterator[Problem]:
    """Request schemas carry no ``default``: the engine would send every default on the wire."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return
            seen.add(ref)
            try:
                target = _lookup(doc.data, ref)
            except KeyError:
                return
            yield from _no_defaults(doc, target, ref[1:], seen)
            return
        for key, value in node.items():
            if key == "default" and not ptr.endswith("/properties"):
                yield doc.problem(
                    ptr + "/default",
                    "a request schema declares a default; the client would send it on every call "
                    "(state server defaults in the description or the model catalog)",
                    "house:request-default",
                )
            elif key not in ("example", "examples"):
                yield from _no_defaults(doc, value, ptr + pointer(key), seen)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _no_defaults(doc, value, ptr + pointer(index), seen)


# --- catalogs -----------------------------------------------------------------------------------------


#: request properties that are not catalog params: implied (prompt, model) or described by images/mask
NOT_PARAMS = frozenset({"prompt", "model", "image", "images", "mask"})
#: (field name, catalog shape) pairs; the shape names a ``$defs`` entry of models.schema.json
CatalogFields = tuple[tuple[str, str], ...]


def _catalog_fields(data: Any, operations: dict[str, Operation]) -> CatalogFields:
    """Every request field of the spec with the shape its catalog entry takes, derived from its schema:
    ``size`` (fixed values and a free ``WxH`` pattern), ``stringValues`` (an enum), ``booleanValues``,
    ``range`` (an integer), else ``accepted``. Mask and the implied fields are named for rules only (``rule``)."""
    shapes: dict[str, str] = {}
    for op in operations.values():
        for props in op.request.values():
            for name, prop in props.items():
                if name in shapes:
                    continue
                values, patterns = _admissible(data, prop)
                kinds = {b.get("type") for b in _branches(data, prop)}
                if name in NOT_PARAMS:
                    shapes[name] = "rule"
                elif patterns and values:
                    shapes[name] = "size"
                elif "boolean" in kinds:
                    shapes[name] = "booleanValues"
                elif values:
                    shapes[name] = "stringValues"
                elif "integer" in kinds:
                    shapes[name] = "range"
                else:
                    shapes[name] = "accepted"
    return tuple(sorted(shapes.items()))


def _branches(data: Any, schema: Any) -> list[dict[str, Any]]:
    try:
        schema = _resolve(data, schema)
    except KeyError:  # a dangling reference, reported by the reference check
        return []
    if not isinstance(schema, dict):
        return []
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return [b for branch in alternatives for b in _branches(data, branch)]
    kind = schema.get("type")
    return [{**schema, "type": k} for k in kind] if isinstance(kind, list) else [schema]


_DEFAULT_TYPES = {"range": "integer", "booleanValues": "boolean"}


@cache
def _validator(schema_path: Path, fields: CatalogFields | None = None) -> Any:
    """The catalog's validator. For the model catalog, the field names and their shapes come from the spec
    (``fields``): ``params``, ``defaults`` and the ``fieldName`` rules may use are filled in here, so a new
    request field needs no edit of the schema file."""
    import jsonschema

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    defs = schema.get("$defs") or {}
    if fields is not None and {"params", "defaults", "fieldName"} <= set(defs):
        # a name the spec does not have is left to the cross-checks, which say which operation lacks it
        defs["fieldName"] = {"description": defs["fieldName"].get("description", ""), "type": "string"}
        defs["params"]["properties"] = {n: {"$ref": f"#/$defs/{shape}"} for n, shape in fields if shape != "rule"}
        defs["params"]["additionalProperties"] = True
        defs["defaults"]["properties"] = {
            n: {"type": _DEFAULT_TYPES.get(shape, "string")} for n, shape in fields if shape not in ("rule", "accepted")
        }
        defs["defaults"]["additionalProperties"] = True
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _check_schema(catalog: Document, schema_path: Path, fields: CatalogFields | None = None) -> Iterator[Problem]:
    if not schema_path.is_file():
        yield catalog.problem("", f"no schema for this catalog at {schema_path.name}", "catalog-schema")
        return
    from jsonschema.exceptions import best_match

    validator = _validator(schema_path, fields)
    for err in sorted(validator.iter_errors(catalog.data), key=lambda e: list(map(str, e.absolute_path))):
        if err.context:  # anyOf / oneOf: name the branch error that went deepest
            deepest = max(len(e.absolute_path) for e in err.context)
            err = best_match(e for e in err.context if len(e.absolute_path) == deepest) or err
        yield catalog.problem(pointer(*err.absolute_path), _first_line(err.message), "catalog-schema")


def _admissible(data: Any, schema: Any) -> tuple[set[Any] | None, list[str]]:
    """The values a request property admits: (enum values or None when unconstrained, regex patterns)."""
    try:
        schema = _resolve(data, schema)
    except KeyError:  # a dangling reference, reported by the reference check
        return None, []
    if not isinstance(schema, dict):
        return None, []
    if "enum" in schema:
        return set(schema["enum"]), []
    if "const" in schema:
        return {schema["const"]}, []
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        values: set[Any] = set()
        patterns: list[str] = []
        for branch in branches:
            branch_values, branch_patterns = _admissible(data, branch)
            try:
                branch_schema = _resolve(data, branch)
            except KeyError:  # a dangling reference, reported by the reference check
                return None, []
            if branch_values is None and not branch_patterns:
                if isinstance(branch_schema, dict) and branch_schema.get("type") == "null":
                    continue
                return None, []
            values |= branch_values or set()
            patterns += branch_patterns
        return values, patterns
    if schema.get("type") == "boolean":
        return {True, False}, []
    if "pattern" in schema:
        return set(), [schema["pattern"]]
    return None, []


_RULE_FIELDS = (("if", "field"), ("then", "field"))


def _check_models(
    catalog: Document,
    operations: dict[str, Operation],
    doc: Document,
    causes: dict[str, Problem | None] | None = None,
) -> Iterator[Problem]:
    """The model catalog against the document. ``causes``: per operation whose request body could not be
    read, the dangling reference its missing fields follow from."""
    from .catalog import resolve_models

    models: dict[str, Any] = catalog.data.get("models", {})
    try:  # params inherited through extends count for defaults and rules
        resolved = resolve_models(catalog.data)
    except (KeyError, RecursionError):  # a broken extends chain, reported below
        resolved = {}
    chains = list(_check_chains(catalog, models))
    yield from chains
    broken = {model_id for model_id in models if _chain_broken(models, model_id)}
    for model_id, model in models.items():
        at = pointer("models", model_id)
        if "snapshot_of" in model and model["snapshot_of"] not in models:
            yield catalog.problem(at + "/snapshot_of", f"unknown model {model['snapshot_of']!r}", "catalog:model-ref")
        replacement: Any = (model.get("lifecycle") or {}).get("replacement")
        several = isinstance(replacement, list)
        for index, named in enumerate(replacement if several else [] if replacement is None else [replacement]):
            if named not in models:
                where = at + "/lifecycle/replacement" + (pointer(index) if several else "")
                yield catalog.problem(where, f"unknown model {named!r}", "catalog:model-ref")
        for op_key, spec_op in (model.get("operations") or {}).items():
            op_at = at + pointer("operations", op_key)
            operation = operations.get(op_key)
            if operation is None:
                yield catalog.problem(
                    op_at, f"no operation {op_key!r} in the spec; known: {', '.join(operations)}", "catalog:operation"
                )
                continue
            inherited = ((resolved.get(model_id) or {}).get("operations") or {}).get(op_key) or {}
            body_cause = (causes or {}).get(op_key)
            for problem in _check_model_operation(
                catalog, doc, operation, spec_op or {}, op_at, set(inherited.get("params") or {})
            ):
                if problem.rule in ("catalog:param", "catalog:rule"):  # a field that went missing with them
                    chain_cause = chains[0] if model_id in broken and chains else None
                    problem = problem.because(body_cause or chain_cause)
                yield problem
        tokens = (model.get("answer") or {}).get("output_tokens") or {}
        flat_ops = (resolved.get(model_id) or {}).get("operations") or {}
        qualities = {
            value
            for op in flat_ops.values()
            for value in (((op or {}).get("params") or {}).get("quality") or {}).get("values") or ()
        }
        for quality in tokens:
            if resolved and quality not in qualities:
                yield catalog.problem(
                    at + pointer("answer", "output_tokens", quality),
                    f"{model_id} takes no quality {quality!r}; it takes {', '.join(sorted(qualities)) or 'none'}",
                    "catalog:value",
                )


def _chain_broken(models: dict[str, Any], model_id: str) -> bool:
    """Whether ``extends`` from ``model_id`` ends at no model or runs in a cycle (its inherited params are lost)."""
    seen = [model_id]
    parent = models[model_id].get("extends")
    while parent is not None:
        if parent not in models or parent in seen:
            return True
        seen.append(parent)
        parent = models[parent].get("extends")
    return False


def _check_chains(catalog: Document, models: dict[str, Any]) -> Iterator[Problem]:
    """``extends`` naming no model, and ``extends`` cycles."""
    for model_id, model in models.items():
        at = pointer("models", model_id)
        if "extends" in model and model["extends"] not in models:
            yield catalog.problem(at + "/extends", f"unknown model {model['extends']!r}", "catalog:model-ref")
        chain = [model_id]
        parent = model.get("extends")
        while parent in models:
            if parent in chain:
                yield catalog.problem(
                    at + "/extends", f"extends cycle: {' -> '.join([*chain, parent])}", "catalog:model-ref"
                )
                break
            chain.append(parent)
            parent = models[parent].get("extends")


def _check_model_operation(
    catalog: Document, doc: Document, operation: Operation, model_op: dict[str, Any], at: str, inherited: set[str]
) -> Iterator[Problem]:
    props = operation.properties
    params: dict[str, Any] = model_op.get("params") or {}
    known = set(params) | inherited
    for name, constraint in params.items():
        where = at + pointer("params", name)
        if name not in props:
            yield catalog.problem(where, f"{operation.operation_id} has no request field {name!r}", "catalog:param")
            continue
        allowed, patterns = _admissible(doc.data, props[name])
        for index, value in enumerate((constraint or {}).get("values", [])):
            if allowed is None:
                continue
            if value in allowed or (isinstance(value, str) and any(re.fullmatch(p, value) for p in patterns)):
                continue
            yield catalog.problem(
                where + pointer("values", index),
                f"{value!r} is not a value of {name} in the spec ({', '.join(sorted(map(str, allowed)))})",
                "catalog:enum",
            )
        if "min" in constraint and "max" in constraint and constraint["min"] > constraint["max"]:
            yield catalog.problem(where, f"min {constraint['min']} is above max {constraint['max']}", "catalog:range")
        rule = (constraint or {}).get("rule")
        if rule:
            aspect = rule.get("aspect")
            if aspect and _ratio(aspect["min"]) > _ratio(aspect["max"]):
                yield catalog.problem(
                    where + "/rule/aspect",
                    f"aspect range {aspect['min']}..{aspect['max']} is empty (min above max)",
                    "catalog:size-rule",
                )
    for default_name in model_op.get("defaults") or {}:
        if default_name not in known:
            yield catalog.problem(
                at + pointer("defaults", default_name),
                f"default for {default_name!r}, which is not a param",
                "catalog:param",
            )
    for index, rule in enumerate(model_op.get("rules") or []):
        for part, key in _RULE_FIELDS:
            name = rule[part][key]
            if name not in known and name not in props:
                yield catalog.problem(
                    at + pointer("rules", index, part, key),
                    f"rule {rule.get('id')!r} names unknown field {name!r}",
                    "catalog:rule",
                )
    counts = model_op.get("images") or {}
    if counts.get("min_count", 1) > counts.get("max_count", 1 << 30):
        yield catalog.problem(at + "/images", "min_count is above max_count", "catalog:range")


def _ratio(text: str) -> float:
    width, height = text.split(":")
    return float(width) / float(height)


def _check_default_models(
    catalog: Document, at: str, defaults: Any, models: dict[str, Any], operations: dict[str, Operation]
) -> Iterator[Problem]:
    """A default model per operation: the operation exists, the model exists and offers it."""
    for op_key, model_id in (defaults or {}).items() if isinstance(defaults, dict) else ():
        where = at + pointer("default_models", op_key)
        if op_key not in operations:
            yield catalog.problem(
                where, f"no operation {op_key!r} in the spec; known: {', '.join(operations)}", "catalog:operation"
            )
        elif model_id not in models:
            yield catalog.problem(where, f"unknown model {model_id!r}", "catalog:model-ref")
        elif op_key not in (models[model_id].get("operations") or {}):
            yield catalog.problem(where, f"{model_id} does not offer {op_key}", "catalog:model-ref")


def _check_providers(catalog: Document, models_doc: Document, operations: dict[str, Operation]) -> Iterator[Problem]:
    """Providers name operations and models that exist, narrow only what models have, price what they sell."""
    from .catalog import resolve_models

    try:
        models = resolve_models(models_doc.data)
    except (KeyError, RecursionError):  # reported by the model checks
        return
    yield from _check_default_models(catalog, "", catalog.data.get("default_models"), models, operations)
    plain = catalog.data.get("plain")
    if plain is not None and plain not in (catalog.data.get("providers") or {}):
        yield catalog.problem(pointer("plain"), f"no provider {plain!r} in the catalog", "catalog:provider-ref")
    for provider_id, provider in (catalog.data.get("providers") or {}).items():
        at = pointer("providers", provider_id)
        yield from _check_default_models(catalog, at, provider.get("default_models"), models, operations)
        table = provider.get("models")
        serving = set(table) if isinstance(table, dict) else set(models)
        for index, quirk in enumerate(provider.get("quirks") or ()):
            for model_id in (quirk or {}).get("models") or ():
                if model_id not in serving:
                    yield catalog.problem(
                        at + pointer("quirks", index, "models"),
                        f"the quirk names {model_id!r}, which {provider_id} does not serve",
                        "catalog:model-ref",
                    )
        offered = provider.get("operations") or []
        for index, op_key in enumerate(offered):
            if op_key not in operations:
                yield catalog.problem(
                    at + pointer("operations", index),
                    f"no operation {op_key!r} in the spec; known: {', '.join(operations)}",
                    "catalog:operation",
                )
        base_url = provider.get("base_url")
        params = provider.get("url_params") or {}
        if isinstance(base_url, str):
            used = set(re.findall(r"{([^{}]*)}", base_url))
            for name in sorted(used - set(params)):
                yield catalog.problem(
                    at + "/base_url", f"placeholder {{{name}}} has no url_params entry", "catalog:url"
                )
            for name in sorted(set(params) - used):
                yield catalog.problem(
                    at + pointer("url_params", name), f"{name} is not used in base_url", "catalog:url"
                )
        yield from _check_arguments(catalog, at, provider)
        table = provider.get("models")
        if provider.get("policy") == "known" and not isinstance(table, dict):
            yield catalog.problem(
                at + "/policy", "a known policy needs a model table, not `models: any`", "catalog:policy"
            )
        if isinstance(table, dict):
            yield from _check_table(catalog, at + "/models", table, models, offered)
        yield from _check_api_versions(catalog, at, provider, models, offered)
        for index, price in enumerate(provider.get("prices") if isinstance(provider.get("prices"), list) else []):
            where = at + pointer("prices", index)
            model_id = price["model"]
            if model_id == "*":
                continue
            if model_id not in models or (isinstance(table, dict) and model_id not in table):
                yield catalog.problem(
                    where + "/model", f"price for {model_id!r}, which {provider_id} does not offer", "catalog:price"
                )
                continue
            served = _merge_override(models[model_id], table.get(model_id) if isinstance(table, dict) else None)
            rules = ((served.get("operations") or {}).get("generations") or {}).get("params") or {}
            size_problem = _price_size(price["size"], rules.get("size"))
            if size_problem:
                yield catalog.problem(where + "/size", f"{model_id} at {provider_id}: {size_problem}", "catalog:price")
            qualities = (rules.get("quality") or {}).get("values")
            if "quality" in price and qualities is not None and price["quality"] not in qualities:
                yield catalog.problem(
                    where + "/quality",
                    f"{model_id} has no quality {price['quality']!r} ({', '.join(map(str, qualities))})",
                    "catalog:price",
                )
        for index, price in enumerate(provider.get("token_prices") or []):
            model_id = price["model"]
            if model_id not in models or (isinstance(table, dict) and model_id not in table):
                yield catalog.problem(
                    at + pointer("token_prices", index, "model"),
                    f"token prices for {model_id!r}, which {provider_id} does not offer",
                    "catalog:price",
                )


def _check_arguments(catalog: Document, at: str, provider: dict[str, Any]) -> Iterator[Problem]:
    """Every setting and token becomes a Client keyword argument: an identifier, reserved by nothing else."""
    places: list[tuple[str, str]] = []
    for group in ("url_params", "query", "headers"):
        for name, item in (provider.get(group) or {}).items():
            spot = at + pointer(group, name) + ("/param" if (item or {}).get("param") else "")
            places.append((spot, (item or {}).get("param") or name))
    if provider.get("endpoint"):
        places.append((at + "/endpoint/param", provider["endpoint"].get("param") or "endpoint"))
        if not isinstance(provider.get("base_url"), str):
            yield catalog.problem(
                at + "/endpoint", "an endpoint replaces the host of base_url; there is none", "catalog:url"
            )
    token = (provider.get("auth") or {}).get("token") or {}
    for key in ("param", "provider_param"):
        if key in token:
            places.append((at + pointer("auth", "token", key), token[key]))
    seen: set[str] = set()
    for spot, param in places:
        if not param.isidentifier() or keyword.iskeyword(param) or param in RESERVED_PARAMS or param in seen:
            yield catalog.problem(
                spot,
                f"{param!r} cannot be a Client argument; give the setting a `param` that is a Python "
                f"identifier other than {', '.join(sorted(RESERVED_PARAMS - {'self'}))} and the other settings",
                "catalog:setting",
            )
        seen.add(param)


def _check_table(
    catalog: Document, at: str, table: dict[str, Any], models: dict[str, Any], offered: list[str]
) -> Iterator[Problem]:
    for model_id, override in table.items():
        where = at + pointer(model_id)
        if model_id not in models:
            yield catalog.problem(where, f"unknown model {model_id!r}", "catalog:model-ref")
            continue
        yield from _check_override(catalog, where, models[model_id], override or {}, offered)


def _check_api_versions(
    catalog: Document, at: str, provider: dict[str, Any], models: dict[str, Any], offered: list[str]
) -> Iterator[Problem]:
    """Each api-version narrows the provider: a setting called api-version to select it, its placeholders
    among url_params, its operations among the provider's, its model table only narrowing."""
    versions = provider.get("api_versions") or {}
    if versions and "api-version" not in (provider.get("query") or {}):
        yield catalog.problem(
            at + "/api_versions", "api_versions need a query setting called api-version", "catalog:url"
        )
    params = set(provider.get("url_params") or {})
    for name, version in versions.items():
        where = at + pointer("api_versions", str(name))
        base_url = version.get("base_url")
        if isinstance(base_url, str):
            for placeholder in sorted(set(re.findall(r"{([^{}]*)}", base_url)) - params):
                yield catalog.problem(
                    where + "/base_url", f"placeholder {{{placeholder}}} has no url_params entry", "catalog:url"
                )
        if version.get("deployment_as_model") and "deployment" not in params:
            yield catalog.problem(where + "/deployment_as_model", "there is no deployment setting", "catalog:url")
        narrowed = version.get("operations") or offered
        for index, op_key in enumerate(version.get("operations") or []):
            if op_key not in offered:
                yield catalog.problem(
                    where + pointer("operations", index), f"the provider does not offer {op_key}", "catalog:operation"
                )
        yield from _check_table(catalog, where + "/models", version.get("models") or {}, models, narrowed)


def _merge_override(model: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    from .catalog import _merge

    merged: dict[str, Any] = _merge(model, override or {})
    return merged


def _price_size(size: str, constraint: dict[str, Any] | None) -> str | None:
    """Why a priced size is not one the model takes, or None."""
    if size == "*" or constraint is None:
        return None
    values = constraint.get("values") or []
    if size in values:
        return None
    rule = constraint.get("rule")
    if rule is None or "x" not in size:
        return f"no size {size!r} ({', '.join(map(str, values))})"
    width, height = (int(side) for side in size.split("x"))
    step = rule.get("multiple_of") or 1
    aspect = rule.get("aspect") or {}
    checks = [
        (width % step == 0 and height % step == 0, f"sides must be multiples of {step}"),
        (max(width, height) <= rule.get("max_side", 1 << 30), f"sides must be at most {rule.get('max_side')}"),
        (min(width, height) >= rule.get("min_side", 0), f"sides must be at least {rule.get('min_side')}"),
        (width * height <= rule.get("max_pixels", 1 << 62), f"at most {rule.get('max_pixels')} pixels"),
        (width * height >= rule.get("min_pixels", 0), f"at least {rule.get('min_pixels')} pixels"),
        (not aspect or _ratio(aspect["min"]) <= width / height <= _ratio(aspect["max"]), "aspect out of range"),
    ]
    failed = [why for ok, why in checks if not ok]
    return f"size {size!r} breaks the size rule: {'; '.join(failed)}" if failed else None


def _check_override(
    catalog: Document, at: str, model: dict[str, Any], override: dict[str, Any], offered: list[str]
) -> Iterator[Problem]:
    """A provider may only narrow what the model allows, for operations the provider offers."""
    for op_key, op_override in (override.get("operations") or {}).items():
        where = at + pointer("operations", op_key)
        model_op = (model.get("operations") or {}).get(op_key)
        if model_op is None:
            yield catalog.problem(where, f"the model does not offer {op_key}", "catalog:override")
            continue
        if op_key not in offered:
            yield catalog.problem(where, f"the provider does not offer {op_key}", "catalog:override")
        for name, narrowed in ((op_override or {}).get("params") or {}).items():
            spot = where + pointer("params", name)
            wide = (model_op.get("params") or {}).get(name)
            if wide is None:
                yield catalog.problem(
                    spot, f"{name!r} is not a param of the model; a provider can only narrow a rule", "catalog:override"
                )
                continue
            yield from (catalog.problem(spot, why, "catalog:override") for why in _widening(narrowed or {}, wide))
        for part in ("images", "mask"):
            narrowed_files, wide_files = (op_override or {}).get(part), model_op.get(part)
            if narrowed_files is None:
                continue
            spot = where + pointer(part)
            if wide_files is None:
                yield catalog.problem(
                    spot, f"the model takes no {part}; a provider can only narrow a rule", "catalog:override"
                )
                continue
            yield from (
                catalog.problem(spot, why, "catalog:override") for why in _widening_files(narrowed_files, wide_files)
            )


def _widening(narrowed: dict[str, Any], wide: dict[str, Any]) -> Iterator[str]:
    extra = [v for v in narrowed.get("values") or [] if v not in (wide.get("values") or [])]
    if extra and not wide.get("rule"):
        yield f"values {extra} are not allowed by the model; a provider can only narrow a rule"
    if "min" in narrowed and "min" in wide and narrowed["min"] < wide["min"]:
        yield f"min {narrowed['min']} is below the model's {wide['min']}; a provider can only narrow a rule"
    if "max" in narrowed and "max" in wide and narrowed["max"] > wide["max"]:
        yield f"max {narrowed['max']} is above the model's {wide['max']}; a provider can only narrow a rule"
    if narrowed.get("rule") and not wide.get("rule"):
        yield "a size rule where the model has none; a provider can only narrow a rule"


def _widening_files(narrowed: dict[str, Any], wide: dict[str, Any]) -> Iterator[str]:
    extra = [f for f in narrowed.get("formats") or [] if f not in (wide.get("formats") or [])]
    if extra:
        yield f"formats {extra} are not taken by the model; a provider can only narrow a rule"
    for key in ("max_bytes", "max_count"):
        if key in narrowed and key in wide and narrowed[key] > wide[key]:
            yield f"{key} {narrowed[key]} is above the model's {wide[key]}; a provider can only narrow a rule"
    if "min_count" in narrowed and "min_count" in wide and narrowed["min_count"] < wide["min_count"]:
        yield f"min_count {narrowed['min_count']} is below the model's {wide['min_count']}; a provider can only narrow a rule"


#: Client keyword arguments a provider setting may not take as its parameter name
RESERVED_PARAMS = frozenset(
    {
        "self",
        "api_key",
        "base_url",
        "provider",
        "model",
        "timeout",
        "max_retries",
        "http_client",
        "default_headers",
        "default_query",
        "validate",
        "auth_header",
        "models",
        "allow_retired",
        "sleep",
        "deployments",
    }
)
