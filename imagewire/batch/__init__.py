"""``imagewire batch``: many images from a manifest, rate-limit aware, resumable, journaled.

    import imagewire.batch

    async for result in imagewire.batch.arun("shots.jsonl", "out/", provider="openai", concurrency=32):
        print(result.id, result.state, result.files)

    for result in imagewire.batch.run([{"id": "fox", "prompt": "A fox", "model": "gpt-image-1.5"}], "out/"):
        ...

Modules: :mod:`~imagewire.batch.manifest` (JSONL/CSV, checked with the client's rules before anything is
sent), :mod:`~imagewire.batch.journal` (SQLite in the output folder, written before each send and after
each answer), :mod:`~imagewire.batch.transport` (lean keep-alive HTTP/1.1 under the client),
:mod:`~imagewire.batch.engine` (preparing a batch; the local engine: the client's own ``images.batch``
fan-out and rate limiter, with the journal, files and budget kept through its hooks), :mod:`~imagewire.batch.openai_batch`
(OpenAI's Batch API: Files upload, batch create, poll, collect), :mod:`~imagewire.batch.report`
(``report.json`` and the demo's gallery page).
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imagewire.batch.engine import Batch, Progress, Result
    from imagewire.batch.manifest import Item
    from imagewire_client.batch import Limiter

__all__ = ["ENGINES", "BudgetError", "Settings", "arun", "drive", "run"]

ENGINES = ("local", "openai-batch")


class BudgetError(ValueError):
    """``budget`` was given but a price is unknown, so the cap could not be kept."""


def _options(
    provider: str | None, base_url: str | None, api_key: str | None, model: str | None, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    options: dict[str, Any] = dict(extra or {})
    for key, value in (("provider", provider), ("base_url", base_url), ("api_key", api_key), ("model", model)):
        if value is not None:
            options[key] = value
    return options


@dataclass(frozen=True)
class Settings:
    """How to run a batch: the engine, requests in flight, the USD cap, what to send again, whether to wait."""

    engine: str = "local"
    concurrency: int = 16
    budget: float | None = None
    retry_unknown: bool = False
    retry_failed: bool = False
    #: openai-batch: poll until the batches are final (otherwise submit and return)
    wait: bool = True


async def drive(
    batch: Batch,
    settings: Settings,
    *,
    limiter: Limiter | None = None,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
) -> AsyncIterator[Result]:
    """Run a prepared batch; the report is rewritten at the end (also when interrupted)."""
    from imagewire.batch import report
    from imagewire.batch.engine import local

    engine, budget = settings.engine, settings.budget
    retry_unknown, retry_failed = settings.retry_unknown, settings.retry_failed
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose {' or '.join(ENGINES)}")
    todo = batch.todo(retry_unknown=retry_unknown, retry_failed=retry_failed)
    unknown_prices = [item.id for item in todo if batch.costs.get(item.id) is None]
    if budget is not None and unknown_prices:
        raise BudgetError(
            f"--budget needs known prices; the price of {len(unknown_prices)} item(s) is unknown "
            f"({', '.join(unknown_prices[:5])}{', ...' if len(unknown_prices) > 5 else ''})"
        )
    batch.journal.set(engine=engine, provider=batch.client_options.get("provider"), estimate=batch.estimate)
    try:
        if engine == "local":
            async for result in local(
                batch,
                concurrency=settings.concurrency,
                budget=budget,
                retry_unknown=retry_unknown,
                retry_failed=retry_failed,
                limiter=limiter,
                stop=stop,
                progress=progress,
            ):
                yield result
        else:
            from imagewire.batch.openai_batch import submit_and_collect

            async for result in submit_and_collect(
                batch,
                budget=budget,
                wait=settings.wait,
                stop=stop,
                retry_unknown=retry_unknown,
                retry_failed=retry_failed,
            ):
                if progress is not None:  # the counters a progress bar reads, as results are collected
                    progress.total = max(progress.total, len(todo))
                    progress.done += result.state == "done"
                    progress.failed += result.state == "failed"
                    progress.images += len(result.files)
                    progress.spent += result.usd or 0.0
                yield result
    finally:
        report.write(batch.out, batch.journal, {item.id: item for item in batch.items})


async def arun(
    requests: str | os.PathLike[str] | Iterable[Mapping[str, Any] | Item],
    out: str | os.PathLike[str],
    *,
    provider: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
    skip_invalid: bool = False,
    client_options: Mapping[str, Any] | None = None,
    limiter: Limiter | None = None,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
    **settings: Any,
) -> AsyncIterator[Result]:
    """Run a batch and yield a :class:`~imagewire.batch.engine.Result` per item as it completes.

    ``requests`` is a manifest path (JSONL or CSV) or manifest lines as dicts. Every request is checked
    first (``ManifestError`` lists the bad lines; nothing is sent). ``out`` holds the journal, the
    images (``images/<id>.<ext>``) and the report; running again resumes: what was answered is not sent
    again, and what was in flight when a run died is yielded as ``unknown`` unless ``retry_unknown``.
    ``client_options`` are further ``AsyncClient`` keywords; ``settings`` the fields of :class:`Settings`
    (``engine``, ``concurrency``, ``budget``, ``retry_unknown``, ``retry_failed``, ``wait``).
    """
    chosen = Settings(**settings)
    from imagewire.batch.engine import Result, prepare

    batch = prepare(
        requests,
        out,
        client_options=_options(provider, base_url, api_key, model, client_options),
        skip_invalid=skip_invalid,
    )
    try:
        if not chosen.retry_unknown:
            for item_id in batch.recovered:
                yield Result(item_id, "unknown", error="sent by an earlier run that stopped before the answer")
        async for result in drive(batch, chosen, limiter=limiter, stop=stop, progress=progress):
            yield result
    finally:
        batch.journal.close()


def run(
    requests: str | os.PathLike[str] | Iterable[Mapping[str, Any] | Item],
    out: str | os.PathLike[str],
    **options: Any,
) -> Iterator[Result]:
    """:func:`arun` for synchronous code: an iterator of results as they complete (the batch runs in a thread)."""
    results: queue.Queue[Any] = queue.Queue()
    done = object()

    async def pump() -> None:
        async for result in arun(requests, out, **options):
            results.put(result)

    def target() -> None:
        try:
            asyncio.run(pump())
        except BaseException as err:
            results.put(err)
        finally:
            results.put(done)

    thread = threading.Thread(target=target, name="imagewire-batch", daemon=True)
    thread.start()
    try:
        while True:
            value = results.get()
            if value is done:
                break
            if isinstance(value, BaseException):
                raise value
            yield value
    finally:
        thread.join()
