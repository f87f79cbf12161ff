"""Guards against a hostile provider or relay, for the client while it reads an answer.

- :class:`Limits`: how much an answer, an image download and one stream event may hold, and how many
  images an answer may carry. Sizes are counted while reading, after decompression: gzip and deflate are
  decoded here in bounded steps, so a small compressed answer cannot grow past the limit in memory.
- :class:`Deadline`: the time a whole call may take (headers, body, downloads, streams); while it is
  :meth:`~Deadline.active`, :data:`CALL_END` holds its end, which bounds every socket operation of the
  client's connections (:mod:`._net`).
- :func:`private_address`: loopback, private, link-local, shared and metadata addresses, which image
  downloads refuse unless the base URL is itself on one or the caller allows them.
- :data:`CREDENTIAL_HEADERS` and :func:`same_origin`: what never travels with a redirect to another origin.

Nothing here imports httpx; the client hands in the raw chunks it reads.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "CALL_END",
    "CREDENTIAL_HEADERS",
    "DEFAULT_LIMITS",
    "Body",
    "Deadline",
    "DeadlineExceeded",
    "LimitExceeded",
    "Limits",
    "Reader",
    "Stream",
    "Undecodable",
    "private_address",
    "read_all",
    "same_origin",
]

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one answer may hold. ``images=None`` means four times the images asked for, at least 10."""

    answer_bytes: int = 64 * _MB  # a JSON answer or error body, once decoded
    download_bytes: int = 100 * _MB  # one image fetched from a URL
    event_bytes: int = 64 * _MB  # one server-sent event (and one line of it)
    images: int | None = None
    retry_after: float = 60.0  # the longest Retry-After honoured, in seconds

    def max_images(self, asked: int | None) -> int:
        return self.images if self.images is not None else max(10, 4 * (asked or 1))


DEFAULT_LIMITS = Limits()


class LimitExceeded(Exception):
    """An answer, a download or an event is larger than its limit allows."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} is larger than {limit:,} bytes (the limit; see the client's max_*_bytes options)")
        self.what = what
        self.limit = limit


class Undecodable(Exception):
    """An answer's content coding is corrupt (or not what its Content-Encoding says)."""


class DeadlineExceeded(Exception):
    """The call took longer than its deadline."""


#: the ``time.monotonic()`` by which the call running in this thread or task must end (None: no deadline)
CALL_END: ContextVar[float | None] = ContextVar("imagewire_call_end", default=None)


class Deadline:
    """A point in time a whole call must end by; ``None`` seconds: no deadline."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._at = None if seconds is None else clock() + seconds

    @property
    def end(self) -> float | None:
        """The ``time.monotonic()`` the call must end by (None: no deadline, or a clock of its own)."""
        return self._at if self._clock is time.monotonic else None

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """:data:`CALL_END` set to this deadline's end while the block runs."""
        token = CALL_END.set(self.end)
        try:
            yield
        finally:
            CALL_END.reset(token)

    def paced(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        """``chunks`` with this deadline active while each is read, and only then (a stream's reads happen
        while its reader iterates, between the caller's own code)."""
        end = self.end
        while True:
            token = CALL_END.set(end)
            try:
                chunk = next(chunks, None)
            finally:
                CALL_END.reset(token)
            if chunk is None:
                return
            yield chunk

    def remaining(self) -> float | None:
        return None if self._at is None else self._at - self._clock()

    def check(self, what: str = "the call") -> None:
        left = self.remaining()
        if left is not None and left <= 0:
            raise DeadlineExceeded(f"{what} did not end within its deadline of {self.seconds:g} s")

    def bound(self, timeout: float | None) -> float | None:
        """``timeout`` shortened to what is left (never zero, so a read can still fail by itself)."""
        left = self.remaining()
        if left is None:
            return timeout
        left = max(left, 0.001)
        return left if timeout is None else min(timeout, left)


# ---------------------------------------------------------------- bounded decoding


class _Zlib:
    """gzip (also several members in a row) or deflate (with or without its zlib header)."""

    def __init__(self, coding: str) -> None:
        self.gzip = coding != "deflate"
        self.raw = False
        self.engine = self._new()

    def _new(self) -> zlib._Decompress:
        if self.raw:
            return zlib.decompressobj(-zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS if self.gzip else zlib.MAX_WBITS | 32)

    def feed(self, data: bytes, step: int) -> Iterator[bytes]:
        engine = self.engine
        while data:
            try:
                out = engine.decompress(data, step)
            except zlib.error:
                if self.raw or self.gzip:
                    raise
                self.raw = True  # deflate without its zlib header, as some servers send it
                engine = self.engine = self._new()
                continue
            if out:
                yield out
            data = engine.unconsumed_tail
            if engine.eof and not data:
                data = engine.unused_data.lstrip(b"\0")
                engine = self.engine = self._new()  # another gzip member (or trailing zeros)

    def finish(self, step: int) -> Iterator[bytes]:
        out = self.engine.flush(step)
        if out:
            yield out


class _Brotli:
    """br through a brotli (or brotlicffi) whose ``process`` takes ``output_buffer_limit`` (brotli >= 1.2)."""

    def __init__(self, module: Any) -> None:
        self.engine = module.Decompressor()

    def feed(self, data: bytes, step: int) -> Iterator[bytes]:
        out = self.engine.process(data, output_buffer_limit=step)
        while out:
            yield out
            out = self.engine.process(b"", output_buffer_limit=step)  # what the limit held back

    def finish(self, step: int) -> Iterator[bytes]:
        return self.feed(b"", step)


class _Zstd:
    """zstd through zstandard, whose decoder takes no output limit. A zstd block holds at most 128 kB and takes
    at least 4 bytes, so the input goes in in slices small enough that one slice decodes to about ``step``
    bytes at most (never less than 4 bytes: at most 256 kB)."""

    BLOCK = 128 * 1024

    def __init__(self, module: Any) -> None:
        self.module = module
        self.engine = module.ZstdDecompressor().decompressobj()

    def feed(self, data: bytes, step: int) -> Iterator[bytes]:
        size = max(4, 4 * (step // self.BLOCK - 1))
        for start in range(0, len(data), size):
            piece = data[start : start + size]
            while piece:
                out = self.engine.decompress(piece)
                if out:
                    yield out
                piece = b""
                if self.engine.eof:  # the next frame
                    piece = self.engine.unused_data
                    self.engine = self.module.ZstdDecompressor().decompressobj()

    def finish(self, step: int) -> Iterator[bytes]:
        return iter(())


_MODULES: dict[str, Any] = {}


def _module(name: str) -> Any:
    """An optional decoder module (brotli, brotlicffi, zstandard), imported on first use; None if absent."""
    if name not in _MODULES:
        import importlib

        try:
            _MODULES[name] = importlib.import_module(name)
        except ImportError:
            _MODULES[name] = None
    return _MODULES[name]


def _brotli() -> Any:
    """The installed brotli module, if it can decode with an output limit (brotli >= 1.2, brotlicffi >= 1.2)."""
    for name in ("brotli", "brotlicffi"):
        module = _module(name)
        if module is not None:
            process = module.Decompressor.process
            try:
                import inspect

                takes: Any = inspect.signature(process).parameters
            except (TypeError, ValueError):  # a C method without a signature: its docstring tells
                takes = process.__doc__ or ""
            if "output_buffer_limit" in takes:
                return module
    return None


def _engine(coding: str) -> _Zlib | _Brotli | _Zstd | None:
    """A bounded decoder of one content coding; None for one this client cannot bound."""
    if coding in ("gzip", "x-gzip", "deflate"):
        return _Zlib(coding)
    if coding == "br":
        module = _brotli()
        return _Brotli(module) if module is not None else None
    if coding == "zstd":
        module = _module("zstandard")
        return _Zstd(module) if module is not None else None
    return None


class Reader:
    """Raw chunks in, decoded bytes out, never more than ``step`` bytes of output per step.

    ``encoding`` is the answer's Content-Encoding: gzip, deflate, br (brotli >= 1.2 installed) or zstd
    (zstandard installed), or several of them in the order applied; ``feed`` yields the decoded bytes in
    pieces of at most ``step`` bytes (about 1 MB more for zstd), however much a chunk would expand. An
    encoding it cannot decode within bounds is a ``ValueError`` when the reader is made."""

    def __init__(self, encoding: str | None, step: int) -> None:
        codings = [e.strip().lower() for e in (encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        engines = [_engine(c) for c in reversed(codings)]  # the last applied is undone first
        if any(e is None for e in engines):
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
        self.encodings = codings
        self.step = max(1, step)
        self._engines = [e for e in engines if e is not None]

    @property
    def identity(self) -> bool:
        return not self._engines

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if not self._engines:
            step = self.step
            if len(chunk) <= step:
                if chunk:
                    yield chunk
                return
            for start in range(0, len(chunk), step):
                yield chunk[start : start + step]
            return
        yield from self._through(0, chunk, final=False)

    def finish(self) -> Iterator[bytes]:
        if self._engines:
            yield from self._through(0, b"", final=True)

    def _through(self, level: int, data: bytes, *, final: bool) -> Iterator[bytes]:
        engine = self._engines[level]
        pieces = engine.feed(data, self.step) if data else iter(())
        if final:
            pieces = itertools.chain(pieces, engine.finish(self.step))
        last = level == len(self._engines) - 1
        try:
            for piece in pieces:
                if last:
                    yield piece
                else:
                    yield from self._through(level + 1, piece, final=False)
        except Undecodable:
            raise
        except Exception as err:  # zlib.error, brotli.error, zstandard.ZstdError
            coding = self.encodings[len(self.encodings) - 1 - level]
            raise Undecodable(f"the answer is not valid {coding} ({type(err).__name__}: {err})") from None
        if final and not last:
            yield from self._through(level + 1, b"", final=True)


class Body:
    """The decoded bytes of one answer, gathered from its raw chunks within ``limit`` and the deadline.

    One reader for the sync and async clients alike: they hand each chunk to :meth:`add` and take
    :meth:`bytes` at the end. :class:`LimitExceeded` as soon as there are more than ``limit`` bytes (for an
    answer without a content coding, before reading anything when ``length`` (Content-Length) says so);
    :class:`DeadlineExceeded` when the deadline passes between chunks. An encoding that cannot be decoded
    within bounds is a ``ValueError`` when the body is made."""

    __slots__ = ("_deadline", "_parts", "_reader", "_size", "limit", "what")

    def __init__(
        self, encoding: str | None, limit: int, what: str, deadline: Deadline, length: int | None = None
    ) -> None:
        reader = Reader(encoding, min(limit + 1, _MB)) if encoding else None  # decoded a megabyte at a time
        self._reader = None if reader is None or reader.identity else reader
        self.limit = limit
        self.what = what
        self._deadline = deadline
        self._parts: list[bytes] = []
        self._size = 0
        if self._reader is None and length is not None and length > limit:
            raise LimitExceeded(what, limit)

    def add(self, chunk: bytes) -> None:
        self._deadline.check(self.what)
        if self._reader is None:
            self._size += len(chunk)
            if self._size > self.limit:
                raise LimitExceeded(self.what, self.limit)
            self._parts.append(chunk)
            return
        for piece in self._reader.feed(chunk):
            self._take(piece)

    def _take(self, piece: bytes) -> None:
        self._size += len(piece)
        if self._size > self.limit:
            raise LimitExceeded(self.what, self.limit)
        self._parts.append(piece)

    def bytes(self) -> bytes:
        if self._reader is not None:
            for piece in self._reader.finish():
                self._take(piece)
        parts = self._parts
        return parts[0] if len(parts) == 1 else b"".join(parts)


def read_all(chunks: Iterable[bytes], encoding: str | None, limit: int, what: str, deadline: Deadline) -> bytes:
    """Every decoded byte of ``chunks`` (see :class:`Body`)."""
    body = Body(encoding, limit, what, deadline)
    for chunk in chunks:
        body.add(chunk)
    return body.bytes()


class Stream:
    """Server-sent event lines from decoded bytes, within limits: a line, and the data of one event, at most
    ``limit`` bytes; and a real event (not a comment or keep-alive) at least every ``idle`` seconds."""

    def __init__(
        self, encoding: str | None, limit: int, idle: float | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.reader = Reader(encoding, limit + 1)
        self.limit = limit
        self.idle = idle
        self._clock = clock
        self._last = clock()
        self._pending = b""
        self._event = 0

    def feed(self, chunk: bytes) -> Iterator[str]:
        for piece in self.reader.feed(chunk):
            yield from self._lines(piece)
        self._quiet()

    def finish(self) -> Iterator[str]:
        for piece in self.reader.finish():
            yield from self._lines(piece)
        if self._pending:
            yield self._pending.decode("utf-8", "replace")
            self._pending = b""

    def _lines(self, data: bytes) -> Iterator[str]:
        buffer = self._pending + data
        lines = buffer.splitlines(keepends=True)
        self._pending = lines.pop() if lines and not lines[-1].endswith((b"\n", b"\r")) else b""
        if len(self._pending) > self.limit:
            raise LimitExceeded("a line of the event stream", self.limit)
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line:
                self._event = 0
            elif not line.startswith(b":"):
                self._event += len(line)
                self._last = self._clock()
                if self._event > self.limit:
                    raise LimitExceeded("an event of the stream", self.limit)
            yield line.decode("utf-8", "replace")

    def _quiet(self) -> None:
        if self.idle is not None and self._clock() - self._last > self.idle:
            raise DeadlineExceeded(f"the stream sent no event for {self.idle:g} s (only keep-alives, or nothing)")


# ---------------------------------------------------------------- where requests and downloads go

#: request headers (lower case) that carry credentials or identify the account; none of them follows a
#: redirect to another origin (the provider catalog's own auth headers are added to these)
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "ocp-apim-subscription-key",
        "openai-organization",
        "openai-project",
        "cookie",
    }
)

#: cloud metadata services, on top of everything private, loopback or link-local
_METADATA = (
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("100.100.100.200/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


def private_address(address: str) -> bool:
    """Whether ``address`` (an IP, as connected to) is loopback, private, link-local, shared, reserved,
    multicast, unspecified or a metadata service; a name that is not an IP counts as private."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in _METADATA) or (ip.version == 4 and ip in _SHARED):
        return True
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(a: str, b: str) -> bool:
    """Same scheme, host and port (default ports filled in)."""
    return _origin(a) == _origin(b)
