"""Preparing a batch (manifest, checks, journal, estimate) and the local engine (async fan-out on this machine).

:func:`prepare` reads and checks the requests and opens the journal; :func:`local` sends what is left through
the client's own fan-out (``AsyncClient.images.batch``: ``concurrency`` requests in flight, each send through
its rate limiter) and yields a :class:`Result` per item as it completes. Retries are the client's own (5xx,
rate limits and unsent requests, ``max_retries`` times, never a request that may have been processed); past
them, a 429 is waited out (the limiter closes until the provider's ``retry-after``) and the item sent again;
a request that went out and got no answer is ``unknown``, never repeated here.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagewire.batch.journal import FILENAME, Journal
from imagewire.batch.manifest import Item, Manifest, ManifestError, check, items_from, load
from imagewire_client.batch import Limiter

__all__ = ["IMAGES", "Batch", "Progress", "Result", "local", "prepare", "save_images"]

#: where the images go, inside the output folder
IMAGES = "images"
_BINARY = getattr(os, "O_BINARY", 0)
#: how many times one item waits out a 429 (past the client's retries) before it counts as failed
RATE_LIMIT_ROUNDS = 50


@dataclass(frozen=True)
class Result:
    """What became of one item: ``done`` (``files``), ``failed`` (``error``) or ``unknown`` (sent, no answer)."""

    id: str
    state: str
    files: tuple[str, ...] = ()
    error: str | None = None
    usd: float | None = None
    line: int = 0
    #: the provider could not be reached (the request never left)
    unreachable: bool = False


@dataclass
class Progress:
    """Counters a progress display reads; ``spent`` sums the estimates of the items done."""

    total: int = 0
    done: int = 0
    failed: int = 0
    unknown: int = 0
    in_flight: int = 0
    images: int = 0
    spent: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def per_minute(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.images * 60 / elapsed if elapsed > 0 else 0.0


@dataclass
class Batch:
    """A checked batch, ready to run: what to send, what the journal already knows, and the estimate."""

    out: Path
    items: list[Item]
    journal: Journal
    client_options: dict[str, Any]
    #: item id -> estimated USD (None: unknown price)
    costs: dict[str, float | None]
    #: ids found ``sent`` by this run's start: a previous run died with them in flight
    recovered: list[str]
    states: dict[str, str]
    manifest: Manifest
    skipped_problems: list[str] = field(default_factory=list)

    def todo(self, *, retry_unknown: bool = False, retry_failed: bool = False) -> list[Item]:
        again = {"pending"} | ({"unknown"} if retry_unknown else set()) | ({"failed"} if retry_failed else set())
        return [item for item in self.items if self.states.get(item.id, "pending") in again]

    @property
    def estimate(self) -> float | None:
        """The estimated cost of the whole manifest (None when a price is unknown)."""
        values = list(self.costs.values())
        return None if any(v is None for v in values) else sum(v or 0.0 for v in values)

    def unknown_prices(self) -> list[str]:
        return [item_id for item_id, usd in self.costs.items() if usd is None]


def _estimate(client: Any, item: Item) -> float | None:
    fields = item.fields
    try:
        quote = client.images.estimate(
            model=fields.get("model"),
            size=fields.get("size"),
            quality=fields.get("quality"),
            n=item.n,
            operation=item.operation,
        )
    except Exception:
        return None
    usd: float | None = quote.usd
    return usd


def prepare(
    requests: str | os.PathLike[str] | Iterable[Mapping[str, Any] | Item],
    out: str | os.PathLike[str],
    *,
    client_options: Mapping[str, Any] | None = None,
    skip_invalid: bool = False,
) -> Batch:
    """Read and check the requests, open (or resume) the journal in ``out``; ``ManifestError`` on a bad line.

    ``client_options`` are ``AsyncClient`` keywords (``provider``, ``base_url``, ``api_key``, ``model``, ...).
    With ``skip_invalid`` bad lines are left out (and listed in ``skipped_problems``) instead of refused.
    """
    from imagewire_client import Client

    options = dict(client_options or {})
    manifest = load(os.fspath(requests)) if isinstance(requests, (str, os.PathLike)) else items_from(requests)
    passed = check(manifest, options)
    if manifest.problems and not skip_invalid:
        raise ManifestError(manifest.problems)
    if not passed:
        raise ManifestError(manifest.problems or [_empty()])
    out_dir = Path(out)
    journal = Journal(out_dir / FILENAME)
    try:
        journal.add(passed)
        recovered = journal.recover()
        if isinstance(requests, (str, os.PathLike)):
            journal.set(manifest=str(Path(requests).resolve()))
        pricing = Client(**{**options, "api_key": options.get("api_key") or "estimate-only"})
        costs = {item.id: _estimate(pricing, item) for item in passed}
        pricing.close()
    except BaseException:
        journal.close()
        raise
    return Batch(
        out=out_dir,
        items=passed,
        journal=journal,
        client_options=options,
        costs=costs,
        recovered=recovered,
        states=journal.states(),
        manifest=manifest,
        skipped_problems=[str(p) for p in manifest.problems],
    )


def _empty() -> Any:
    from imagewire.batch.manifest import Problem

    return Problem(0, "no requests in the manifest")


def save_images(folder: Path, item_id: str, blobs: Sequence[bytes]) -> list[str]:
    """Write an item's images as ``<id>.<ext>`` (``<id>-<k>.<ext>`` when there are several).

    Written in place: the journal marks the item done only after its files are written, so a run killed
    mid-write leaves the item ``sent`` (unknown), never ``done`` with a torn file.
    """
    from imagewire_client.media import extension, sniff

    names = []
    where = os.fspath(folder)
    for index, blob in enumerate(blobs):
        info = sniff(blob)
        suffix = extension(info.format) if info is not None else ".bin"
        name = f"{item_id}{suffix}" if len(blobs) == 1 else f"{item_id}-{index}{suffix}"
        fd = os.open(f"{where}/{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, 0o666)
        try:
            view = memoryview(blob)
            while view:  # one write for a whole image, as a rule
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        names.append(f"{IMAGES}/{name}")
    return names


async def local(
    batch: Batch,
    *,
    concurrency: int = 16,
    budget: float | None = None,
    retry_unknown: bool = False,
    retry_failed: bool = False,
    limiter: Limiter | None = None,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
    max_retries: int = 2,
) -> AsyncIterator[Result]:
    """Send what is left of ``batch`` through the client's ``images.batch``; yield a :class:`Result` per item.

    The client fans out and paces; this engine keeps the books through its hooks: the journal's ``sent``
    before each send, the images and the journal's ``done`` after each answer. ``stop`` set (Ctrl-C): no
    new item starts; the ones in flight finish. ``budget`` (USD): an item starts only while the estimates
    of what is done and in flight, plus its own, stay within it.
    """

    from imagewire.batch.transport import HTTP, Transport
    from imagewire_client import AsyncClient
    from imagewire_client.batch import BatchRequest, BatchResult

    limiter = limiter if limiter is not None else Limiter()
    progress = progress if progress is not None else Progress()
    stop = stop if stop is not None else asyncio.Event()
    journal = batch.journal
    folder = batch.out / IMAGES
    todo = batch.todo(retry_unknown=retry_unknown, retry_failed=retry_failed)
    progress.total = len(todo)
    transport = Transport()
    http = HTTP(transport)
    # every line passed the client's checks in prepare(): they are not run again for each send
    client = AsyncClient(**{**batch.client_options, "validate": False}, http_client=http, max_retries=max_retries)
    folder.mkdir(parents=True, exist_ok=True)
    committed = 0.0

    def requests() -> Iterator[BatchRequest]:
        nonlocal committed
        for index, item in enumerate(todo):
            usd = batch.costs.get(item.id)
            if stop.is_set():
                return
            if budget is not None and committed + (usd or 0.0) > budget + 1e-9:
                stop.set()
                return
            committed += usd or 0.0
            progress.in_flight += 1
            yield BatchRequest(index, item.id, item.operation, item.fields)

    def before_send(request: BatchRequest) -> asyncio.Future[None]:
        return journal.sent_soon(request.id)  # the sends of one loop turn share a commit; each leaves after it

    async def after_answer(answered: BatchResult) -> Result:
        nonlocal committed
        item = todo[answered.index]
        usd = batch.costs.get(item.id)
        progress.in_flight -= 1
        result = await _settle(answered, item, usd, journal, folder)
        if result.state == "done":
            progress.done += 1
            progress.images += len(result.files)
            progress.spent += usd or 0.0
        else:
            committed -= usd or 0.0
            if result.state == "unknown":
                progress.unknown += 1
            else:
                progress.failed += 1
        return result

    try:
        async for answered in client.images.batch(
            requests(),
            concurrency=max(1, min(concurrency, len(todo) or 1)),
            limiter=limiter,
            raw=True,
            before_send=before_send,
            after_answer=after_answer,
            rate_limit_rounds=RATE_LIMIT_ROUNDS,
        ):
            yield answered.value
    finally:
        await client.close()
        await http.aclose()
        await transport.aclose()


async def _settle(answered: Any, item: Item, usd: float | None, journal: Journal, folder: Path) -> Result:
    """Journal what became of one item (its images written first) and say it as a :class:`Result`."""
    outcome, err = answered.outcome, answered.error
    if outcome == "done":
        try:
            files = save_images(folder, item.id, await answered.aimages())
        except Exception as failure:  # a download or a write: the item failed (``--retry-failed`` sends it again)
            outcome, err = "failed", failure
        else:
            journal.done_soon(item.id, files, usd)  # committed with the next send, or at the end of this turn
            return Result(item.id, "done", tuple(files), usd=usd, line=item.line)
    if outcome == "unsent":  # the client's retries did not reach the provider either: nothing was made
        journal.pending(item.id)
        return Result(item.id, "failed", error=str(err), line=item.line, unreachable=True)
    if outcome == "unknown":
        journal.failed(item.id, f"no answer: {err}", state="unknown")
        return Result(item.id, "unknown", error=f"no answer: {err}", line=item.line)
    text = f"{type(err).__name__}: {err}"
    journal.failed(item.id, text)
    return Result(item.id, "failed", error=text, line=item.line)
