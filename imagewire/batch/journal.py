"""The journal: a SQLite file in the output folder, written before each send and after each answer.

Each item is ``pending`` (never sent), ``sent`` (the request went out; no answer yet), ``done``, ``failed``
(an answer or a failure that says nothing was made), ``unknown`` (found ``sent`` by a later run: the process
died while the request was out, so the image may exist and may have been billed) or ``submitted`` (in a
Batch API batch). A later run never sends a ``sent``/``unknown`` item again unless asked to
(``retry_unknown``), and never sends a ``done`` or ``failed`` one. WAL mode with ``synchronous=NORMAL``:
a commit survives the process being killed (only a crash of the machine could lose the last ones).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagewire.batch.manifest import Item

__all__ = ["FILENAME", "STATES", "Journal", "JournalError", "Row"]

FILENAME = "journal.sqlite"
STATES = ("pending", "sent", "done", "failed", "unknown", "submitted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    line INTEGER NOT NULL,
    operation TEXT NOT NULL,
    digest TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at REAL,
    done_at REAL,
    files TEXT,
    error TEXT,
    usd REAL,
    request_id TEXT
);
"""


class JournalError(Exception):
    """The journal cannot be used with this manifest (it changed) or is not a journal."""


@dataclass(frozen=True)
class Row:
    id: str
    line: int
    operation: str
    state: str
    attempts: int
    files: tuple[str, ...]
    error: str | None
    usd: float | None
    sent_at: float | None
    done_at: float | None


class Journal:
    """One output folder's journal. Every write is committed before the call returns."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as err:
            raise JournalError(f"{self.path} is not a usable journal: {err}") from None

    @classmethod
    def exists(cls, folder: str | Path) -> bool:
        return (Path(folder) / FILENAME).is_file()

    @staticmethod
    def peek(folder: str | Path) -> dict[str, int]:
        """Counts by state, read beside a running batch without writing ({} before the journal has its tables)."""
        path = Path(folder) / FILENAME
        if not path.is_file():
            return {}
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return dict(db.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall())
        except sqlite3.DatabaseError:
            return {}
        finally:
            db.close()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta

    def get(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set(self, **values: Any) -> None:
        self.db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [(key, json.dumps(value)) for key, value in values.items()],
        )

    # -- items

    def add(self, items: Sequence[Item]) -> None:
        """Record the manifest's items (new ones as ``pending``); an item whose request changed is refused."""
        known = {row[0]: row[1] for row in self.db.execute("SELECT id, digest FROM items")}
        changed = [item.id for item in items if item.id in known and known[item.id] != item.digest]
        if changed:
            raise JournalError(
                f"the manifest changed for {len(changed)} item(s) already in this journal ({', '.join(changed[:5])}"
                f"{', ...' if len(changed) > 5 else ''}); use a new output folder"
            )
        start = len(known)
        new = [item for item in items if item.id not in known]
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT INTO items (id, seq, line, operation, digest) VALUES (?, ?, ?, ?, ?)",
                [(item.id, start + k, item.line, item.operation, item.digest) for k, item in enumerate(new)],
            )

    def recover(self) -> list[str]:
        """Items left ``sent`` by a run that died: now ``unknown``; their ids."""
        ids = [row[0] for row in self.db.execute("SELECT id FROM items WHERE state = 'sent' ORDER BY seq")]
        if ids:
            self.db.execute("UPDATE items SET state = 'unknown' WHERE state = 'sent'")
        return ids

    def states(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT id, state FROM items"))

    def sent(self, item_id: str) -> None:
        self.db.execute(
            "UPDATE items SET state = 'sent', attempts = attempts + 1, sent_at = ? WHERE id = ?", (time.time(), item_id)
        )

    def done(self, item_id: str, files: Iterable[str], usd: float | None, request_id: str | None = None) -> None:
        self.db.execute(
            "UPDATE items SET state = 'done', done_at = ?, files = ?, usd = ?, error = NULL, request_id = ? WHERE id = ?",
            (time.time(), json.dumps(list(files)), usd, request_id, item_id),
        )

    def failed(self, item_id: str, error: str, *, state: str = "failed") -> None:
        self.db.execute(
            "UPDATE items SET state = ?, done_at = ?, error = ? WHERE id = ?", (state, time.time(), error, item_id)
        )

    def pending(self, item_id: str) -> None:
        """Back to ``pending``: the request never reached the provider (nothing was made)."""
        self.db.execute("UPDATE items SET state = 'pending' WHERE id = ?", (item_id,))

    def submitted(self, ids: Iterable[str]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            now = time.time()
            self.db.executemany(
                "UPDATE items SET state = 'submitted', attempts = attempts + 1, sent_at = ? WHERE id = ?",
                [(now, item_id) for item_id in ids],
            )

    def rows(self) -> Iterator[Row]:
        for row in self.db.execute(
            "SELECT id, line, operation, state, attempts, files, error, usd, sent_at, done_at FROM items ORDER BY seq"
        ):
            yield Row(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5] or "[]")), *row[6:])

    def counts(self) -> Mapping[str, int]:
        out = dict.fromkeys(STATES, 0)
        out.update(dict(self.db.execute("SELECT state, COUNT(*) FROM items GROUP BY state")))
        return out
