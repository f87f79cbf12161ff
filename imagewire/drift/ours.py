"""Our spec (``spec/openapi.yaml`` and its model catalog) as a :class:`Surface`, with its declared waivers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagewire.generator.catalog import resolve_models
from imagewire.generator.load import load
from imagewire.generator.problems import Problem
from imagewire.generator.surface import Lifecycle, Surface, from_openapi

__all__ = ["WAIVERS_KEY", "SpecUnreadable", "from_spec"]

#: root extension of openapi.yaml: deliberate differences from upstream, each with its reason
WAIVERS_KEY = "x-imagewire-drift-waivers"


class SpecUnreadable(Exception):
    """Our spec cannot be read."""


def _load(path: Path) -> Any:
    doc = load(path, path.name)
    if isinstance(doc, Problem):
        raise SpecUnreadable(str(doc))
    return doc.data


def from_spec(openapi: Path) -> Surface:
    data = _load(openapi)
    if not isinstance(data, dict):
        raise SpecUnreadable(f"{openapi}: not a mapping")
    surface = from_openapi(data, "spec")
    surface.scope_models = {}
    waivers = data.get(WAIVERS_KEY) or []
    surface.waivers = [w for w in waivers if isinstance(w, dict)]
    catalog_file = (data.get("x-imagewire-catalogs") or {}).get("models")
    if not catalog_file:
        return surface
    catalog = _load(openapi.parent / str(catalog_file))
    try:
        models = resolve_models(catalog)
    except (KeyError, RecursionError, AttributeError, TypeError) as err:
        raise SpecUnreadable(f"{catalog_file}: {err}") from err
    bodies: dict[str, list[str]] = {}
    for scope in surface.scopes:
        op, _, body = scope.partition(".")
        if body in ("json", "multipart"):
            bodies.setdefault(op, []).append(body)
    surface.models = {}
    scoped: dict[str, set[str]] = {}
    for model_id, model in models.items():
        if model.get("vendor") != "openai":
            continue
        life = model.get("lifecycle") or {}
        replacement = life.get("replacement")
        replacements = replacement if isinstance(replacement, list) else [replacement] if replacement else []
        surface.models[model_id] = Lifecycle(
            str(life.get("status", "live")), life.get("retired_on"), frozenset(replacements)
        )
        for op, entry in (model.get("operations") or {}).items():
            for body in (entry or {}).get("encodings") or bodies.get(op, []):
                scoped.setdefault(f"{op}.{body}", set()).add(model_id)
    surface.scope_models = {scope: frozenset(ids) for scope, ids in scoped.items()}
    return surface
