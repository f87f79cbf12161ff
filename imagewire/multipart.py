"""``multipart/form-data`` bodies as they travel, read one way by every part of the kit.

:func:`split` cuts a body at its delimiters into :class:`Section` s kept byte for byte (so the scrubber can
rewrite one part and put the body back together unchanged elsewhere); :func:`parse` reads the sections as
:class:`Part` s (name, filename, content type, data) for the validator, the reference provider and the
request dump of the image commands. Tolerant as recordings need: the boundary comes from the content type or,
failing that, from the body's first line; line breaks may be ``\\r\\n`` or ``\\n``; nothing here raises.

:class:`Reader` reads the same parts as the body arrives, piece by piece (the reference provider streams
uploads through it): a part's head, then its data in pieces, then its end; only a part's head is held whole
(at most ``max_head`` bytes, else :class:`FormError`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Body", "FormError", "Part", "Reader", "Section", "boundary", "param", "parse", "split"]

_BOUNDARY = re.compile(r'(?i)boundary="?([^";,]+)"?')
_FIRST_LINE = re.compile(rb"--([^\r\n]{1,200})\r?\n")


def boundary(content_type: str, body: bytes = b"") -> str | None:
    """The boundary named by ``content_type``, else the one the body opens with; ``None`` when neither says."""
    match = _BOUNDARY.search(content_type)
    found = match.group(1).strip() if match else None
    if not found:
        first = _FIRST_LINE.match(body)
        found = first.group(1).decode("latin-1") if first else None
    return found or None


def param(header: str, key: str) -> str | None:
    """One parameter of a header value: ``param('form-data; name="image[]"', "name") == "image[]"``."""
    match = re.search(rf'(?i)(?:^|;)\s*{key}="((?:[^"\\]|\\.)*)"', header) or re.search(
        rf"(?i)(?:^|;)\s*{key}=([^;]*)", header
    )
    return match.group(1).strip() if match else None


@dataclass(frozen=True)
class Part:
    """One part of a form: its field name, file name (``None`` for a text field), content type and bytes."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes
    headers: Mapping[str, str]

    @property
    def is_file(self) -> bool:
        """A file part: it has a file name, or a content type other than plain text."""
        return self.filename is not None or bool(
            self.content_type and not self.content_type.lower().startswith("text/plain")
        )


@dataclass(frozen=True)
class Section:
    """The bytes between two delimiters, cut where they mean something; ``bytes(section)`` gives them back."""

    lead: bytes  # the line break after the delimiter
    head: bytes  # the part's header lines
    sep: bytes  # the blank line that ends them (empty when the section has none: then it is all head)
    data: bytes
    trailer: bytes  # the line break before the next delimiter

    def __bytes__(self) -> bytes:
        return self.lead + self.head + self.sep + self.data + self.trailer

    @property
    def newline(self) -> bytes:
        return b"\n" if self.sep == b"\n\n" else b"\r\n"

    @property
    def header_lines(self) -> list[bytes]:
        return self.head.split(self.newline)

    @property
    def headers(self) -> dict[str, str]:
        """Header name (lower case) -> value."""
        return _headers(self.head)

    def part(self) -> Part:
        return _part(self.headers, self.data)


def _headers(head: bytes) -> dict[str, str]:
    """Header lines -> {name (lower case): value}."""
    out: dict[str, str] = {}
    for line in head.decode("utf-8", errors="replace").splitlines():
        key, colon, value = line.partition(":")
        if colon:
            out[key.strip().lower()] = value.strip()
    return out


def _part(headers: dict[str, str], data: bytes) -> Part:
    disposition = headers.get("content-disposition", "")
    return Part(
        param(disposition, "name") or "", param(disposition, "filename"), headers.get("content-type"), data, headers
    )


def _section(body: bytes, start: int, end: int) -> Section:
    """The section ``body[start:end]``, each of its fields sliced once from ``body`` (a large file part is
    copied once, not once per step)."""
    lead = b"\r\n" if body.startswith(b"\r\n", start, end) else (b"\n" if body.startswith(b"\n", start, end) else b"")
    rest = start + len(lead)
    sep = b"\r\n\r\n"
    at = body.find(sep, rest, end)
    if at < 0:
        sep = b"\n\n"
        at = body.find(sep, rest, end)
    if at < 0:
        return Section(lead, body[rest:end], b"", b"", b"")
    newline = b"\n" if sep == b"\n\n" else b"\r\n"
    data = at + len(sep)
    trailer = newline if end - data >= len(newline) and body.endswith(newline, data, end) else b""
    return Section(lead, body[rest:at], sep, body[data : end - len(trailer)], trailer)


@dataclass(frozen=True)
class Body:
    """A form cut at its delimiters: ``bytes(body)`` is the body it was cut from."""

    delimiter: bytes
    preamble: bytes
    sections: tuple[Section, ...]
    #: what follows the closing delimiter (``--`` and the epilogue), in pieces as the delimiter cut them
    closing: tuple[bytes, ...]

    def __bytes__(self) -> bytes:
        return self.delimiter.join([self.preamble, *map(bytes, self.sections), *self.closing])

    def parts(self) -> list[Part]:
        return [section.part() for section in self.sections]


def split(body: bytes, content_type: str) -> Body | None:
    """``body`` cut at the delimiters of its boundary; ``None`` when no boundary is known or none occurs."""
    found = boundary(content_type, body)
    if not found:
        return None
    delimiter = b"--" + found.encode("latin-1", errors="replace")
    cuts = []  # where each delimiter starts
    at = body.find(delimiter)
    while at >= 0:
        cuts.append(at)
        at = body.find(delimiter, at + len(delimiter))
    if not cuts:
        return None
    sections: list[Section] = []
    ends = [*cuts[1:], len(body)]
    for index, (cut, end) in enumerate(zip(cuts, ends, strict=True)):
        start = cut + len(delimiter)
        if body.startswith(b"--", start, end):
            closing = tuple(body[c + len(delimiter) : e] for c, e in zip(cuts[index:], ends[index:], strict=True))
            return Body(delimiter, body[: cuts[0]], tuple(sections), closing)
        sections.append(_section(body, start, end))
    return Body(delimiter, body[: cuts[0]], tuple(sections), ())


def parse(body: bytes, content_type: str) -> list[Part] | None:
    """The parts of a form, in order (``None`` when there is no boundary to split on)."""
    found = split(body, content_type)
    if found is None:
        return [] if boundary(content_type, body) else None
    return found.parts()


class FormError(ValueError):
    """A form :class:`Reader` will not read: a part's head longer than ``max_head``."""


class Reader:
    """The parts of a form as its body arrives: :meth:`feed` each piece, then :meth:`finish`.

    Each returns what the bytes so far complete, in order: a :class:`Part` (its head; ``data`` empty) when a
    part begins, ``bytes`` of its data, and ``None`` when it ends. The parts, their heads and their data are
    those :func:`parse` reads from the whole body, however the body is cut into pieces (one difference: a head
    ends at the first blank line, where :func:`parse` prefers a ``\\r\\n`` one). What is held between pieces
    is a part's head, or a delimiter's length of its data (so the line break before a delimiter is never
    passed on as data); the rest is passed on as it comes.
    """

    def __init__(self, boundary: str, *, max_head: int = 16 * 1024) -> None:
        self.delimiter = b"--" + boundary.encode("latin-1", errors="replace")
        self.max_head = max_head
        self._state = "preamble"  # -> after (a delimiter) -> head -> data -> after ... -> done
        self._buf = b""
        self._newline = b"\r\n"  # the line break of the part being read (it ends its data)

    @property
    def done(self) -> bool:
        """The closing delimiter was read (what follows it is ignored)."""
        return self._state == "done"

    def feed(self, data: bytes) -> list[Part | bytes | None]:
        if self._state == "done":
            return []
        self._buf += data
        out: list[Part | bytes | None] = []
        while self._step(out, final=False):
            pass
        return out

    def finish(self) -> list[Part | bytes | None]:
        """The rest, at the end of the body: a part cut off by the end ends there, as :func:`parse` reads it."""
        out: list[Part | bytes | None] = []
        while self._step(out, final=True):
            pass
        if self._state in ("after", "head"):  # a section without a blank line: all head, no data
            out += [_part(_headers(self._lead(self._buf)), b""), None]
        elif self._state == "data":
            data = self._buf
            out += [data[: -len(self._newline)] if data.endswith(self._newline) else data, None]
        self._state, self._buf = "done", b""
        return [item for item in out if item != b""]

    def _lead(self, buf: bytes) -> bytes:
        return buf[2:] if buf.startswith(b"\r\n") else buf[1:] if buf.startswith(b"\n") else buf

    def _step(self, out: list[Part | bytes | None], *, final: bool) -> bool:
        """Read what the buffer holds in the current state; False when it needs more bytes (or is done)."""
        buf, delimiter = self._buf, self.delimiter
        if self._state == "preamble":
            at = buf.find(delimiter)
            if at < 0:
                self._buf = buf[-(len(delimiter) - 1) :] if len(delimiter) > 1 else b""
                return False
            self._buf, self._state = buf[at + len(delimiter) :], "after"
            return True
        if self._state == "after":
            if len(buf) < 2 and not final:
                return False
            if buf.startswith(b"--"):
                if len(buf) <= len(delimiter) and not final:
                    return False
                if not (buf.startswith(delimiter) or buf.startswith(delimiter, 1)):  # not the next delimiter
                    self._state, self._buf = "done", b""
                    return False
            if len(buf) < 2:
                return False  # the end of the body: finish() reads what is left as a part's head
            self._buf, self._state = self._lead(buf), "head"
            return True
        if self._state == "head":
            ends = [(at, sep) for sep in (b"\r\n\r\n", b"\n\n") if (at := buf.find(sep)) >= 0]
            cut = buf.find(delimiter)
            if cut >= 0 and all(cut < at + len(sep) for at, sep in ends):  # no blank line before the delimiter
                out += [_part(_headers(buf[:cut]), b""), None]
                self._buf, self._state = buf[cut + len(delimiter) :], "after"
                return True
            if not ends:
                if len(buf) > self.max_head + len(delimiter):
                    raise FormError(f"a part's head is longer than {self.max_head:,} bytes")
                return False
            at, sep = min(ends)
            if at > self.max_head:
                raise FormError(f"a part's head is longer than {self.max_head:,} bytes")
            self._newline = b"\n" if sep == b"\n\n" else b"\r\n"
            out.append(_part(_headers(buf[:at]), b""))
            self._buf, self._state = buf[at + len(sep) :], "data"
            return True
        if self._state == "data":
            cut = buf.find(delimiter)
            if cut < 0:
                keep = len(delimiter) + 1  # a delimiter's start and the line break before it
                if len(buf) > keep:
                    out.append(buf[:-keep])
                    self._buf = buf[-keep:]
                return False
            data = buf[:cut]
            if data.endswith(self._newline):
                data = data[: -len(self._newline)]
            out += [data, None] if data else [None]
            self._buf, self._state = buf[cut + len(delimiter) :], "after"
            return True
        return False
