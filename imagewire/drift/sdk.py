"""The installed ``openai`` package's image types, read as a :class:`Surface` without importing the SDK.

The type modules are parsed (``ast``), not imported: that is offline, free of import side effects, about
ten times faster than ``import openai``, and it keeps what only the source holds, the attribute docstrings
(bounds such as "between 1 and 10", and the "Deprecated values" notes that carry the model lifecycle).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from imagewire.generator.surface import Field, Lifecycle, Surface

__all__ = ["SDKUnreadable", "from_sdk", "sdk_folder"]

#: scope -> (module in openai/types, class)
SCOPES = {
    "generations.json": ("image_generate_params", "ImageGenerateParamsNonStreaming"),
    "edits.multipart": ("image_edit_params", "ImageEditParamsNonStreaming"),
    "variations.multipart": ("image_create_variation_params", "ImageCreateVariationParams"),
    "response": ("images_response", "ImagesResponse"),
}
EVENTS = (
    ("image_gen_partial_image_event", "ImageGenPartialImageEvent"),
    ("image_gen_completed_event", "ImageGenCompletedEvent"),
    ("image_edit_partial_image_event", "ImageEditPartialImageEvent"),
    ("image_edit_completed_event", "ImageEditCompletedEvent"),
)
MODELS = ("image_model", "ImageModel")

_SCALARS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "FileTypes": "binary"}
_ARRAYS = {"List", "list", "Sequence", "SequenceNotStr", "Iterable"}
_BOUND_PATTERNS = (
    (re.compile(r"between (\d+) and (\d+)"), ("minimum", "maximum")),
    (re.compile(r"from (\d+) through (\d+)"), ("minimum", "maximum")),
    (re.compile(r"\((\d+)-(\d+)%\)"), ("minimum", "maximum")),
    (re.compile(r"maximum length is (\d+) characters"), ("maxLength",)),
    (re.compile(r"up to (\d+) images"), ("maxItems",)),
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(rf"(?:{_MONTHS}) \d{{1,2}}, \d{{4}}")


class SDKUnreadable(Exception):
    """The openai package is not installed, or its image types are not where they are expected."""


def sdk_folder() -> Path:
    """``openai/types`` of the installed package (found without importing it)."""
    try:
        spec = importlib.util.find_spec("openai")
    except (ImportError, ValueError) as err:  # pragma: no cover - a broken installation
        raise SDKUnreadable(f"cannot find the openai package: {err}") from err
    if spec is None or not spec.submodule_search_locations:
        raise SDKUnreadable("the openai package is not installed in this environment")
    return Path(next(iter(spec.submodule_search_locations))) / "types"


def sdk_version() -> str:
    try:
        from importlib.metadata import version

        return version("openai")
    except Exception:  # pragma: no cover - an installed package always has metadata
        return "unknown"


@dataclass
class _Type:
    types: set[str] = field(default_factory=set)
    enum: set[str] = field(default_factory=set)
    open: bool = False
    required: bool | None = None  # Required[...] / NotRequired[...] wrappers
    objects: list[tuple[str, str]] = field(default_factory=list)  # (module, class)
    items: list[_Type] = field(default_factory=list)


class _Modules:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.cache: dict[str, ast.Module] = {}

    def tree(self, module: str) -> ast.Module:
        if module not in self.cache:
            path = self.folder / f"{module}.py"
            try:
                self.cache[module] = ast.parse(path.read_text(encoding="utf-8"), str(path))
            except (OSError, SyntaxError) as err:
                raise SDKUnreadable(f"cannot read {path}: {err}") from err
        return self.cache[module]

    def lookup(self, module: str, name: str) -> tuple[str, ast.AST] | None:
        """Where ``name`` is defined as seen from ``module``: a class, a type alias, or an import to follow."""
        tree = self.tree(module)
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == name:
                return module, node
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
                return module, node
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return module, node
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                for alias in node.names:
                    if (alias.asname or alias.name) == name and (self.folder / f"{node.module}.py").is_file():
                        return self.lookup(node.module, alias.name)
        return None

    def annotation(self, module: str, node: ast.expr | None) -> _Type:
        out = _Type()
        if node is None:
            return out
        if isinstance(node, ast.Constant):
            if node.value is None:
                return out
            if isinstance(node.value, str):  # a forward reference
                return self.annotation(module, ast.parse(node.value, mode="eval").body)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _merge(self.annotation(module, node.left), self.annotation(module, node.right))
        if isinstance(node, ast.Attribute):
            node = ast.Name(node.attr)
        if isinstance(node, ast.Name):
            if node.id in _SCALARS:
                out.types.add(_SCALARS[node.id])
                out.open = node.id == "str"
                return out
            found = self.lookup(module, node.id)
            if found is None:
                return out
            where, definition = found
            if isinstance(definition, ast.ClassDef):
                out.types.add("object")
                out.objects.append((where, definition.name))
                return out
            if isinstance(definition, ast.AnnAssign | ast.Assign):
                return self.annotation(where, definition.value)
            return out
        if isinstance(node, ast.Subscript):
            head = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
            args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            if head == "Literal":
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, bool):
                        out.types.add("boolean")
                    elif isinstance(arg, ast.Constant):
                        out.types.add("string")
                        out.enum.add(str(arg.value))
                return out
            if head in ("Optional", "Union"):
                merged = _Type()
                for arg in args:
                    merged = _merge(merged, self.annotation(module, arg))
                return merged
            if head in ("Required", "NotRequired"):
                inner = self.annotation(module, args[0])
                inner.required = head == "Required"
                return inner
            if head in _ARRAYS:
                out.types.add("array")
                out.items.append(self.annotation(module, args[0]))
                return out
            if head in ("Dict", "dict", "Mapping"):
                out.types.add("object")
                return out
        return out

    def fields(self, module: str, cls: str) -> list[tuple[str, _Type, str, bool]]:
        """(name, type, docstring, required) of a class, bases first (bases defined in the SDK only)."""
        found = self.lookup(module, cls)
        if found is None or not isinstance(found[1], ast.ClassDef):
            raise SDKUnreadable(f"no class {cls} in openai/types/{module}.py")
        where, node = found[0], found[1]
        out: dict[str, tuple[str, _Type, str, bool]] = {}
        typed_dict = False
        for base in node.bases:
            name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
            if name == "TypedDict":
                typed_dict = True
            elif name != "BaseModel" and self.lookup(where, name) is not None:
                for entry in self.fields(where, name):
                    out[entry[0]] = entry
                typed_dict = typed_dict or self._is_typed_dict(where, name)
        total = not any(k.arg == "total" and getattr(k.value, "value", True) is False for k in node.keywords)
        body = node.body
        for index, stmt in enumerate(body):
            if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
                continue
            doc = ""
            if index + 1 < len(body):
                nxt = body[index + 1]
                if (
                    isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)
                ):
                    doc = nxt.value.value
            kind = self.annotation(where, stmt.annotation)
            declared = kind.required if kind.required is not None else total
            required = declared if typed_dict else stmt.value is None
            out[stmt.target.id] = (stmt.target.id, kind, doc, required)
        return list(out.values())

    def _is_typed_dict(self, module: str, cls: str) -> bool:
        found = self.lookup(module, cls)
        if found is None or not isinstance(found[1], ast.ClassDef):
            return False
        return any(
            getattr(b, "id", getattr(b, "attr", "")) == "TypedDict"
            or self._is_typed_dict(found[0], getattr(b, "id", ""))
            for b in found[1].bases
        )

    def docstring(self, module: str, name: str) -> str:
        tree = self.tree(module)
        for index, node in enumerate(tree.body):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
            if any(isinstance(t, ast.Name) and t.id == name for t in targets) and index + 1 < len(tree.body):
                nxt = tree.body[index + 1]
                if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
                    return str(nxt.value.value)
        return ""


def _merge(a: _Type, b: _Type) -> _Type:
    return _Type(
        a.types | b.types,
        a.enum | b.enum,
        a.open or b.open,
        a.required if a.required is not None else b.required,
        a.objects + b.objects,
        a.items + b.items,
    )


def _bounds(doc: str) -> dict[str, int]:
    text = " ".join(doc.split())
    bounds: dict[str, int] = {}
    for pattern, names in _BOUND_PATTERNS:
        found = pattern.search(text)
        if found:
            bounds.update(zip(names, map(int, found.groups()), strict=True))
    return bounds


def _add(modules: _Modules, kind: _Type, required: bool, doc: str, into: dict[str, Field], location: str) -> None:
    enum = frozenset(kind.enum) or None
    into[location] = Field(frozenset(kind.types), enum, required, _bounds(doc))
    for module, cls in kind.objects:
        for name, sub, subdoc, subreq in modules.fields(module, cls):
            _add(modules, sub, subreq, subdoc, into, f"{location}.{name}")
    for item in kind.items:
        _add(modules, item, False, "", into, location + "[]")


def _class(modules: _Modules, module: str, cls: str, into: dict[str, Field], prefix: str) -> None:
    for name, kind, doc, required in modules.fields(module, cls):
        _add(modules, kind, required, doc, into, f"{prefix}.{name}")


def _lifecycles(modules: _Modules, ids: set[str]) -> dict[str, Lifecycle | None]:
    """Model lifecycle from ImageModel's "Deprecated values" note; a model not named there is live."""
    doc = " ".join(modules.docstring(*MODELS).split())
    models: dict[str, Lifecycle | None] = dict.fromkeys(ids, Lifecycle("live"))
    for bullet in re.split(r"(?:^|\s)- (?=\")", doc)[1:]:
        head, _, text = bullet.partition(": ")
        named = re.findall(r'"([^"]+)"', head)
        lowered = text.lower()
        status = "shutdown" if "shut down" in lowered else "retired" if "retired" in lowered else "deprecated"
        date = _DATE.search(text)
        iso = datetime.strptime(date.group(0), "%B %d, %Y").date().isoformat() if date else None
        use = re.search(r"Use (.+?) instead", text)
        replacements = frozenset(re.findall(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", use.group(1))) & ids if use else frozenset()
        for model_id in named:
            models[model_id] = Lifecycle(status, iso, replacements)
    return models


def from_sdk(folder: Path | None = None) -> Surface:
    """The SDK's image types (of the installed package, or an ``openai/types`` folder) as a :class:`Surface`.

    Raises :class:`SDKUnreadable` when the package or a type it must hold is missing.
    """
    if folder is not None and not folder.is_dir():
        raise SDKUnreadable(f"{folder} is not a folder")
    modules = _Modules(folder or sdk_folder())
    surface = Surface(f"openai {sdk_version() if folder is None else folder}")
    for scope, (module, cls) in SCOPES.items():
        _class(modules, module, cls, surface.fields, scope)
    for module, cls in EVENTS:
        kind = next((k for name, k, _, _ in modules.fields(module, cls) if name == "type"), None)
        if kind is None or not kind.enum:
            raise SDKUnreadable(f"{cls} has no type literal")
        _class(modules, module, cls, surface.fields, f"event[{min(kind.enum)}]")
    found = modules.lookup(*MODELS)
    if found is None or not isinstance(found[1], ast.AnnAssign | ast.Assign):
        raise SDKUnreadable("no ImageModel in openai/types/image_model.py")
    ids = modules.annotation(found[0], found[1].value).enum
    surface.models = _lifecycles(modules, ids)
    return surface
