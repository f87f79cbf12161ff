"""Record traffic to a provider: a recording httpx transport that keeps every request and its response.

:class:`RecordingTransport` (and :class:`AsyncRecordingTransport`) wrap the transport that really sends
(``httpx.HTTPTransport()`` by default) and keep every request and its response as an
:class:`~imagewire.record.recordings.Interaction`. The request body is read before it is forwarded; the
response body is captured *as the caller reads it* (a streamed ``text/event-stream`` answer included),
so the caller sees no difference. An answer that is cut off (the connection drops mid-body, or the
caller closes it early) is kept with the bytes that did arrive and a ``X-Imagewire-Recorder`` response
header saying so; a request that got no answer at all is kept in :attr:`Recorder.failures`.

:meth:`Recorder.save` writes a VCR cassette (the format ``imagewire check --replay``, vcrpy and
pytest-recording read) **scrubbed** by :func:`imagewire.record.scrub.scrub`: credentials, signed-URL
values, JWTs, API keys and images (replaced by tiny images with their sha256 kept). Known secrets (the
API key in use, of any shape) are also replaced wherever they appear. ``scrub=False`` writes the
traffic as it was: it exists for tests of this module, warns (:class:`UnscrubbedCassetteWarning`) and
marks the file. The command that drives one call through it is :mod:`imagewire.record.command`; the same
scrubber serves vcrpy / pytest-recording through :mod:`imagewire.record.vcr`.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from imagewire.record.recordings import Headers, Interaction, load, write_cassette
from imagewire.record.scrub import REDACTED
from imagewire.record.scrub import scrub as scrub_interaction

__all__ = [
    "INCOMPLETE_HEADER",
    "AsyncRecordingTransport",
    "Failure",
    "Recorder",
    "RecordingTransport",
    "UnscrubbedCassetteWarning",
    "redact_values",
]

#: the response header the recorder adds to an answer whose body did not arrive whole
INCOMPLETE_HEADER = "X-Imagewire-Recorder"

SCRUBBED_NOTE = "scrubbed: credentials, signed-URL values, JWTs and API keys replaced; images replaced by tiny ones"
UNSCRUBBED_NOTE = (
    "UNSCRUBBED - written with scrub=False, for tests only: this file may hold credentials and whole images. "
    "Never commit it."
)


class UnscrubbedCassetteWarning(UserWarning):
    """A cassette was written without scrubbing (``scrub=False``)."""


@dataclass(frozen=True)
class Failure:
    """A request that got no answer (connection refused, timeout before the headers, ...)."""

    index: int
    method: str
    url: str
    error: str

    def __str__(self) -> str:
        return f"{self.method} {self.url}: no answer ({self.error})"


# ---------------------------------------------------------------- capturing


def _raw_headers(headers: httpx.Headers) -> Headers:
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw)


def _reason(response: httpx.Response) -> str:
    phrase = response.extensions.get("reason_phrase")
    if isinstance(phrase, bytes) and phrase:
        return phrase.decode("latin-1")
    return response.reason_phrase


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


@dataclass
class _Entry:
    index: int
    method: str
    url: str
    request_headers: Headers
    request_body: bytes
    status: int | None = None
    reason: str = ""
    response_headers: Headers = ()
    chunks: list[bytes] = field(default_factory=list)
    #: None while the body is being read; "" when it was read to its end; else why it is incomplete
    ending: str | None = None
    error: str | None = None  # no answer at all

    def interaction(self, source: str) -> Interaction | None:
        if self.status is None:
            return None
        headers = self.response_headers
        ending = self.ending if self.ending is not None else "the body was not read to its end"
        if ending:
            headers = (*headers, (INCOMPLETE_HEADER, f"incomplete; {ending}"))
        return Interaction(
            source=source,
            index=self.index,
            method=self.method,
            url=self.url,
            request_headers=self.request_headers,
            request_body=self.request_body,
            status=self.status,
            reason=self.reason,
            response_headers=headers,
            response_body=b"".join(self.chunks),
        )


class Recorder:
    """Every request a recording transport forwarded, with its response as far as it was read.

    One recorder may serve several transports (sync and async, several clients); it is thread-safe.
    ``secrets`` are values (the API key in use) replaced by ``REDACTED`` wherever they appear when saving.
    """

    def __init__(self, source: str = "live", *, secrets: Iterable[str | None] = ()) -> None:
        self.source = source
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()
        self.secrets: list[str] = []
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str | None) -> None:
        """A value to replace wherever it appears when saving (keys of any shape; at least 4 characters)."""
        if secret and len(secret) >= 4 and secret not in self.secrets:
            self.secrets.append(secret)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    # -- what the transports call

    def begin(self, request: httpx.Request, body: bytes) -> _Entry:
        with self._lock:
            entry = _Entry(len(self._entries), request.method, str(request.url), _raw_headers(request.headers), body)
            self._entries.append(entry)
        return entry

    def answered(self, entry: _Entry, response: httpx.Response) -> None:
        with self._lock:
            entry.status = response.status_code
            entry.reason = _reason(response)
            entry.response_headers = _raw_headers(response.headers)

    def failed(self, entry: _Entry, err: BaseException) -> None:
        with self._lock:
            entry.error = _describe(err)

    def chunk(self, entry: _Entry, data: bytes) -> None:
        with self._lock:
            entry.chunks.append(bytes(data))

    def end(self, entry: _Entry, why: str = "") -> None:
        """The body ended: read whole (``why == ""``) or cut off (``why`` says how). The first ending counts."""
        with self._lock:
            if entry.ending is None:
                entry.ending = why

    # -- what callers read

    def interactions(self, start: int = 0) -> list[Interaction]:
        """The interactions recorded so far (from index ``start``), in the order the requests were sent."""
        with self._lock:
            entries = list(self._entries[start:])
            return [item for entry in entries if (item := entry.interaction(self.source)) is not None]

    @property
    def failures(self) -> list[Failure]:
        """Requests that got no answer."""
        with self._lock:
            return [Failure(e.index, e.method, e.url, e.error) for e in self._entries if e.error is not None]

    def failures_since(self, start: int) -> list[Failure]:
        return [f for f in self.failures if f.index >= start]

    def scrubbed(self, interactions: Iterable[Interaction] | None = None) -> list[Interaction]:
        """Interactions (by default all of them) as :meth:`save` writes them."""
        items = self.interactions() if interactions is None else list(interactions)
        return [scrub_interaction(item, extra=self._extra) for item in items]

    def _extra(self, item: Interaction) -> Interaction:
        return redact_values(item, self.secrets) if self.secrets else item

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        scrub: bool = True,
        append: bool = False,
        header: str = "",
        source: str | None = None,
    ) -> Path:
        """Write every interaction as a cassette at ``path``, scrubbed (see the module doc).

        ``append``: keep the interactions already in the file (it must be a readable cassette) and add
        these after them. ``scrub=False`` writes the traffic as it was, for tests only: it warns and says
        so in the file. The interactions written are returned by :meth:`scrubbed` (with ``source``).
        """
        target = Path(path)
        items = self.interactions()
        previous: list[Interaction] = []
        if append and target.exists():
            existing = load(target)
            if existing.errors or existing.format != "cassette":
                problems = "; ".join(str(e) for e in existing.errors) or f"a {existing.format} file, not a cassette"
                raise ValueError(f"cannot append to {target}: {problems}")
            previous = existing.interactions
        if scrub:
            items = self.scrubbed(items)
            note = SCRUBBED_NOTE
        else:
            warnings.warn(
                f"writing {target} WITHOUT scrubbing: it may hold credentials and whole images (tests only)",
                UnscrubbedCassetteWarning,
                stacklevel=2,
            )
            note = UNSCRUBBED_NOTE
        name = source if source is not None else str(target)
        written = [replace(item, source=name, index=i) for i, item in enumerate([*previous, *items])]
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [f"Recorded by imagewire on {stamp} ({note})."]
        if header:
            lines += header.splitlines()
        return write_cassette(target, written, header="\n".join(lines))


def redact_values(item: Interaction, secrets: Sequence[str]) -> Interaction:
    """``item`` with every occurrence of each secret (by value) replaced by ``REDACTED``."""

    def text(value: str) -> str:
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value

    def data(value: bytes) -> bytes:
        for secret in secrets:
            value = value.replace(secret.encode("utf-8"), REDACTED.encode())
        return value

    def headers(pairs: Headers) -> Headers:
        return tuple((name, text(value)) for name, value in pairs)

    return replace(
        item,
        url=text(item.url),
        request_headers=headers(item.request_headers),
        request_body=data(item.request_body),
        response_headers=headers(item.response_headers),
        response_body=data(item.response_body),
    )


def _already_read(response: httpx.Response, recorder: Recorder, entry: _Entry) -> bool:
    """Record a response that arrived with its body already read (``httpx.MockTransport`` with ``content=``)."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return False
    stream = response.stream
    raw = b"".join(stream) if isinstance(stream, httpx.ByteStream) else content  # the bytes as sent (encoded)
    recorder.chunk(entry, raw)
    recorder.end(entry)
    return True


class _Capture:
    """What a recorded body does as it is read, sync or async alike: keep each chunk, note how it ended."""

    def __init__(self, recorder: Recorder, entry: _Entry) -> None:
        self._recorder = recorder
        self._entry = entry

    def _chunk(self, chunk: bytes) -> bytes:
        self._recorder.chunk(self._entry, chunk)
        return chunk

    def _stopped(self, err: BaseException) -> None:
        """The reading loop ended early: the caller stopped (``GeneratorExit``) or the connection failed."""
        if isinstance(err, GeneratorExit):
            self._recorder.end(self._entry, "the caller stopped reading")
        else:
            self._recorder.end(self._entry, f"the connection failed: {_describe(err)}")

    def _finished(self) -> None:
        self._recorder.end(self._entry)

    def _closed(self) -> None:
        self._recorder.end(self._entry, "the caller closed the answer before its end")


class _RecordingStream(_Capture, httpx.SyncByteStream):
    """The response body, passed through to the caller and kept as it goes."""

    def __init__(self, inner: httpx.SyncByteStream, recorder: Recorder, entry: _Entry) -> None:
        super().__init__(recorder, entry)
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                yield self._chunk(chunk)
        except BaseException as err:
            self._stopped(err)
            raise
        self._finished()

    def close(self) -> None:
        self._closed()
        self._inner.close()


class _AsyncRecordingStream(_Capture, httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, recorder: Recorder, entry: _Entry) -> None:
        super().__init__(recorder, entry)
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield self._chunk(chunk)
        except BaseException as err:
            self._stopped(err)
            raise
        self._finished()

    async def aclose(self) -> None:
        self._closed()
        await self._inner.aclose()


class _Recording:
    """What the sync and async recording transports share: the recorder, and what is kept around each send."""

    def __init__(self, recorder: Recorder | None, source: str, secrets: Iterable[str | None]) -> None:
        self.recorder = recorder if recorder is not None else Recorder(source)
        for secret in secrets:
            self.recorder.add_secret(secret)

    def _sent(self, entry: _Entry, response: httpx.Response, *, asynchronous: bool) -> httpx.Response:
        """Note the answer and pass its body on through a stream that records it as the caller reads."""
        self.recorder.answered(entry, response)
        if _already_read(response, self.recorder, entry):
            return response
        stream = response.stream
        if asynchronous and isinstance(stream, httpx.AsyncByteStream):
            response.stream = _AsyncRecordingStream(stream, self.recorder, entry)
        elif not asynchronous and isinstance(stream, httpx.SyncByteStream):
            response.stream = _RecordingStream(stream, self.recorder, entry)
        else:  # pragma: no cover - transports return the byte streams of their kind
            self.recorder.end(entry, "the transport gave an unreadable body")
        return response

    def interactions(self) -> list[Interaction]:
        return self.recorder.interactions()

    def save(self, path: str | os.PathLike[str], **options: Any) -> Path:
        return self.recorder.save(path, **options)


class RecordingTransport(_Recording, httpx.BaseTransport):
    """Forward to ``transport`` (a new ``httpx.HTTPTransport()`` by default) and record everything."""

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        recorder: Recorder | None = None,
        source: str = "live",
        secrets: Iterable[str | None] = (),
    ) -> None:
        super().__init__(recorder, source, secrets)
        self.transport = transport if transport is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        entry = self.recorder.begin(request, request.read())
        try:
            response = self.transport.handle_request(request)
        except BaseException as err:
            self.recorder.failed(entry, err)
            raise
        return self._sent(entry, response, asynchronous=False)

    def close(self) -> None:
        self.transport.close()


class AsyncRecordingTransport(_Recording, httpx.AsyncBaseTransport):
    """The async twin of :class:`RecordingTransport` (``httpx.AsyncHTTPTransport()`` by default)."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        recorder: Recorder | None = None,
        source: str = "live",
        secrets: Iterable[str | None] = (),
    ) -> None:
        super().__init__(recorder, source, secrets)
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        entry = self.recorder.begin(request, await request.aread())
        try:
            response = await self.transport.handle_async_request(request)
        except BaseException as err:
            self.recorder.failed(entry, err)
            raise
        return self._sent(entry, response, asynchronous=True)

    async def aclose(self) -> None:
        await self.transport.aclose()
