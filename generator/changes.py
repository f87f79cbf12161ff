"""The change report of a regeneration: what changed in the spec and in the client's API, and the version bump.

Two halves, each read by an existing reader rather than a differ of our own:

* **Spec**: the spec's surface (request and response fields, their types, values, required flags and
  bounds, read by :func:`.surface.from_openapi`, the reader ``imagewire drift`` uses) and
  the model catalog (lifecycles, operations, per-model params and rules). Each tree keeps the surface it
  was generated from in :data:`SURFACE_NAME`, so the next regeneration compares against it.
* **Client API**: griffe's API-breakage check (:func:`griffe.find_breaking_changes`) on every module that
  changed, old tree against new; run the other way round, its removals are the additions. griffe does not
  compare attribute values yet, so ``Literal`` aliases (the request values) are compared from the values
  griffe parsed: a value gone narrows the alias (breaking), a value added widens it.

Versions follow semantic versioning from the carried-over version: anything breaking bumps the major
version (also while it is 0), additions the minor, any other change of the generated code the patch.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CHANGELOG_NAME",
    "SURFACE_NAME",
    "Change",
    "Report",
    "api_changes",
    "bump",
    "spec_changes",
    "surface",
]

#: the spec surface a tree was generated from (top level of the tree, not in the package)
SURFACE_NAME = "spec-surface.json"
CHANGELOG_NAME = "CHANGELOG.md"
#: the bound keys where a larger value admits more (the others, minima, admit more when smaller)
_UPPER = frozenset({"maximum", "maxLength", "maxItems", "max"})
_REQUEST = re.compile(r"^(generations|edits|variations)\.")
_LEVELS = ("none", "patch", "minor", "major")


@dataclass(frozen=True, order=True)
class Change:
    """One line of the report: ``section`` is ``spec`` or ``api``; ``kind`` is ``added``, ``removed`` or
    ``changed``; a ``breaking`` change can break code or requests that worked with the previous version."""

    section: str
    kind: str
    text: str
    breaking: bool = False


@dataclass
class Report:
    old_version: str
    version: str
    level: str  # first | none | patch | minor | major
    changes: list[Change] = field(default_factory=list)
    #: why the spec half is missing (the previous tree recorded no surface), else None
    spec_note: str | None = None

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    def markdown(self, api_version: str) -> str:
        """The changelog entry."""
        lines = [f"## {self.version}", ""]
        if self.level == "first":
            return "\n".join([*lines, f"Spec version {api_version}; first release."]) + "\n"
        why = {"major": "breaking changes", "minor": "additions", "patch": "no listed change to the spec or the API"}
        lines.append(f"Spec version {api_version}; {self.level} release ({why.get(self.level, 'first release')}).")
        for section, title in (("spec", "Spec"), ("api", "Client API")):
            items = [c for c in self.changes if c.section == section]
            if section == "spec" and self.spec_note:
                lines += ["", f"### {title}", "", f"- {self.spec_note}"]
            if items:
                if not (section == "spec" and self.spec_note):
                    lines += ["", f"### {title}", ""]
                lines += [f"- {'**breaking** ' if c.breaking else ''}{c.kind} {c.text}" for c in items]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        """The report as the command prints it."""
        if self.level == "none":
            return f"no change to the generated client; version stays {self.version}"
        if self.level == "first":
            return f"version {self.version} (first release)"
        lines = [f"version {self.old_version} -> {self.version} ({self.level})"]
        if self.spec_note:
            lines.append(f"  spec: {self.spec_note}")
        for c in self.changes:
            lines.append(f"  {c.section:<4} {'BREAKING ' if c.breaking else ''}{c.kind} {c.text}")
        if self.level == "patch":
            lines.append("  the generated code changed; no change to the spec's surface or the client's API")
        return "\n".join(lines)


def bump(version: str, level: str) -> str:
    """``version`` raised by ``level`` (``major``, ``minor``, ``patch``; ``none`` leaves it)."""
    found = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version.strip())
    if found is None:
        raise ValueError(f"the generated client's version {version!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in found.groups())
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    if level == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return version


def level_of(changes: Iterable[Change], tree_changed: bool) -> str:
    changes = list(changes)
    if any(c.breaking for c in changes):
        return "major"
    if changes:
        return "minor"
    return "patch" if tree_changed else "none"


# --- the spec's surface -------------------------------------------------------------------------------


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def surface(openapi: Mapping[str, Any], models: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """What the report compares, as plain JSON: fields by location, and the catalog's models."""
    from .surface import from_openapi

    read = from_openapi(dict(openapi), "spec")
    fields = {
        location: {
            "type": f.type,
            "enum": sorted(f.enum) if f.enum is not None else None,
            "required": f.required,
            "bounds": dict(sorted(f.bounds.items())),
        }
        for location, f in sorted(read.fields.items())
    }
    catalog: dict[str, Any] = {}
    for model_id, model in models.items():
        life = model.get("lifecycle") or {}
        replacement = life.get("replacement")
        operations: dict[str, Any] = {}
        for op, entry in sorted((model.get("operations") or {}).items()):
            entry = entry or {}
            operations[op] = {
                "params": {name: entry["params"][name] for name in sorted(entry.get("params") or {})},
                "rules": {
                    str(rule.get("id", index)): {
                        "check": _digest({k: v for k, v in rule.items() if k != "message"}),
                        "text": _digest(rule),
                    }
                    for index, rule in enumerate(entry.get("rules") or [])
                    if isinstance(rule, dict)
                },
                "encodings": list(entry.get("encodings") or []),
                "other": {k: _digest(v) for k, v in sorted(entry.items()) if k not in ("params", "rules", "encodings")},
            }
        catalog[model_id] = {
            "vendor": model.get("vendor"),
            "status": str(life.get("status", "live")),
            "retired_on": life.get("retired_on"),
            "replacement": replacement if isinstance(replacement, list) else [replacement] if replacement else [],
            "prompt_max_length": model.get("prompt_max_length"),
            "operations": operations,
        }
    return {"fields": fields, "models": catalog}


def _values(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _bounds_text(bounds: Mapping[str, Any]) -> str:
    low = bounds.get("minimum", bounds.get("minLength", bounds.get("minItems")))
    high = bounds.get("maximum", bounds.get("maxLength", bounds.get("maxItems")))
    if low is None and high is None:
        return ""
    return f", {'' if low is None else low}..{'' if high is None else high}"


def _narrowed(key: str, old: Any, new: Any) -> bool:
    """Whether a bound moved so that fewer values pass (a bound added narrows, one removed widens)."""
    if new is None:
        return False
    if old is None:
        return True
    return bool(new < old) if key in _UPPER or key.startswith("max") else bool(new > old)


def _field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out: list[Change] = []
    for loc in sorted(set(old) | set(new)):
        request = bool(_REQUEST.match(loc))
        where = f"{'request' if request else 'response'} field {loc}"
        a: Any = old.get(loc)
        b: Any = new.get(loc)
        if a is None:
            enum = f" [{_values(b['enum'])}]" if b["enum"] else ""
            required = request and b["required"]
            out.append(
                Change(
                    "spec",
                    "added",
                    f"{where} ({b['type']}{_bounds_text(b['bounds'])}{enum}{', required' if b['required'] else ''})",
                    required,
                )
            )
            continue
        if b is None:
            out.append(Change("spec", "removed", where, True))
            continue
        if a["type"] != b["type"]:
            out.append(Change("spec", "changed", f"{where}: type {a['type']} -> {b['type']}", True))
        gone = sorted(set(a["enum"] or ()) - set(b["enum"] or ())) if b["enum"] is not None else []
        new_values = sorted(set(b["enum"] or ()) - set(a["enum"] or ()))
        if gone:
            out.append(Change("spec", "removed", f"values {_values(gone)} of {where}", True))
        if new_values:
            out.append(Change("spec", "added", f"values {_values(new_values)} of {where}"))
        if a["required"] != b["required"]:
            # a request field now required breaks callers; a response field no longer required breaks readers
            breaking = b["required"] if request else a["required"]
            state = "required" if b["required"] else "optional"
            out.append(Change("spec", "changed", f"{where}: now {state}", bool(breaking)))
        for key in sorted(set(a["bounds"]) | set(b["bounds"])):
            was, now = a["bounds"].get(key), b["bounds"].get(key)
            if was != now:
                breaking = request and _narrowed(key, was, now)
                out.append(Change("spec", "changed", f"{where}: {key} {was} -> {now}", breaking))
    return out


def _param_changes(where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out: list[Change] = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None:
            out.append(Change("spec", "added", f"{where}: accepts {name}"))
        elif b is None:
            out.append(Change("spec", "removed", f"{where}: no longer accepts {name}", True))
        elif a != b:
            parts: list[str] = []
            breaking = False
            was = {json.dumps(v) for v in a.get("values") or []}
            now = {json.dumps(v) for v in b.get("values") or []}
            if "values" in b and was - now:
                parts.append(f"values {_values(json.loads(v) for v in sorted(was - now))} removed")
                breaking = True
            if now - was and "values" in a:
                parts.append(f"values {_values(json.loads(v) for v in sorted(now - was))} added")
            for key in ("min", "max"):
                if a.get(key) != b.get(key):
                    parts.append(f"{key} {a.get(key)} -> {b.get(key)}")
                    breaking |= _narrowed(key, a.get(key), b.get(key))
            if a.get("rule") != b.get("rule") or a.get("encodings") != b.get("encodings"):
                parts.append("rule changed")
                breaking = True
            out.append(Change("spec", "changed", f"{where}: {name} {'; '.join(parts) or 'changed'}", breaking))
    return out


def _model_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out: list[Change] = []
    for model_id in sorted(set(old) | set(new)):
        a: Any = old.get(model_id)
        b: Any = new.get(model_id)
        if a is None:
            ops = ", ".join(sorted(b["operations"]))
            out.append(Change("spec", "added", f"model {model_id} ({b['status']}; {ops})"))
            continue
        if b is None:
            out.append(Change("spec", "removed", f"model {model_id}", True))
            continue
        if a["status"] != b["status"]:
            gone = b["status"] in ("retired", "shutdown") and a["status"] not in ("retired", "shutdown")
            when = f" on {b['retired_on']}" if b.get("retired_on") else ""
            instead = f", replacement {' or '.join(b['replacement'])}" if b["replacement"] else ""
            out.append(
                Change("spec", "changed", f"model {model_id}: {a['status']} -> {b['status']}{when}{instead}", gone)
            )
        elif a["replacement"] != b["replacement"] or a["retired_on"] != b["retired_on"]:
            out.append(Change("spec", "changed", f"model {model_id}: lifecycle dates or replacements"))
        if a["prompt_max_length"] != b["prompt_max_length"]:
            was, now = a["prompt_max_length"], b["prompt_max_length"]
            out.append(
                Change(
                    "spec", "changed", f"model {model_id}: prompt_max_length {was} -> {now}", _narrowed("max", was, now)
                )
            )
        for op in sorted(set(a["operations"]) | set(b["operations"])):
            where = f"model {model_id} {op}"
            x, y = a["operations"].get(op), b["operations"].get(op)
            if x is None:
                out.append(Change("spec", "added", f"model {model_id}: operation {op}"))
                continue
            if y is None:
                out.append(Change("spec", "removed", f"model {model_id}: operation {op}", True))
                continue
            out += _param_changes(where, x["params"], y["params"])
            for rule in sorted(set(x["rules"]) | set(y["rules"])):
                r, s = x["rules"].get(rule), y["rules"].get(rule)
                if r is None:
                    out.append(Change("spec", "added", f"{where}: rule {rule}", True))
                elif s is None:
                    out.append(Change("spec", "removed", f"{where}: rule {rule}"))
                elif r != s:
                    out.append(Change("spec", "changed", f"{where}: rule {rule}", r["check"] != s["check"]))
            if set(x["encodings"]) - set(y["encodings"]) and y["encodings"]:
                lost = _values(sorted(set(x["encodings"]) - set(y["encodings"])))
                out.append(Change("spec", "removed", f"{where}: {lost} bodies", True))
            changed = sorted(k for k in set(x["other"]) | set(y["other"]) if x["other"].get(k) != y["other"].get(k))
            if changed:
                out.append(Change("spec", "changed", f"{where}: {', '.join(changed)}"))
    return out


def spec_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """What changed between two surfaces (from :func:`surface`): models first, then fields."""
    return _model_changes(old.get("models") or {}, new.get("models") or {}) + _field_changes(
        old.get("fields") or {}, new.get("fields") or {}
    )


# --- the client's API (griffe) ------------------------------------------------------------------------


def _module_name(package_dir: Path, rel: Path) -> str:
    parts = [package_dir.name, *rel.with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _public(name: str) -> bool:
    return not any(part.startswith("_") and part != "__init__" for part in name.split(".")[1:])


def _literal(value: Any) -> set[str] | None:
    """The values of a ``Literal[...]`` expression as griffe parsed it (None: not a Literal)."""
    from griffe import ExprSubscript

    if not isinstance(value, ExprSubscript) or str(value.left) != "Literal":
        return None
    elements = getattr(value.slice, "elements", None)
    items = elements if elements is not None else [value.slice]
    return {str(item).strip("'\"") for item in items}


def _module_changes(name: str, old_code: str | None, new_code: str | None) -> list[Change]:
    import griffe

    if old_code is None or new_code is None:
        if _public(name):
            kind = "added" if old_code is None else "removed"
            return [Change("api", kind, f"module {name}", old_code is not None)]
        return []
    old = griffe.visit(name, Path(f"{name}.py"), old_code)
    new = griffe.visit(name, Path(f"{name}.py"), new_code)
    out: list[Change] = []
    for breakage in griffe.find_breaking_changes(old, new):
        kind = "removed" if breakage.kind.name.endswith("REMOVED") else "changed"
        detail = getattr(breakage.old_value, "name", None) if "PARAMETER" in breakage.kind.name else None
        subject = f"`{breakage.obj.path}`" + (f" parameter `{detail}`" if detail else "")
        out.append(Change("api", kind, f"{subject}: {breakage.kind.value.lower()}", True))
    # the other way round, what was removed is what the new tree adds
    for breakage in griffe.find_breaking_changes(new, old):
        if breakage.kind is griffe.BreakageKind.PARAMETER_REMOVED:
            out.append(Change("api", "added", f"`{breakage.obj.path}` keyword `{breakage.old_value.name}`"))
        elif breakage.kind is griffe.BreakageKind.OBJECT_REMOVED:
            out.append(Change("api", "added", f"`{breakage.obj.path}`"))
    out += _literal_changes(old, new)
    return out


def _literal_changes(old: Any, new: Any) -> list[Change]:
    out: list[Change] = []
    for attr_name, attr in old.members.items():
        other = new.members.get(attr_name)
        if other is None or attr.is_alias or other.is_alias or not attr.is_attribute or not attr.is_public:
            continue
        was, now = _literal(attr.value), _literal(other.value)
        if was is None or now is None:
            continue
        if was - now:
            out.append(Change("api", "changed", f"`{attr.path}` narrowed: {_values(sorted(was - now))} removed", True))
        if now - was:
            out.append(Change("api", "changed", f"`{attr.path}` widened: {_values(sorted(now - was))} added"))
    return out


def _exported(package: Path) -> set[str]:
    """The paths the package's ``__init__`` re-exports (``imagewire_client._client.Client``, ...)."""
    import griffe

    init = package / "__init__.py"
    if not init.is_file():
        return set()
    module = griffe.visit(package.name, init, init.read_text(encoding="utf-8"))
    return {m.target_path for m in module.members.values() if isinstance(m, griffe.Alias) and m.is_public}


def _in_api(change: Change, module: str, exported: set[str]) -> bool:
    """A change in a private module counts when it touches what the package exports."""
    if _public(module):
        return True
    path = change.text.split("`")[1] if change.text.count("`") >= 2 else ""
    return any(path == target or path.startswith(target + ".") for target in exported)


def api_changes(old_package: Path, new_package: Path) -> list[Change]:
    """The client API's changes between two package folders, module by module (only modules whose text
    differs are read): public modules, and in private ones what the package's ``__init__`` exports."""

    def sources(root: Path) -> dict[Path, str]:
        if not root.is_dir():
            return {}
        return {
            p.relative_to(root): p.read_text(encoding="utf-8")
            for p in root.rglob("*.py")
            if "__pycache__" not in p.parts
        }

    old, new = sources(old_package), sources(new_package)
    exported = _exported(old_package) | _exported(new_package)
    out: list[Change] = []
    for rel in sorted(set(old) | set(new)):
        if old.get(rel) == new.get(rel):
            continue
        module = _module_name(new_package, rel)
        out += [c for c in _module_changes(module, old.get(rel), new.get(rel)) if _in_api(c, module, exported)]
    return sorted(set(out), key=lambda c: (c.section, not c.breaking, c.text))
