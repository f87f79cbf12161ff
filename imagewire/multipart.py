"""``multipart/form-data`` bodies as they travel, read one way by every part of the kit.

:func:`split` cuts a body at its delimiters into :class:`Section` s kept byte for byte (so the scrubber can
rewrite one part and put the body back together unchanged elsewhere); :func:`parse` reads the sections as
:class:`Part` s (name, filename, content type, data) for the validator, the reference provider and the
request dump of the image commands. Tolerant as recordings need: the boundary comes from the content type or,
failing that, from the body's first line; line breaks may be ``\\r\\n`` or ``\\n``; nothing here raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Body", "Part", "Section", "boundary", "param", "parse", "split"]

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
        out: dict[str, str] = {}
        for line in self.head.decode("utf-8", errors="replace").splitlines():
            key, colon, value = line.partition(":")
            if colon:
                out[key.strip().lower()] = value.strip()
        return out

    def part(self) -> Part:
        headers = self.headers
        disposition = headers.get("content-disposition", "")
        return Part(
            param(disposition, "name") or "",
            param(disposition, "filename"),
            headers.get("content-type"),
            self.data,
            headers,
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
