"""The report of a batch, from its journal: ``report.json`` and ``index.html`` (the demo's gallery page).

Both are rewritten whole at the end of every run (and by ``imagewire batch status``), so they always say
what the journal says: every item with its state, files, error and estimated cost, and the totals.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imagewire.batch.journal import Journal
from imagewire.batch.manifest import Item

__all__ = ["GALLERY_LIMIT", "summary", "write"]

#: at most this many items are pictured in index.html (report.json lists every item)
GALLERY_LIMIT = 500


def summary(journal: Journal) -> dict[str, Any]:
    """The journal as JSON-ready data: meta, counts, spend, and every item."""
    items = []
    spent = 0.0
    for row in journal.rows():
        entry: dict[str, Any] = {"id": row.id, "line": row.line, "operation": row.operation, "state": row.state}
        if row.files:
            entry["files"] = list(row.files)
        if row.error:
            entry["error"] = row.error
        if row.usd is not None:
            entry["usd"] = row.usd
            if row.state == "done":
                spent += row.usd
        entry["attempts"] = row.attempts
        items.append(entry)
    return {
        "manifest": journal.get("manifest"),
        "engine": journal.get("engine") or "local",
        "provider": journal.get("provider"),
        "batch": journal.get("batch"),
        "estimate_usd": journal.get("estimate"),
        "counts": dict(journal.counts()),
        "cancelled_batches": journal.get("cancelled") or [],
        "spent_usd": round(spent, 6),
        "items": items,
    }


def write(folder: Path, journal: Journal, items: Mapping[str, Item] | None = None) -> dict[str, Any]:
    """Write ``report.json`` and ``index.html`` into ``folder``; return the summary."""
    from imagewire.demo.gallery import Entry, render_gallery

    data = summary(journal)
    manifest = Path(str(data["manifest"])) if data["manifest"] else None
    if manifest is not None and manifest.is_relative_to(folder.resolve()):
        data["manifest"] = manifest.relative_to(folder.resolve()).as_posix()  # the folder can move
    _atomic(folder / "report.json", _json(data))
    known = items or {}
    entries: list[Entry] = []
    for entry in data["items"]:
        if entry["state"] != "done" or len(entries) >= GALLERY_LIMIT:
            continue
        item = known.get(entry["id"])
        fields: Mapping[str, Any] = item.fields if item is not None else {}
        usd = entry.get("usd")
        entries.append(
            Entry(
                title=entry["id"],
                how=f"imagewire batch ({data['engine']}), manifest line {entry['line']}",
                code=json.dumps({"id": entry["id"], "operation": entry["operation"], **fields}, default=str),
                images=[folder / name for name in entry.get("files", [])],
                prompt=str(fields.get("prompt", "")),
                model=str(fields.get("model") or "(the client's default)"),
                size=str(fields.get("size") or "(the model's default)"),
                cost=f"${usd:.3f} (estimate)" if usd is not None else "unknown",
            )
        )
    counts = data["counts"]
    shown = ", ".join(f"{counts[state]} {state}" for state in counts if counts[state])
    lead = (
        f"A batch of {sum(counts.values())} request(s): {html.escape(shown)}; "
        f"spent ${data['spent_usd']:.3f} (estimated). The manifest was "
        f"<code>{html.escape(str(data['manifest'] or 'given in Python'))}</code>; "
        "<code>report.json</code> lists every item, failures included."
    )
    _atomic(folder / "index.html", render_gallery(entries, folder, title="imagewire batch", lead_html=lead))
    return data


def _json(data: Mapping[str, Any]) -> str:
    """The report as indented JSON with one item a line (written by json's C encoder: a batch can be large)."""
    head = json.dumps({key: value for key, value in data.items() if key != "items"}, indent=2)
    items = ",\n    ".join(json.dumps(entry) for entry in data["items"])
    return f'{head[:-2]},\n  "items": [\n    {items}\n  ]\n}}\n' if items else head[:-2] + ',\n  "items": []\n}\n'


def _atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
