"""The model catalog, resolved: ``extends`` chains merged into one flat entry per model."""

from __future__ import annotations

from typing import Any

__all__ = ["resolve_models"]

#: keys that describe one entry and are never inherited through ``extends``
_OWN = ("extends", "title", "snapshot_of")


def _merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key; anything else (lists, scalars) in ``over`` replaces ``base``."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return over


def resolve_models(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every model with its ``extends`` chain applied, in catalog order. The catalog is already valid."""
    models: dict[str, Any] = catalog.get("models") or {}
    resolved: dict[str, dict[str, Any]] = {}

    def flat(model_id: str) -> dict[str, Any]:
        if model_id in resolved:
            return resolved[model_id]
        entry = models[model_id]
        parent = entry.get("extends")
        base = {k: v for k, v in flat(parent).items() if k not in _OWN} if parent else {}
        merged: dict[str, Any] = _merge(base, {k: v for k, v in entry.items() if k != "extends"})
        merged.setdefault("title", model_id)
        merged["id"] = model_id
        resolved[model_id] = merged
        return merged

    for model_id in models:
        flat(model_id)
    return {model_id: resolved[model_id] for model_id in models}
