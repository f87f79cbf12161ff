"""Guards against a hostile provider or relay, for the client while it reads an answer.

- :class:`Limits`: how much an answer, an image download and one stream event may hold, and how many
  images an answer may carry. Sizes are counted while reading, after decompression: gzip and deflate are
  decoded here in bounded steps, so a small compressed answer cannot grow past the limit in memory.
- :class:`Deadline`: the time a whole call may take (headers, body, downloads, streams).
- :func:`private_address`: loopback, private, link-local, shared and metadata addresses, which image
  downloads refuse unless the base URL is itself on one or the caller allows them.
- :data:`CREDENTIAL_HEADERS` and :func:`same_origin`: what never travels with a redirect to another origin.

Nothing here imports httpx; the client hands in the raw chunks it reads.
"""

from __future__ import annotations

import ipaddress
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "CREDENTIAL_HEADERS",
    "DEFAULT_LIMITS",
    "Deadline",
    "DeadlineExceeded",
    "LimitExceeded",
    "Limits",
    "Reader",
    "Stream",
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


class DeadlineExceeded(Exception):
    """The call took longer than its deadline."""


class Deadline:
    """A point in time a whole call must end by; ``None`` seconds: no deadline."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._at = None if seconds is None else clock() + seconds

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


def _engine(encoding: str) -> zlib._Decompress | None:
    coding = encoding.strip().lower()
    if coding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header, detected
    return None


class Reader:
    """Raw chunks in, decoded bytes out, never more than ``step`` bytes of output per step.

    ``encoding`` is the answer's Content-Encoding (``gzip``, ``deflate`` or none); ``feed`` yields the
    decoded bytes in pieces of at most ``step`` bytes, however much a chunk would expand."""

    def __init__(self, encoding: str | None, step: int) -> None:
        self.encodings = [e for e in (encoding or "").split(",") if e.strip() and e.strip().lower() != "identity"]
        if len(self.encodings) > 1 or (self.encodings and _engine(self.encodings[0]) is None):
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
        self.step = max(1, step)
        self._engine = _engine(self.encodings[0]) if self.encodings else None
        self._raw = False

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        engine = self._engine
        if engine is None:
            for start in range(0, len(chunk), self.step):
                yield chunk[start : start + self.step]
            return
        data = chunk
        while data:
            try:
                out = engine.decompress(data, self.step)
            except zlib.error:
                if self._raw or self.encodings[0].strip().lower() != "deflate":
                    raise
                self._raw = True  # deflate without its zlib header, as some servers send it
                engine = self._engine = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            if out:
                yield out
            data = engine.unconsumed_tail
            if engine.eof and not data:
                rest = engine.unused_data.lstrip(b"\0")
                if not rest:
                    return
                engine = self._engine = _engine(self.encodings[0])  # another gzip member
                assert engine is not None
                data = rest

    def finish(self) -> Iterator[bytes]:
        if self._engine is not None:
            out = self._engine.flush(self.step)
            if out:
                yield out


def read_all(chunks: Iterable[bytes], encoding: str | None, limit: int, what: str, deadline: Deadline) -> bytes:
    """Every decoded byte of ``chunks``; :class:`LimitExceeded` as soon as there are more than ``limit``,
    :class:`DeadlineExceeded` when the deadline passes between chunks."""
    reader = Reader(encoding, limit + 1)
    out = bytearray()
    for chunk in chunks:
        deadline.check(what)
        for piece in reader.feed(chunk):
            out += piece
            if len(out) > limit:
                raise LimitExceeded(what, limit)
    for piece in reader.finish():
        out += piece
        if len(out) > limit:
            raise LimitExceeded(what, limit)
    return bytes(out)


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
