"""Compare our spec with one upstream surface; explain differences by waivers or by a newer source.

Kinds of item:

- ``missing``: upstream has a field or model that the spec lacks;
- ``stale``: the spec has it, in an older state (an enum without upstream's values, a live model upstream retired);
- ``extra``: the spec has a field, value or model upstream does not name;
- ``conflicting``: both have it and disagree (type, required, bounds, lifecycle date or replacements).

An item is *explained* when a waiver in the spec declares it with a reason, or (for ``extra``) when another
source that was read has it: the spec follows the newest source, so what the older one lacks is not drift.
Only scopes both sides describe are compared (the SDK has no JSON edit body, for example).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from imagewire.generator.surface import BOUNDS, Field, Lifecycle, Surface, scope_of

__all__ = ["ASPECTS", "KINDS", "Item", "compare", "explain"]

KINDS = ("missing", "stale", "extra", "conflicting")
ASPECTS = ("field", "type", "enum", "required", "bounds", "model", "lifecycle")
_MODEL_FIELD = re.compile(r"^[a-z]+\.(json|multipart)\.model$")


@dataclass(frozen=True)
class Item:
    """One difference between the spec and a source."""

    source: str
    kind: str
    aspect: str
    where: str
    value: str = ""
    ours: str = ""
    theirs: str = ""
    explained: str = ""  # why it does not count, empty when unexplained

    @property
    def id(self) -> str:
        """What a waiver's ``match`` is tested against: ``aspect:where`` or ``aspect:where=value``."""
        return f"{self.aspect}:{self.where}" + (f"={self.value}" if self.value else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "kind": self.kind,
            "aspect": self.aspect,
            "where": self.where,
            "value": self.value,
            "ours": self.ours,
            "theirs": self.theirs,
            "explained": self.explained,
        }

    def __str__(self) -> str:
        what = f"{self.where}" + (f" = {self.value}" if self.value else "")
        detail = ""
        if self.ours or self.theirs:
            detail = f" (spec: {self.ours or '-'}; {self.source}: {self.theirs or '-'})"
        return f"{self.kind:<11} {self.aspect:<9} {what}{detail}"


@dataclass
class _Collector:
    source: str
    items: list[Item] = field(default_factory=list)

    def add(self, kind: str, aspect: str, where: str, value: str = "", ours: str = "", theirs: str = "") -> None:
        self.items.append(Item(self.source, kind, aspect, where, value, ours, theirs))


def _bounds_text(bounds: dict[str, int], names: list[str]) -> str:
    return ", ".join(f"{n} {bounds[n]}" for n in names if n in bounds) or "none"


def _field(out: _Collector, where: str, ours: Field, theirs: Field) -> None:
    if ours.types and theirs.types and ours.types != theirs.types:
        out.add("conflicting", "type", where, ours=ours.type, theirs=theirs.type)
    if theirs.enum and not _MODEL_FIELD.match(where):
        mine = ours.enum or frozenset()
        for value in sorted(theirs.enum - mine):
            out.add("stale", "enum", where, value, ours="absent", theirs="listed")
        if ours.enum:
            for value in sorted(ours.enum - theirs.enum):
                out.add("extra", "enum", where, value, ours="listed", theirs="absent")
    if ours.required != theirs.required:
        out.add(
            "conflicting",
            "required",
            where,
            ours="required" if ours.required else "optional",
            theirs="required" if theirs.required else "optional",
        )
    differing = [n for n in BOUNDS if n in theirs.bounds and ours.bounds.get(n) != theirs.bounds[n]]
    if differing:
        out.add(
            "conflicting",
            "bounds",
            where,
            ours=_bounds_text(ours.bounds, differing),
            theirs=_bounds_text(theirs.bounds, differing),
        )


def _life(life: Lifecycle | None) -> str:
    if life is None:
        return "unknown"
    text = life.status + (f" {life.date}" if life.date else "")
    if life.replacements:
        text += f", use {' or '.join(sorted(life.replacements))}"
    return text


_GONE = ("retired", "shutdown", "deprecated")


def _models(out: _Collector, spec: Surface, upstream: Surface) -> None:
    if upstream.models is not None and spec.models is not None:
        for model_id in sorted(set(upstream.models) - set(spec.models)):
            out.add("missing", "model", f"models.{model_id}", theirs=_life(upstream.models[model_id]))
        for model_id in sorted(set(spec.models) - set(upstream.models)):
            out.add("extra", "model", f"models.{model_id}", ours=_life(spec.models[model_id]))
        for model_id in sorted(set(spec.models) & set(upstream.models)):
            mine, theirs = spec.models[model_id], upstream.models[model_id]
            if mine is None or theirs is None:
                continue
            where = f"models.{model_id}"
            if (mine.status in _GONE) != (theirs.status in _GONE):
                kind = "stale" if theirs.status in _GONE else "conflicting"
                out.add(kind, "lifecycle", where, ours=_life(mine), theirs=_life(theirs))
            elif theirs.status in _GONE and (
                mine.status != theirs.status
                or (theirs.date and mine.date != theirs.date)
                or mine.replacements != theirs.replacements
            ):
                out.add("conflicting", "lifecycle", where, ours=_life(mine), theirs=_life(theirs))
    for scope, named in sorted(upstream.scope_models.items()):
        mine_ids = spec.scope_models.get(scope)
        if mine_ids is None:
            continue
        for model_id in sorted(named - mine_ids):
            out.add("missing", "model", f"{scope}.model", model_id, ours="not offered", theirs="listed")
        for model_id in sorted(mine_ids - named):
            out.add("extra", "model", f"{scope}.model", model_id, ours="offered", theirs="not listed")


def _ancestors(where: str) -> list[str]:
    scope, here = scope_of(where), where
    out: list[str] = []
    while True:
        here = here[:-2] if here.endswith("[]") else here.rpartition(".")[0]
        if len(here) <= len(scope):
            return out
        out.append(here)


def compare(spec: Surface, upstream: Surface) -> list[Item]:
    """Every difference between ``spec`` and ``upstream`` in the scopes both describe (unexplained)."""
    out = _Collector(upstream.name)
    shared = spec.scopes & upstream.scopes
    for where in sorted(set(spec.fields) | set(upstream.fields)):
        if scope_of(where) not in shared:
            continue
        mine, theirs = spec.fields.get(where), upstream.fields.get(where)
        if any((up in spec.fields) != (up in upstream.fields) for up in _ancestors(where)):
            continue  # the enclosing field is reported missing or extra
        if mine is None and theirs is not None:
            out.add("missing", "field", where, ours="absent", theirs=theirs.type)
        elif theirs is None and mine is not None:
            out.add("extra", "field", where, ours=mine.type, theirs="absent")
        elif mine is not None and theirs is not None:
            _field(out, where, mine, theirs)
    _models(out, spec, upstream)
    return out.items


def _has(surface: Surface, item: Item) -> bool:
    """Whether another source states what ``item`` says upstream lacks (so the spec follows the newer one)."""
    if item.aspect == "field":
        return item.where in surface.fields
    if item.aspect == "enum":
        got = surface.fields.get(item.where)
        return got is not None and item.value in (got.enum or ())
    if item.aspect == "model":
        if item.value:
            return surface.models is not None and item.value in surface.models
        return surface.models is not None and item.where.removeprefix("models.") in surface.models
    return False


def _waiver_matches(waiver: dict[str, Any], item: Item) -> bool:
    sources = waiver.get("sources")
    if sources and not any(fnmatchcase(item.source, f"{s}*") for s in sources):
        return False
    kinds = waiver.get("kinds")
    if kinds and item.kind not in kinds:
        return False
    aspects = waiver.get("aspects")
    if aspects and item.aspect not in aspects:
        return False
    patterns = waiver.get("match")
    if patterns is None:
        return True
    patterns = [patterns] if isinstance(patterns, str) else patterns
    return any(fnmatchcase(item.id, str(p)) for p in patterns)


def explain(spec: Surface, items: list[Item], others: list[Surface]) -> tuple[list[Item], list[dict[str, Any]]]:
    """Mark items explained by a waiver or another source; also return the waivers that matched nothing."""
    used: set[int] = set()
    declared = list(spec.waivers)
    field_waivers: list[tuple[str, dict[str, Any]]] = [
        (where, waiver) for where, got in spec.fields.items() for waiver in got.waivers
    ]
    out: list[Item] = []
    for item in items:
        reason = ""
        for where, waiver in field_waivers:
            on_field = item.where == where or item.where.startswith((where + ".", where + "["))
            if on_field and _waiver_matches({k: v for k, v in waiver.items() if k != "match"}, item):
                reason = str(waiver.get("reason") or "waived")
                used.add(id(waiver))
                break
        if not reason:
            for waiver in declared:
                if _waiver_matches(waiver, item):
                    reason = str(waiver.get("reason") or "waived")
                    used.add(id(waiver))
                    break
        if not reason and item.kind == "extra":
            newer = next((o.name for o in others if o.name != item.source and _has(o, item)), None)
            if newer:
                reason = f"stated by {newer} (newer than {item.source})"
        out.append(replace(item, explained=reason) if reason else item)
    names = [o.name for o in others]
    declared = [
        w for w in declared if not w.get("sources") or any(n.startswith(str(s)) for s in w["sources"] for n in names)
    ]
    unused = [w for w in declared if id(w) not in used] + [
        {**w, "field": where} for where, w in field_waivers if id(w) not in used
    ]
    return out, unused
