"""The manifest: JSONL (one request a line) or CSV (a ``prompt`` column), every line checked before anything is sent.

A JSONL line is ``{"id": ..., "operation": "generate"|"edit", ...request fields}``; files (``image``, ``mask``,
``markup``) are paths relative to the manifest. A CSV has a ``prompt`` column; an ``id`` column, any request
field as a column and ``operation`` are optional. Each line is checked with the client's own rules: the
request is built by a client whose transport captures it instead of sending it, so whatever the client
would refuse (a size the model does not take, a missing file, an unknown field) is a problem with the line's
number, and what it would send is kept (the Batch API engine writes that body).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FILE_FIELDS",
    "OPERATIONS",
    "Item",
    "Manifest",
    "ManifestError",
    "Problem",
    "check",
    "items_from",
    "load",
]

#: the manifest's words for the operations, and the client's (``generations``, ``edits``)
OPERATIONS: Mapping[str, str] = {
    "generate": "generations",
    "generation": "generations",
    "generations": "generations",
    "edit": "edits",
    "edits": "edits",
}
#: request fields that name local files (relative to the manifest)
FILE_FIELDS = ("image", "mask", "markup")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_INT = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class Problem:
    """A line that cannot be sent: its number (1-based; 0 for the whole file) and why."""

    line: int
    message: str
    id: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "manifest"
        return f"{where}{f' ({self.id})' if self.id else ''}: {self.message}"


class ManifestError(Exception):
    """The manifest has problems; nothing was sent."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the manifest:\n{shown}{more}")


@dataclass(frozen=True)
class Item:
    """One request of the manifest: ``operation`` is the client's (``generations`` or ``edits``)."""

    id: str
    operation: str
    fields: Mapping[str, Any]
    line: int = 0
    #: the JSON body the client would send (``None`` for multipart edits with local files)
    body: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def digest(self) -> str:
        """A hash of what is asked (operation and fields), to notice a manifest that changed under a journal."""
        text = json.dumps({"op": self.operation, "fields": self.fields}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def local_files(self) -> bool:
        return any(self.fields.get(name) is not None for name in FILE_FIELDS)

    @property
    def n(self) -> int:
        value = self.fields.get("n")
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


@dataclass
class Manifest:
    path: Path | None
    items: list[Item]
    problems: list[Problem]


def _paths(value: Any, base: Path) -> Any:
    if isinstance(value, str):
        return str((base / value).resolve()) if not value.startswith(("data:", "http://", "https://")) else value
    if isinstance(value, list):
        return [_paths(v, base) for v in value]
    return value


def _entry(raw: Mapping[str, Any], line: int, base: Path, default_id: str) -> Item | Problem:
    data = dict(raw)
    ident = data.pop("id", None)
    if ident is None:
        ident = default_id
    if not isinstance(ident, (str, int)) or isinstance(ident, bool) or not _ID.fullmatch(str(ident)):
        return Problem(line, f"bad id {ident!r}: use letters, digits, '.', '_' or '-' (at most 128)")
    ident = str(ident)
    operation = data.pop("operation", "generate")
    op = OPERATIONS.get(str(operation).lower()) if isinstance(operation, str) else None
    if op is None:
        return Problem(line, f"unknown operation {operation!r}; use generate or edit", ident)
    for name in ("stream", "partial_images"):
        if data.get(name):
            return Problem(line, f"{name} is not available in a batch (results are saved whole)", ident)
    for name in FILE_FIELDS:
        if name in data:
            data[name] = _paths(data[name], base)
    return Item(ident, op, data, line)


def _jsonl(text: str, base: Path) -> Manifest:
    items: list[Item] = []
    problems: list[Problem] = []
    for number, raw_line in enumerate(text.splitlines(), 1):
        if not raw_line.strip() or raw_line.lstrip().startswith("#"):
            continue
        try:
            raw = json.loads(raw_line)
        except json.JSONDecodeError as err:
            problems.append(Problem(number, f"not JSON: {err.msg} (column {err.colno})"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(number, f"expected a JSON object, got {type(raw).__name__}"))
            continue
        entry = _entry(raw, number, base, f"line-{number}")
        (items if isinstance(entry, Item) else problems).append(entry)  # type: ignore[arg-type]
    return Manifest(None, items, problems)


def _cell(value: str) -> Any:
    value = value.strip()
    if _INT.fullmatch(value):
        return int(value)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _csv(text: str, base: Path) -> Manifest:
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    if "prompt" not in columns:
        return Manifest(None, [], [Problem(1, f"a CSV manifest needs a 'prompt' column (found: {', '.join(columns)})")])
    items: list[Item] = []
    problems: list[Problem] = []
    for row in reader:
        number = reader.line_num
        raw: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None or not value.strip():
                continue
            key = key.strip()
            raw[key] = value.strip() if key in ("prompt", "id") else _cell(value)
        if "image" in raw and isinstance(raw["image"], str) and ";" in raw["image"]:
            raw["image"] = [part.strip() for part in raw["image"].split(";") if part.strip()]
        entry = _entry(raw, number, base, f"row-{number - 1}")
        (items if isinstance(entry, Item) else problems).append(entry)  # type: ignore[arg-type]
    return Manifest(None, items, problems)


def load(path: str | Path) -> Manifest:
    """Parse a manifest file (``.csv``: CSV, anything else: JSONL); problems are collected, not raised."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        return Manifest(path, [], [Problem(0, f"cannot read {path}: {err}")])
    parsed = _csv(text, path.parent) if path.suffix.lower() == ".csv" else _jsonl(text, path.parent)
    parsed.path = path
    return parsed


def items_from(requests: Iterable[Mapping[str, Any] | Item], base: Path | None = None) -> Manifest:
    """Requests given in Python (dicts as manifest lines, or :class:`Item`) as a manifest; numbered from 1."""
    items: list[Item] = []
    problems: list[Problem] = []
    for number, request in enumerate(requests, 1):
        if isinstance(request, Item):
            items.append(request if request.line else Item(request.id, request.operation, request.fields, number))
            continue
        entry = _entry(request, number, base or Path.cwd(), f"item-{number}")
        (items if isinstance(entry, Item) else problems).append(entry)  # type: ignore[arg-type]
    return Manifest(None, items, problems)


def check(manifest: Manifest, client_options: Mapping[str, Any]) -> list[Item]:
    """Check every line with the client's rules (nothing is sent); problems are added to ``manifest.problems``.

    Returns the items that pass, each with the JSON body the client would send (``None`` for multipart).
    """
    import httpx

    from imagewire.cli.wire import Captured, CaptureTransport
    from imagewire_client import Client, ImagewireError

    options = dict(client_options)
    options["api_key"] = options.get("api_key") or "check-only"
    client = Client(**options, http_client=httpx.Client(transport=CaptureTransport()), max_retries=0)
    seen: dict[str, int] = {}
    passed: list[Item] = []
    for item in manifest.items:
        if item.id in seen:
            manifest.problems.append(Problem(item.line, f"id {item.id!r} repeats line {seen[item.id]}", item.id))
            continue
        seen[item.id] = item.line
        call = client.images.generate if item.operation == "generations" else client.images.edit
        try:
            call(**item.fields)
        except Captured as captured:
            request = captured.request
            body = None
            if request.headers.get("content-type", "").startswith("application/json"):
                body = json.loads(request.content)
            passed.append(Item(item.id, item.operation, item.fields, item.line, body))
            continue
        except TypeError as err:
            unknown = re.search(r"unexpected keyword argument '(\w+)'", str(err))
            message = f"unknown field {unknown.group(1)!r}" if unknown else str(err)
            manifest.problems.append(Problem(item.line, message, item.id))
        except (ImagewireError, OSError, ValueError) as err:
            manifest.problems.append(Problem(item.line, str(err).splitlines()[0] if str(err) else repr(err), item.id))
    manifest.problems.sort(key=lambda p: p.line)
    client.close()
    return passed
