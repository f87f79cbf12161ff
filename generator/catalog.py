"""The model catalog, resolved: ``extends`` chains merged into one flat entry per model."""

from __future__ import annotations

from typing import Any

__all__ = ["resolve_models", "resolve_providers", "select_models"]

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


_SERVED = ("retired", "shutdown")


def _table(provider_id: str, table: dict[str, Any], models: dict[str, dict[str, Any]], where: str) -> dict[str, Any]:
    """A model table with its overrides merged; a model the vendor retired is live where it is listed."""
    served: dict[str, dict[str, Any]] = {}
    for model_id, override in table.items():
        model = _merge(models[model_id], override or {})
        model["overridden"] = bool(set(override or {}) - {"lifecycle"})
        life = dict(model.get("lifecycle") or {})
        if life.get("status") in _SERVED and "lifecycle" not in (override or {}):
            when = f" on {life['retired_on']}" if life.get("retired_on") else ""
            vendor = model.get("vendor", "its vendor")
            life = {"status": "live", "note": f"{life['status']} at {vendor}{when}; still served by {where}"}
        model["lifecycle"] = life
        served[model_id] = model
    return served


def resolve_providers(catalog: dict[str, Any], models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every provider with its model table: overrides merged, and a model the vendor retired but the
    provider still serves marked live there (its vendor lifecycle kept in the note). ``policy`` is filled
    in (known with a table, open with any model); each of ``api_versions`` gets the provider's operations
    unless it names its own, and its model table resolved the same way."""
    resolved: dict[str, dict[str, Any]] = {}
    defaults: dict[str, Any] = catalog.get("default_models") or {}
    for provider_id, provider in (catalog.get("providers") or {}).items():
        entry = dict(provider)
        entry["id"] = provider_id
        if defaults or provider.get("default_models"):  # the API's defaults, unless the provider names its own
            entry["default_models"] = {**defaults, **(provider.get("default_models") or {})}
        table = provider.get("models")
        entry["models"] = _table(provider_id, table, models, provider_id) if isinstance(table, dict) else None
        entry["policy"] = provider.get("policy") or ("known" if isinstance(table, dict) else "open")
        entry["prices"] = provider.get("prices") if isinstance(provider.get("prices"), list) else None
        versions: dict[str, dict[str, Any]] = {}
        for name, version in (provider.get("api_versions") or {}).items():
            version = dict(version)
            version.setdefault("operations", provider.get("operations") or [])
            if isinstance(version.get("models"), dict):
                version["models"] = _table(provider_id, version["models"], models, f"{provider_id} ({name})")
            versions[str(name)] = version
        entry["api_versions"] = versions
        resolved[provider_id] = entry
    return resolved


def select_models(catalog: dict[str, Any], models: dict[str, dict[str, Any]]) -> None:
    """Turn each provider's ``models_where`` rule into its model table, in place: every catalog model that
    matches (vendor and lifecycle status), in catalog order, then the table's own entries (overrides of
    selected models, or models added to them). The catalogs are already valid."""
    for provider in (catalog.get("providers") or {}).values():
        where = provider.pop("models_where", None) if isinstance(provider, dict) else None
        if not where:
            continue
        vendors, statuses = where.get("vendor"), where.get("status")
        table: dict[str, Any] = {
            model_id: {}
            for model_id, model in models.items()
            if (vendors is None or model.get("vendor") in vendors)
            and (statuses is None or (model.get("lifecycle") or {}).get("status", "live") in statuses)
        }
        own = provider.get("models")
        table.update(own if isinstance(own, dict) else {})
        provider["models"] = table
