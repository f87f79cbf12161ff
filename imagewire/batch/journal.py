"""The journal: a SQLite file in the output folder, written before each send and after each answer.

Each item is ``pending`` (never sent), ``sent`` (the request went out; no answer yet), ``done``, ``failed``
(an answer or a failure that says nothing was made), ``unknown`` (found ``sent`` by a later run: the process
died while the request was out, so the image may exist and may have been billed) or ``submitted`` (in a
Batch API batch). A later run never sends a ``sent``/``unknown`` item again unless asked to
(``retry_unknown``), and never sends a ``done`` or ``failed`` one. WAL mode with ``synchronous=NORMAL``:
a commit survives the process being killed (only a crash of the machine could lose the last ones).

``sent`` is committed before it returns, always; ``sent_soon`` (the local engine's sends) returns a future
that is done once its mark is committed, so the sends of one event-loop turn share one commit and each
waits for it before it leaves. ``done_soon`` (the local engine's answers) is committed with the next
write or at the end of the event loop's turn, so the answers of one turn share that transaction too; a
process killed before that leaves the item ``sent``, which a later run lists as unknown and never sends
again.
"""

from __future__ import annotations

import asyncio
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


_DONE = "UPDATE items SET state = 'done', done_at = ?, files = ?, usd = ?, error = NULL, request_id = ? WHERE id = ?"
_SENT = "UPDATE items SET state = 'sent', attempts = attempts + 1, sent_at = ? WHERE id = ?"


class Journal:
    """One output folder's journal. Every write is committed before the call returns (``done_soon``: see above)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        #: ``done_soon`` marks not committed yet
        self._later: list[tuple[Any, ...]] = []
        #: ``sent_soon`` marks not committed yet, and the future their senders wait for
        self._sending: list[tuple[float, str]] = []
        self._sent_future: asyncio.Future[None] | None = None
        self._flush_due = False
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
        self.flush()
        self.db.close()

    def flush(self) -> None:
        """Commit the ``done_soon`` and ``sent_soon`` marks (one transaction); then their senders may go."""
        self._flush_due = False
        later, self._later = self._later, []
        sending, self._sending = self._sending, []
        waiting, self._sent_future = self._sent_future, None
        try:
            if later or sending:
                with self.db:
                    self.db.execute("BEGIN")
                    self.db.executemany(_DONE, later)
                    self.db.executemany(_SENT, sending)
        except BaseException as err:
            if waiting is not None and not waiting.done():
                waiting.set_exception(err)
            raise
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    def _due(self) -> None:
        """The end-of-turn commit; a failure goes to the senders waiting for it (else to the loop's handler)."""
        waiting = self._sent_future
        try:
            self.flush()
        except Exception:
            if waiting is None:
                raise

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta

    def get(self, key: str) -> Any:
        self.flush()
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set(self, **values: Any) -> None:
        self.flush()
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
        self.flush()
        ids = [row[0] for row in self.db.execute("SELECT id FROM items WHERE state = 'sent' ORDER BY seq")]
        if ids:
            self.db.execute("UPDATE items SET state = 'unknown' WHERE state = 'sent'")
        return ids

    def states(self) -> dict[str, str]:
        self.flush()
        return dict(self.db.execute("SELECT id, state FROM items"))

    def sent(self, item_id: str) -> None:
        """``sent``, committed before it returns (with the ``done_soon`` marks waiting, in one transaction)."""
        if not self._later:
            self.db.execute(_SENT, (time.time(), item_id))
            return
        later, self._later = self._later, []
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(_DONE, later)
            self.db.execute(_SENT, (time.time(), item_id))

    def sent_soon(self, item_id: str) -> asyncio.Future[None]:
        """``sent``, committed at the end of this event-loop turn with the other marks of the turn; send the
        request only once the returned future is done (it raises what the commit raised)."""
        self._sending.append((time.time(), item_id))
        if self._sent_future is None:
            loop = asyncio.get_running_loop()
            self._sent_future = loop.create_future()
            if not self._flush_due:
                self._flush_due = True
                loop.call_soon(self._due)
        return self._sent_future

    def done(self, item_id: str, files: Iterable[str], usd: float | None, request_id: str | None = None) -> None:
        self.done_soon(item_id, files, usd, request_id)
        self.flush()

    def done_soon(self, item_id: str, files: Iterable[str], usd: float | None, request_id: str | None = None) -> None:
        """``done``, committed with the next write or at the end of this event-loop turn (at once outside a loop)."""
        self._later.append((time.time(), json.dumps(list(files)), usd, request_id, item_id))
        if self._flush_due:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_due = True
        loop.call_soon(self._due)

    def failed(self, item_id: str, error: str, *, state: str = "failed") -> None:
        self.flush()
        self.db.execute(
            "UPDATE items SET state = ?, done_at = ?, error = ? WHERE id = ?", (state, time.time(), error, item_id)
        )

    def pending(self, item_id: str) -> None:
        """Back to ``pending``: the request never reached the provider (nothing was made)."""
        self.flush()
        self.db.execute("UPDATE items SET state = 'pending' WHERE id = ?", (item_id,))

    def submitted(self, ids: Iterable[str]) -> None:
        self.flush()
        with self.db:
            self.db.execute("BEGIN")
            now = time.time()
            self.db.executemany(
                "UPDATE items SET state = 'submitted', attempts = attempts + 1, sent_at = ? WHERE id = ?",
                [(now, item_id) for item_id in ids],
            )

    def rows(self) -> Iterator[Row]:
        self.flush()
        for row in self.db.execute(
            "SELECT id, line, operation, state, attempts, files, error, usd, sent_at, done_at FROM items ORDER BY seq"
        ):
            yield Row(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5] or "[]")), *row[6:])

    def counts(self) -> Mapping[str, int]:
        self.flush()
        out = dict.fromkeys(STATES, 0)
        out.update(dict(self.db.execute("SELECT state, COUNT(*) FROM items GROUP BY state")))
        return out
