"""The ``openai-batch`` engine: OpenAI's Batch API (half price, within 24 hours) for a whole manifest.

Submit: the Batch API JSONL (``{custom_id, method, url, body}``, ``custom_id`` the manifest id, ``body`` the
JSON the client would send) is uploaded through the Files API with purpose ``batch``, and a batch is
created per endpoint (generations, edits) with ``completion_window: "24h"``; the batch ids go to the
journal before anything else happens. Wait: the batch is polled with backoff (or later, by ``imagewire
batch status`` / ``fetch``). Collect: the output and error files are downloaded and each line decoded into
the same ``images/<id>.<ext>`` files and report as the local engine writes. Cancel (``imagewire batch
cancel``): the provider is asked to stop each open batch; what it finished is collected as usual, and the
requests it never ran go back to ``pending``. Every Files and Batch request that fails transiently (no
connection, 429, 5xx) is tried again with backoff, a bounded number of times; creating a batch only when
no batch can have been made.

Only providers whose catalog entry declares batch support are accepted (:func:`support`). An edit with
local files has no JSON body (it is multipart): it is refused unless the provider's batch takes local
files, in which case they are sent as ``data:`` URLs in a JSON edit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from imagewire.batch.engine import IMAGES, Batch, Result, save_images
from imagewire.batch.manifest import Item

__all__ = [
    "BatchSupport",
    "EngineError",
    "ProviderError",
    "cancel",
    "collect",
    "poll",
    "submit",
    "submit_and_collect",
    "support",
]

FINAL = ("completed", "failed", "expired", "cancelled")
ENDPOINT = {"generations": "/v1/images/generations", "edits": "/v1/images/edits"}


class EngineError(Exception):
    """The engine cannot be used for this batch (provider, request kind); nothing was sent."""


@dataclass(frozen=True)
class BatchSupport:
    operations: tuple[str, ...]
    local_files: bool = False
    #: the share of the listed prices the Batch API bills (the catalog's ``batch_rate``; None: not known)
    rate: float | None = None

    def cost(self, usd: float | None) -> float | None:
        """An estimate at the listed prices, as the Batch API bills it (a free item stays free)."""
        if usd is None or usd == 0:
            return usd
        return usd * self.rate if self.rate is not None else None


def support(provider: str | None) -> BatchSupport | None:
    """What the provider's catalog entry declares about the Batch API (``None``: no batch support)."""
    from imagewire_client import catalog

    entry = catalog.PROVIDERS.get(provider or "")
    declared = entry.batch if entry is not None else None
    if declared is None:
        return None
    return BatchSupport(tuple(declared.operations), declared.local_files, entry.batch_rate if entry else None)


def _http(options: Mapping[str, Any], timeout: float) -> Any:
    """An ``httpx.AsyncClient`` on the provider's base URL, with the headers and query a client built with
    ``options`` sends (provider settings, the key)."""
    import httpx

    from imagewire_client import catalog

    provider = options.get("provider")
    skip = ("provider", "base_url", "api_key", "model", "default_headers")
    settings = {k: v for k, v in options.items() if k not in skip}
    where = catalog.endpoint(provider, base_url=options.get("base_url"), settings=settings)
    headers = {**where.headers, **dict(options.get("default_headers") or {})}
    key = catalog.api_key(provider, options.get("api_key"))
    header = catalog.provider(provider).key_header if provider else "Authorization"
    if key and header:
        headers[header] = f"Bearer {key}" if header.lower() == "authorization" else key
    return httpx.AsyncClient(
        base_url=where.base_url, headers=headers, params=dict(where.query), timeout=httpx.Timeout(timeout, connect=10.0)
    )


def _data_url(path: str) -> str:
    from imagewire_client.media import sniff

    with open(path, "rb") as handle:
        data = handle.read()
    info = sniff(data)
    mime = {"jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}.get(
        info.format if info else "", "image/png"
    )
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _body(item: Item, accepts_files: bool) -> dict[str, Any]:
    if item.body is not None:
        return dict(item.body)
    if not accepts_files:
        raise EngineError(
            f"line {item.line} ({item.id}): an edit with local files cannot go into a Batch API request at this "
            "provider (its batch takes JSON only); use --engine local, or give the images as URLs or file ids"
        )
    fields = dict(item.fields)
    body: dict[str, Any] = {k: v for k, v in fields.items() if k not in ("image", "mask", "markup")}
    images = fields.get("image")
    paths = images if isinstance(images, list) else [images] if images else []
    body["images"] = [{"image_url": _data_url(str(p))} for p in paths]
    if fields.get("mask"):
        body["mask"] = {"image_url": _data_url(str(fields["mask"]))}
    return body


async def submit(
    batch: Batch, *, budget: float | None = None, retry_unknown: bool = False, retry_failed: bool = False
) -> list[str]:
    """Upload and create the batches for what is left; return their ids (also in the journal's ``batches``)."""

    provider = batch.client_options.get("provider")
    declared = support(provider)
    if declared is None:
        raise EngineError(
            f"provider {provider or '(none)'} does not declare Batch API support in its catalog entry; "
            "use --engine local"
        )
    todo = batch.todo(retry_unknown=retry_unknown, retry_failed=retry_failed)
    if budget is not None:
        kept, total = [], 0.0
        for item in todo:
            usd = declared.cost(batch.costs.get(item.id))
            if usd is None:
                raise EngineError(
                    f"--budget needs known prices; {provider}'s Batch API rate is not in its catalog entry"
                )
            if total + usd > budget + 1e-9:
                break
            kept.append(item)
            total += usd
        todo = kept
    groups: dict[str, list[tuple[Item, dict[str, Any]]]] = {}
    for item in todo:
        if item.operation not in declared.operations:
            raise EngineError(f"line {item.line} ({item.id}): {provider}'s Batch API does not take {item.operation}")
        groups.setdefault(item.operation, []).append((item, _body(item, declared.local_files)))
    if not groups:
        return []
    ids: list[str] = list(batch.journal.get("batches") or [])
    async with _http(batch.client_options, 300.0) as http:
        for operation, entries in groups.items():
            lines = [
                json.dumps({"custom_id": item.id, "method": "POST", "url": ENDPOINT[operation], "body": body})
                for item, body in entries
            ]
            upload = await _call(
                http,
                "POST",
                "/files",
                "uploading the batch file",
                data={"purpose": "batch"},
                files={
                    "file": (f"imagewire-{operation}.jsonl", ("\n".join(lines) + "\n").encode(), "application/jsonl")
                },
            )
            created = await _call(
                http,
                "POST",
                "/batches",
                "creating the batch",
                once=True,
                json={
                    "input_file_id": upload.json()["id"],
                    "endpoint": ENDPOINT[operation],
                    "completion_window": "24h",
                    "metadata": {"made_by": "imagewire batch"},
                },
            )
            ids.append(created.json()["id"])
            batch.journal.set(batches=ids)
            batch.journal.submitted(item.id for item, _ in entries)
    return ids


#: a Files or Batch request that fails transiently is tried again at most this many times
RETRIES = 4
#: seconds before the first retry, doubled for each further one, at most ``MAX_DELAY`` (a Retry-After
#: within it is taken as given)
FIRST_DELAY = 0.5
MAX_DELAY = 30.0


def _transient(response: Any) -> bool:
    """A 5xx answer, or a 429 that is a rate limit (an empty account is not transient)."""
    if response.status_code >= 500:
        return True
    if response.status_code != 429:
        return False
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return True
    return not (isinstance(error, dict) and "insufficient_quota" in (error.get("code"), error.get("type")))


def _delay(attempt: int, headers: Any) -> float:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if value is not None:
            with contextlib.suppress(ValueError):
                return min(MAX_DELAY, max(0.0, float(value) * scale))
    return min(MAX_DELAY, FIRST_DELAY * 2.0**attempt * random.uniform(0.75, 1.25))


async def _call(http: Any, method: str, url: str, doing: str, *, once: bool = False, **request: Any) -> Any:
    """``method url`` through ``http``, a transient failure tried again with backoff, at most :data:`RETRIES`
    times: a connection error, a 429 rate limit or a 5xx answer. ``once`` (creating a batch, which must not
    happen twice) retries only what cannot have made one: a connection that never opened, or an answer
    saying no. A refusal, or the last failure, raises :class:`ProviderError`."""
    import httpx

    attempt = 0
    while True:
        try:
            response = await http.request(method, url, **request)
        except httpx.TransportError as err:
            unsent = isinstance(err, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
            if attempt >= RETRIES or (once and not unsent):
                if unsent:
                    raise ProviderError(
                        f"{doing}: the provider cannot be reached: {type(err).__name__}: {err}"
                    ) from None
                raise ProviderError(
                    f"{doing}: no answer ({type(err).__name__}: {err})"
                    + ("; the batch may have been created all the same: look before submitting again" if once else "")
                ) from None
            wait = _delay(attempt, None)
        else:
            if attempt >= RETRIES or not _transient(response):
                _raise(response, doing)
                return response
            wait = _delay(attempt, response.headers)
        attempt += 1
        await asyncio.sleep(wait)


async def cancel(options: Mapping[str, Any], batch_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Ask the provider to cancel each batch; the batch objects it answers (``cancelling``, or final)."""
    states: dict[str, dict[str, Any]] = {}
    async with _http(options, 60.0) as http:
        for ident in batch_ids:
            answer = await _call(http, "POST", f"/batches/{ident}/cancel", "cancelling the batch")
            states[ident] = answer.json()
    return states


class ProviderError(Exception):
    """The provider refused a Files or Batch request (``status``), or could not be reached (``status`` None)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _raise(response: Any, doing: str) -> None:
    if response.status_code >= 400:
        try:
            error = response.json().get("error") or {}
            message = str(error.get("message") or response.text[:200])
        except (ValueError, AttributeError):
            message = response.text[:200]
        raise ProviderError(f"{doing}: {response.status_code} {message}", response.status_code)


async def poll(
    options: Mapping[str, Any], batch_ids: list[str], *, wait: bool, stop: asyncio.Event | None = None
) -> dict[str, dict[str, Any]]:
    """The batch objects; with ``wait``, polled with backoff (0.5 s, x1.5, at most 60 s) until all are final."""

    pause = 0.5
    async with _http(options, 60.0) as http:
        while True:
            states: dict[str, dict[str, Any]] = {}
            for ident in batch_ids:
                answer = await _call(http, "GET", f"/batches/{ident}", "reading the batch")
                states[ident] = answer.json()
            if not wait or all(s.get("status") in FINAL for s in states.values()) or (stop and stop.is_set()):
                return states
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for((stop or asyncio.Event()).wait(), pause)
            pause = min(60.0, pause * 1.5)


def _images(body: Any) -> list[dict[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


async def collect(batch: Batch, states: Mapping[str, Mapping[str, Any]]) -> AsyncIterator[Result]:
    """Download the output and error files of final batches; save images and journal each item."""

    journal = batch.journal
    folder = batch.out / IMAGES
    folder.mkdir(parents=True, exist_ok=True)
    rate = support(batch.client_options.get("provider"))
    seen: set[str] = set()
    async with _http(batch.client_options, 300.0) as http:
        for state in states.values():
            if state.get("status") not in FINAL:
                continue
            for key in ("output_file_id", "error_file_id"):
                file_id = state.get(key)
                if not file_id:
                    continue
                answer = await _call(http, "GET", f"/files/{file_id}/content", "downloading the batch results")
                for text in answer.text.splitlines():
                    if not text.strip():
                        continue
                    line = json.loads(text)
                    item_id = str(line.get("custom_id"))
                    seen.add(item_id)
                    response = line.get("response") or {}
                    status = response.get("status_code")
                    body = response.get("body")
                    if isinstance(status, int) and 200 <= status < 300:
                        blobs = []
                        for image in _images(body):
                            if image.get("b64_json"):
                                blobs.append(base64.b64decode(image["b64_json"]))
                            elif image.get("url"):
                                fetched = await _call(
                                    http,
                                    "GET",
                                    str(image["url"]),
                                    "downloading an image",
                                    headers={"authorization": ""},
                                )
                                blobs.append(fetched.content)
                        files = save_images(folder, item_id, blobs)
                        usd = rate.cost(batch.costs.get(item_id)) if rate is not None else None
                        journal.done(item_id, files, usd, response.get("request_id"))
                        yield Result(item_id, "done", tuple(files), usd=usd)
                    else:
                        error = body.get("error") if isinstance(body, dict) else None
                        message = (
                            f"{status}: {error.get('message')}"
                            if isinstance(error, dict)
                            else str(line.get("error") or body or "no answer")
                        )
                        journal.failed(item_id, message)
                        yield Result(item_id, "failed", error=message)
    # requests of a final batch that have no line (expired, cancelled) were never run: back to pending
    finished = [s for s in states.values() if s.get("status") in FINAL]
    if finished:
        for row in journal.rows():
            if row.state == "submitted" and row.id not in seen:
                journal.pending(row.id)
        open_ids = [i for i, s in states.items() if s.get("status") not in FINAL]
        journal.set(batches=open_ids, collected_at=time.time())


async def submit_and_collect(
    batch: Batch,
    *,
    budget: float | None = None,
    wait: bool = True,
    stop: asyncio.Event | None = None,
    retry_unknown: bool = False,
    retry_failed: bool = False,
) -> AsyncIterator[Result]:
    """Submit what is left (unless batches are already open), then, with ``wait``, poll and collect.

    A provider that cannot be reached raises :class:`ProviderError` with ``status`` None.
    """
    import httpx

    try:
        open_ids = list(batch.journal.get("batches") or [])
        if not open_ids:
            open_ids = await submit(batch, budget=budget, retry_unknown=retry_unknown, retry_failed=retry_failed)
        if not open_ids:
            return
        states = await poll(batch.client_options, open_ids, wait=wait, stop=stop)
        async for result in collect(batch, states):
            yield result
    except httpx.TransportError as err:
        raise ProviderError(f"the provider cannot be reached: {type(err).__name__}: {err}") from None
