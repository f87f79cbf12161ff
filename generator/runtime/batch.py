"""Many requests at once: ``client.images.batch(requests, concurrency=...)`` and what it is made of.

    async with AsyncClient() as client:
        async for result in client.images.batch(
            [{"id": "fox", "prompt": "A fox"}, {"id": "owl", "prompt": "An owl"}], concurrency=8
        ):
            print(result.index, result.id, result.answer or result.error)

The client fans the requests out itself, at most ``concurrency`` in flight, and yields a
:class:`BatchResult` per request as it completes: which request it was (``index``, ``id``) and the answer
or the typed error. Every request the client sends (each retry too) first waits for the
:class:`Limiter`, a token bucket fed by the ``x-ratelimit-*`` headers and by 429 answers, so the batch
slows down when the provider says so instead of hammering it. Each request is retried by the client's
own policy (5xx, rate limits, requests that never left; never one that may have been processed, unless
``retry_read_errors=True``); past those retries a 429 (never an empty account) is waited out and the
request sent again, at most ``rate_limit_rounds`` times.

Hooks let a caller keep books without a second fan-out: ``before_send(request)`` runs right before each
request leaves (past the limiter; a journal written there is on disk before the provider sees the
request; with ``AsyncClient`` an awaitable it returns is awaited first, so marks can share a commit),
``after_answer(result)`` once a request is finished (its return value is ``result.value``; an exception
it raises becomes ``result.error``), and the requests are drawn lazily from the iterable, so
a generator that stops stops the scheduling. ``raw=True`` gives each answer as its decoded JSON
(checked: images present, within ``max_images``) instead of result objects, for callers that only
want the bytes (:func:`image_bytes`).

The sync ``Client`` runs the same fan-out on ``concurrency`` threads.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import inspect
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._base_client import Options, _contract_error, _fetchable
from ._error_parsing import error_from_payload
from ._errors import APIConnectionError, ImagewireError, QuotaExceededError, RateLimitError, ResponseContractError
from ._facts import METHODS

if TYPE_CHECKING:
    import httpx

    from ._base_client import AsyncBase, SyncBase

__all__ = [
    "AfterAnswer",
    "BatchRequest",
    "BatchResult",
    "BeforeSend",
    "Limiter",
    "Outcome",
    "image_bytes",
    "parse_duration",
    "requests_from",
]

#: what became of a request: answered; failed with an answer or a failure that says nothing was made;
#: never reached the provider; or went out and got no answer (it may have been processed and billed)
Outcome = Literal["done", "failed", "unsent", "unknown"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
#: how many times one request waits out a 429 (past the client's own retries) before it counts as failed
RATE_LIMIT_ROUNDS = 50


# --------------------------------------------------------------------------- the limiter


def parse_duration(text: str | None) -> float | None:
    """``1s``, ``6m0s``, ``20ms``, ``1.5`` (seconds) -> seconds; ``None`` when unreadable."""
    if not text:
        return None
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return sum(float(amount) * _UNITS[unit] for amount, unit in parts)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


class Limiter:
    """Pace sends by what the provider says; ``rate`` (requests per second) may be given to start with.

    Every send waits for a token (:meth:`acquire`, :meth:`acquire_sync`), in arrival order, so requests
    leave evenly spaced instead of in bursts. Until the provider says something the bucket is open.

    * ``x-ratelimit-limit-requests``, ``-remaining-requests`` and ``-reset-requests`` give the refill
      rate: ``(limit - remaining) / reset`` tokens a second, never more than ``remaining`` held.
    * A 429 empties the bucket and closes it until ``retry-after-ms`` / ``retry-after`` (or one refill
      interval); without rate headers it halves the rate of the last second. So no burst follows a 429.
      Without headers the rate then grows by 2 % an answer until the next 429.
    """

    def __init__(self, rate: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.rate = rate  # tokens a second; None: not limited
        self.capacity = 1.0 if rate else 0.0
        self.tokens = 1.0
        self.updated = clock()
        self.closed_until = 0.0
        self.learned = False  # the rate came from headers
        self.limited = 0  # 429 answers seen
        self.sends: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._turn = threading.Lock()  # sync callers, in arrival order
        self._state = threading.Lock()  # the bucket itself, for sync callers on several threads

    def _refill(self, now: float) -> None:
        if self.rate:
            self.tokens = min(max(self.capacity, 1.0), self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until the next send may go (0: now); takes the token when it is 0."""
        now = self.clock()
        if now < self.closed_until:
            return self.closed_until - now
        self._refill(now)
        if self.rate is None:
            return 0.0
        if self.tokens >= 1.0 - 1e-6:  # within rounding of a whole token
            self.tokens = max(0.0, self.tokens - 1.0)
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def _open(self) -> bool:
        return self.rate is None and not self.closed_until

    async def acquire(self) -> None:
        """Wait for a token; callers are served in arrival order."""
        if self._open() and not self._lock.locked():
            self._note_send()
            return
        async with self._lock:
            while True:
                wait = self.wait_time()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
        self._note_send()

    def acquire_sync(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """:meth:`acquire` for threads."""
        with self._turn:
            while True:
                with self._state:
                    wait = self.wait_time()
                if wait <= 0:
                    break
                sleep(wait)
        with self._state:
            self._note_send()

    def _note_send(self) -> None:
        now = self.clock()
        self.sends.append(now)
        while self.sends and self.sends[0] < now - 1.0:
            self.sends.popleft()

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Feed an answer's status and headers (lower-case names)."""
        with self._state:
            self._observe(status, headers)

    def _observe(self, status: int, headers: Mapping[str, str]) -> None:
        now = self.clock()
        self._refill(now)
        limit = _int(headers.get("x-ratelimit-limit-requests"))
        remaining = _int(headers.get("x-ratelimit-remaining-requests"))
        reset = parse_duration(headers.get("x-ratelimit-reset-requests"))
        if limit is not None and remaining is not None and limit > 0:
            if reset and limit > remaining:
                self.rate = (limit - remaining) / reset
                self.learned = True
            elif self.rate is None and reset:
                self.rate = limit / reset
                self.learned = True
            if self.rate is not None:
                self.capacity = float(max(1, min(limit, remaining + 1)))
                self.tokens = min(self.tokens, float(remaining))
        if status == 429:
            self.limited += 1
            wait = _retry_after(headers)
            if not self.learned:
                recent = len(self.sends)
                base = self.rate if self.rate is not None else float(max(1, recent))
                self.rate = max(0.2, min(base, float(max(1, recent))) * 0.5)
            if wait is None:
                wait = 1.0 / self.rate if self.rate else 1.0
            self.tokens = 0.0
            self.closed_until = max(self.closed_until, now + wait)
        elif status < 400 and self.rate is not None and not self.learned and self.limited:
            self.rate *= 1.02


# --------------------------------------------------------------------------- requests and results


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One request of a batch: its place in the input, its id (the index as text unless given), the
    operation (``generations``, ``edits``, ...) and the keyword arguments of that operation's method."""

    index: int
    id: str
    operation: str
    fields: Mapping[str, Any]


def requests_from(requests: Iterable[BatchRequest | Mapping[str, Any]], default: str) -> Iterator[BatchRequest]:
    """Number the requests as they are drawn: a mapping is ``{"id": ..., "operation": ..., **fields}``
    (``operation`` a method name such as ``generate`` or an operation key; ``default`` when absent)."""
    for index, given in enumerate(requests):
        if isinstance(given, BatchRequest):
            yield given
            continue
        fields = dict(given)
        ident = fields.pop("id", None)
        named = fields.pop("operation", None) or default
        operation = METHODS.get(named, named)
        if operation not in METHODS.values():
            raise ValueError(f"request {index}: unknown operation {named!r}; use {', '.join(METHODS)}")
        yield BatchRequest(index, str(index) if ident is None else str(ident), operation, fields)


class BatchResult:
    """What became of one request: ``answer`` (the operation's result, or its JSON with ``raw=True``) or
    ``error`` (typed: an :class:`~._errors.ImagewireError`, or what ``after_answer`` raised); ``sends``
    is how many times it went out; ``value`` is what ``after_answer`` returned."""

    __slots__ = ("_client", "answer", "error", "request", "sends", "value")

    def __init__(self, request: BatchRequest, answer: Any = None, error: Exception | None = None) -> None:
        self.request = request
        self.answer = answer
        self.error = error
        self.sends = 0
        self.value: Any = None
        self._client: Any = None

    def _urls(self) -> list[tuple[bytes | None, str]]:
        if self.answer is None:
            raise RuntimeError(f"request {self.id!r} has no answer: {self.error!r}")
        if isinstance(self.answer, dict):
            return [(image_bytes(image), str(image.get("url") or "")) for image in self.answer["data"]]
        return [(image._inline(), str(getattr(image, "url", "") or "")) for image in self.answer.data]

    def images(self) -> list[bytes]:
        """The bytes of every image of the answer (``Client``): decoded, or downloaded without credentials."""
        return [data if data is not None else self._client._download(url) for data, url in self._urls()]

    async def aimages(self) -> list[bytes]:
        """:meth:`images` for ``AsyncClient`` results."""
        return [data if data is not None else await self._client._adownload(url) for data, url in self._urls()]

    @property
    def index(self) -> int:
        return self.request.index

    @property
    def id(self) -> str:
        return self.request.id

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def outcome(self) -> Outcome:
        """``done``, ``failed``, ``unsent`` (nothing reached the provider) or ``unknown`` (sent, no answer)."""
        error = self.error
        if error is None:
            return "done"
        if isinstance(error, APIConnectionError) and error.outcome in ("unsent", "uncertain"):
            return "unsent" if error.outcome == "unsent" else "unknown"
        return "failed"

    def __repr__(self) -> str:
        what = f"error={type(self.error).__name__}" if self.error is not None else "ok"
        return f"BatchResult(index={self.index}, id={self.id!r}, {what}, sends={self.sends})"


#: called right before each request leaves (each retry too), past the limiter; an awaitable it returns
#: (``AsyncClient`` only) is awaited before the request leaves
BeforeSend = Callable[[BatchRequest], Any]
#: called once a request is finished, before the next one is drawn; may be a coroutine function
AfterAnswer = Callable[[BatchResult], Any]


class Gate:
    """What stands before each send of one request: the limiter, the hook, the count of sends."""

    __slots__ = ("before_send", "limiter", "request", "result")

    def __init__(self, limiter: Limiter, before_send: BeforeSend | None, result: BatchResult) -> None:
        self.limiter = limiter
        self.before_send = before_send
        self.result = result
        self.request = result.request

    async def enter(self) -> None:
        await self.limiter.acquire()
        if self.before_send is not None:
            value = self.before_send(self.request)
            if value is not None and inspect.isawaitable(value):
                await value
        self.result.sends += 1

    def enter_sync(self, sleep: Callable[[float], None]) -> None:
        self.limiter.acquire_sync(sleep)
        if self.before_send is not None:
            self.before_send(self.request)
        self.result.sends += 1

    def answered(self, status: int, headers: httpx.Headers) -> None:
        self.limiter.observe(status, headers)


# --------------------------------------------------------------------------- answers as JSON


def payload(client: AsyncBase | SyncBase, response: httpx.Response) -> dict[str, Any]:
    """An answer as its JSON (``raw=True``), checked as a result object is: images present (else the error
    envelope it carries, typed), each a ``b64_json`` or an absolute http(s) ``url``; a ResponseContractError
    if not."""
    data = client._decoded(response)
    images = data.get("data") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(images, list) or not images:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            raise error_from_payload(data, status_code=response.status_code, headers=response.headers)
        raise _contract_error(response, "the answer has no images: data is missing or empty", "/data")
    for index, image in enumerate(images):
        url = image.get("url") if isinstance(image, dict) else None
        if not isinstance(image, dict) or not (url or image.get("b64_json")):
            raise _contract_error(response, "an image has neither url nor b64_json", f"/data/{index}")
        if url and not (isinstance(url, str) and _fetchable(url)):
            raise _contract_error(response, f"the image url is not an absolute http(s) URL: {str(url)[:80]!r}")
    return data


def image_bytes(image: Mapping[str, Any]) -> bytes | None:
    """The bytes of one image of a raw answer (``b64_json`` or a ``data:`` URL); ``None`` for a URL image."""
    text = image.get("b64_json") or image.get("url") or ""
    if not isinstance(text, str) or (not image.get("b64_json") and not text.startswith("data:")):
        return None
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as err:
            raise ResponseContractError(f"the image is not valid base64: {err}", pointer="/b64_json") from None


# --------------------------------------------------------------------------- the fan-out


def _rate_limited(err: Exception) -> bool:
    return isinstance(err, RateLimitError) and not isinstance(err, QuotaExceededError)


#: keywords of a request that are per-call options (the rest are the operation's fields)
_OPTIONS = frozenset(Options._fields) - {"gate"}


def _split(request: BatchRequest, opts: Options, gate: Gate) -> tuple[Mapping[str, Any], Options]:
    fields = request.fields
    if _OPTIONS.isdisjoint(fields):
        return fields, opts._replace(gate=gate)
    own = {name: value for name, value in fields.items() if name in _OPTIONS}
    return {k: v for k, v in fields.items() if k not in _OPTIONS}, opts._replace(gate=gate, **own)


async def _one_async(client: AsyncBase, gate: Gate, opts: Options, raw: bool, rounds: int) -> None:
    result, request = gate.result, gate.request
    values, opts = _split(request, opts, gate)
    for round_ in range(rounds + 1):
        try:
            if raw:
                deadline = client._start(opts)
                built = client._build(client._http, request.operation, values, False, opts)
                response = await client._send(built, stream=False, opts=opts, deadline=deadline)
                result.answer = payload(client, response)
            else:
                result.answer = await client._call(request.operation, values, stream=False, opts=opts)
        except ImagewireError as err:
            if _rate_limited(err) and round_ < rounds:
                continue  # the limiter is closed until the provider's retry-after
            result.error = err
        return


def _one_sync(client: SyncBase, gate: Gate, opts: Options, raw: bool, rounds: int) -> None:
    result, request = gate.result, gate.request
    values, opts = _split(request, opts, gate)
    for round_ in range(rounds + 1):
        try:
            if raw:
                deadline = client._start(opts)
                built = client._build(client._http, request.operation, values, False, opts)
                response = client._send(built, stream=False, opts=opts, deadline=deadline)
                result.answer = payload(client, response)
            else:
                result.answer = client._call(request.operation, values, stream=False, opts=opts)
        except ImagewireError as err:
            if _rate_limited(err) and round_ < rounds:
                continue
            result.error = err
        return


async def fan_out(
    client: AsyncBase,
    requests: Iterable[BatchRequest | Mapping[str, Any]],
    default: str,
    *,
    concurrency: int,
    limiter: Limiter | None,
    opts: Options,
    raw: bool,
    rate_limit_rounds: int,
    before_send: BeforeSend | None,
    after_answer: AfterAnswer | None,
) -> AsyncIterator[BatchResult]:
    """The async fan-out behind ``AsyncClient.images.batch``: ``concurrency`` workers draw requests."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    limiter = limiter if limiter is not None else Limiter()
    source = requests_from(requests, default)
    done: asyncio.Queue[BatchResult | BaseException | None] = asyncio.Queue()
    exhausted = False

    async def worker() -> None:
        nonlocal exhausted
        while not exhausted:
            try:
                request = next(source)
            except StopIteration:
                exhausted = True
                return
            result = BatchResult(request)
            result._client = client
            await _one_async(client, Gate(limiter, before_send, result), opts, raw, rate_limit_rounds)
            if after_answer is not None:
                try:
                    value = after_answer(result)
                    result.value = await value if inspect.isawaitable(value) else value
                except Exception as err:
                    result.error = err
            done.put_nowait(result)

    async def workers() -> None:
        try:
            await asyncio.gather(*tasks)
        except BaseException as err:
            done.put_nowait(err)
            raise
        finally:
            done.put_nowait(None)

    tasks = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    runner = asyncio.ensure_future(workers())
    try:
        while True:
            item = await done.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
        await runner
    finally:
        for task in (*tasks, runner):
            task.cancel()
        with contextlib.suppress(BaseException):  # the cancellation asked for, or what was raised already
            await asyncio.gather(*tasks, runner, return_exceptions=True)


def fan_out_sync(
    client: SyncBase,
    requests: Iterable[BatchRequest | Mapping[str, Any]],
    default: str,
    *,
    concurrency: int,
    limiter: Limiter | None,
    opts: Options,
    raw: bool,
    rate_limit_rounds: int,
    before_send: BeforeSend | None,
    after_answer: Callable[[BatchResult], Any] | None,
) -> Iterator[BatchResult]:
    """The sync fan-out behind ``Client.images.batch``: ``concurrency`` threads, results as they complete."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    limiter = limiter if limiter is not None else Limiter()
    source = requests_from(requests, default)

    def one(request: BatchRequest) -> BatchResult:
        result = BatchResult(request)
        result._client = client
        _one_sync(client, Gate(limiter, before_send, result), opts, raw, rate_limit_rounds)
        if after_answer is not None:
            try:
                result.value = after_answer(result)
            except Exception as err:
                result.error = err
        return result

    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="imagewire-batch")
    running: set[Future[BatchResult]] = set()
    try:
        for request in source:
            running.add(pool.submit(one, request))
            if len(running) >= concurrency:
                finished, running = _wait(running)
                yield from finished
        while running:
            finished, running = _wait(running)
            yield from finished
    finally:
        for future in running:
            future.cancel()
        pool.shutdown(wait=True)


def _wait(running: set[Future[BatchResult]]) -> tuple[list[BatchResult], set[Future[BatchResult]]]:
    finished, left = wait(running, return_when=FIRST_COMPLETED)
    return [future.result() for future in finished], set(left)


def sync_hooks_only(*hooks: Any) -> None:
    """A sync client calls its hooks on its threads: a coroutine function cannot be one."""
    if any(hook is not None and inspect.iscoroutinefunction(hook) for hook in hooks):
        raise TypeError("Client.images.batch takes plain functions as hooks (AsyncClient takes coroutines)")
