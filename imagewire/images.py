"""Images on the wire, for the whole kit: formats and their MIME types, sniffing, tiny stand-in images.

The format table and the sniffer are the client's (``imagewire_client``'s ``FORMATS`` and ``sniff``: one
reader of image headers, one format -> MIME type -> extension table); :data:`MIME_ALIASES` adds the
spellings clients send for the same types. The scrubber replaces every recorded image with the tiny image
of the same format, so a recording keeps its shape (a JPEG answer stays a JPEG answer) without carrying the
picture; those bytes are built here with the standard library only (no Pillow needed), and each decodes
with Pillow and browsers. :func:`sniff_b64` recognises (possibly truncated) base64.
"""

from __future__ import annotations

import base64
import binascii
import functools
import struct
import zlib

from imagewire_client.media import FORMATS, ImageInfo, sniff

__all__ = [
    "FORMATS",
    "MIME",
    "MIME_ALIASES",
    "TINY",
    "ImageInfo",
    "decode_b64",
    "media_type",
    "sniff",
    "sniff_b64",
    "sniff_bytes",
    "tiny",
    "tiny_formats",
]

#: format -> MIME type (``png`` -> ``image/png``), from the client's format table
MIME: dict[str, str] = {fmt: mime for fmt, (mime, _) in FORMATS.items()}
#: the formats that have a tiny stand-in image (the raster ones)
TINY = ("png", "jpeg", "webp", "gif")
#: other spellings of an image MIME type that clients send
MIME_ALIASES: dict[str, str] = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}


def media_type(content_type: str | None) -> str:
    """A content type without its parameters, in lower case, its alias resolved: ``image/JPG; q=1`` -> ``image/jpeg``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return MIME_ALIASES.get(media, media)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png() -> bytes:
    """1x1 RGBA PNG, fully transparent."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    raw = b"\x00" + b"\x00\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def _jpeg() -> bytes:
    """1x1 baseline greyscale JPEG: one DC and one AC Huffman code, one flat block (DC 0, EOB)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([1] * 64)
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    counts = bytes([1] + [0] * 15)
    dht_dc = b"\xff\xc4" + struct.pack(">H", 20) + b"\x00" + counts + b"\x00"
    dht_ac = b"\xff\xc4" + struct.pack(">H", 20) + b"\x10" + counts + b"\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00" + b"\x00\x3f\x00"
    scan = bytes([0b00111111])  # DC category 0 ("0"), AC end of block ("0"), padded with ones
    return b"\xff\xd8" + app0 + dqt + sof0 + dht_dc + dht_ac + sos + scan + b"\xff\xd9"


def _webp() -> bytes:
    """1x1 lossless (VP8L) WebP: five single-symbol prefix codes, zero bits per pixel."""
    value = count = 0

    def put(bits: int, width: int) -> None:
        nonlocal value, count
        value |= bits << count
        count += width

    put(0, 14)  # width - 1
    put(0, 14)  # height - 1
    put(1, 1)  # alpha is used
    put(0, 3)  # version
    put(0, 1)  # no transform
    put(0, 1)  # no colour cache
    put(0, 1)  # no meta prefix codes
    for symbol in (0x00, 0x00, 0x00, 0x00):  # green, red, blue, alpha: one 8-bit symbol each
        put(1, 1)  # simple code
        put(0, 1)  # one symbol
        put(1, 1)  # 8-bit symbol
        put(symbol, 8)
    put(1, 1)  # distance code: simple, one 1-bit symbol 0
    put(0, 1)
    put(0, 1)
    put(0, 1)
    payload = b"\x2f" + value.to_bytes((count + 7) // 8, "little")
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


# 1x1 transparent GIF89a (the classic 43-byte pixel)
_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@functools.cache
def tiny(fmt: str) -> bytes:
    """The tiny image of ``fmt`` (``png``, ``jpeg``, ``webp``, ``gif``); unknown formats get the PNG."""
    if fmt == "jpeg":
        return _jpeg()
    if fmt == "webp":
        return _webp()
    if fmt == "gif":
        return _GIF
    return _png()


@functools.cache
def tiny_formats() -> dict[bytes, str]:
    """tiny image bytes -> format (to recognise an image the scrubber already replaced)."""
    return {tiny(fmt): fmt for fmt in TINY}


def sniff_bytes(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``webp`` or ``gif`` from the first bytes (a truncated image is still recognised)."""
    info = sniff(data)
    return info.format if info is not None and info.format in TINY else None


def decode_b64(text: str) -> bytes | None:
    """Strict base64 (standard or URL-safe alphabet, whitespace ignored); ``None`` when it is not base64."""
    compact = "".join(text.split())
    if not compact:
        return None
    try:
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def sniff_b64(text: str) -> str | None:
    """The image format of base64 text from its first characters, even when the rest is cut or invalid."""
    head = "".join(text[:96].split())
    head = head[: len(head) - len(head) % 4]
    if not head:
        return None
    try:
        data = base64.b64decode(head.replace("-", "+").replace("_", "/"), validate=False)
    except (binascii.Error, ValueError):
        return None
    return sniff_bytes(data)
