"""What an image is, from its first bytes: format, MIME type, dimensions and whether it has alpha.

Recognises PNG, JPEG, WebP (VP8, VP8L, VP8X) and GIF by their magic bytes and reads the dimensions from
their headers; SVG (which the newest models can answer) by its root element. Never raises: garbage gives ``None``; a known format with a truncated or odd header gives an
:class:`ImageInfo` whose unknown parts are ``None``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["FORMATS", "ImageFormat", "ImageInfo", "extension", "sniff"]

ImageFormat = Literal["png", "jpeg", "webp", "gif", "svg"]

#: format -> (MIME type, file extension)
FORMATS: dict[str, tuple[str, str]] = {
    "png": ("image/png", ".png"),
    "jpeg": ("image/jpeg", ".jpg"),
    "webp": ("image/webp", ".webp"),
    "gif": ("image/gif", ".gif"),
    "svg": ("image/svg+xml", ".svg"),
}

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ImageInfo(NamedTuple):
    """What :func:`sniff` found. ``width``/``height``/``has_alpha`` are ``None`` when the header does not say."""

    format: ImageFormat
    mime: str
    width: int | None = None
    height: int | None = None
    has_alpha: bool | None = None


def extension(format: str) -> str:
    """The usual file extension of a format, with the dot: ``.png``, ``.jpg``, ``.webp``, ``.gif``."""
    try:
        return FORMATS[format][1]
    except KeyError:
        raise ValueError(f"unknown image format {format!r}; expected png, jpeg, webp or gif") from None


def sniff(data: bytes) -> ImageInfo | None:
    """Recognise an image from its bytes; ``None`` when it is none of PNG, JPEG, WebP or GIF."""
    try:
        head = bytes(data[:16])
        if head.startswith(_PNG_MAGIC):
            return _png(data)
        if head.startswith(b"\xff\xd8\xff"):
            return _jpeg(data)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp(data)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return _gif(data)
        if _is_svg(data):
            return ImageInfo("svg", FORMATS["svg"][0])
    except Exception:  # pragma: no cover - the readers are written not to raise; belt and braces
        return None
    return None


def _is_svg(data: bytes) -> bool:
    text = bytes(data[:1024]).lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<svg"):
        return True
    return text.startswith((b"<?xml", b"<!--", b"<!DOCTYPE svg")) and b"<svg" in text


def _u16be(data: bytes, at: int) -> int:
    return (data[at] << 8) | data[at + 1]


def _u16le(data: bytes, at: int) -> int:
    return data[at] | (data[at + 1] << 8)


def _u24le(data: bytes, at: int) -> int:
    return data[at] | (data[at + 1] << 8) | (data[at + 2] << 16)


def _u32be(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _u32le(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


def _dims(width: int, height: int) -> tuple[int | None, int | None]:
    return (width, height) if width > 0 and height > 0 else (None, None)


def _png(data: bytes) -> ImageInfo:
    # signature (8) | length (4) "IHDR" | width (4) height (4) depth (1) colour type (1) ...
    if len(data) < 26 or data[12:16] != b"IHDR":
        return ImageInfo("png", "image/png")
    width, height = _dims(_u32be(data, 16), _u32be(data, 20))
    colour = data[25]
    alpha = True if colour in (4, 6) else _png_trns(data)  # grey + alpha, RGB + alpha carry it always
    return ImageInfo("png", "image/png", width, height, alpha)


def _png_trns(data: bytes) -> bool | None:
    """Whether a tRNS chunk (palette or colour-key transparency) comes before the image data."""
    at = 8
    while at + 8 <= len(data):
        length = _u32be(data, at)
        kind = data[at + 4 : at + 8]
        if kind == b"tRNS":
            return True
        if kind in (b"IDAT", b"IEND"):
            return False
        at += 12 + length
    return None  # truncated before the image data: cannot tell


# SOFn markers that carry the frame size: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})


def _jpeg(data: bytes) -> ImageInfo:
    at = 2
    size = len(data)
    while at < size:
        if data[at] != 0xFF:
            break  # not at a marker: corrupt or unexpected data
        while at < size and data[at] == 0xFF:  # fill bytes
            at += 1
        if at >= size:
            break
        marker = data[at]
        at += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header before it
            break
        if at + 2 > size:
            break
        length = _u16be(data, at)
        if length < 2:
            break
        if marker in _SOF:
            if at + 7 > size:
                break
            width, height = _dims(_u16be(data, at + 5), _u16be(data, at + 3))
            return ImageInfo("jpeg", "image/jpeg", width, height, False)
        at += length
    return ImageInfo("jpeg", "image/jpeg", None, None, False)


def _webp(data: bytes) -> ImageInfo:
    # "RIFF" size "WEBP" | chunk fourcc (4) chunk size (4) | chunk data from 20
    kind = data[12:16]
    width: int | None = None
    height: int | None = None
    alpha: bool | None = None
    if kind == b"VP8 " and len(data) >= 30:
        # frame tag (3), start code 9d 01 2a, then 14-bit width and height (2 bits of scale each)
        if data[23:26] == b"\x9d\x01\x2a":
            width, height = _dims(_u16le(data, 26) & 0x3FFF, _u16le(data, 28) & 0x3FFF)
        alpha = False
    elif kind == b"VP8L" and len(data) >= 25:
        if data[20] == 0x2F:
            bits = _u32le(data, 21)
            width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            alpha = bool((bits >> 28) & 1)
    elif kind == b"VP8X" and len(data) >= 30:
        alpha = bool(data[20] & 0x10)
        width, height = _u24le(data, 24) + 1, _u24le(data, 27) + 1
    return ImageInfo("webp", "image/webp", width, height, alpha)


def _gif(data: bytes) -> ImageInfo:
    if len(data) < 10:
        return ImageInfo("gif", "image/gif")
    width, height = _dims(_u16le(data, 6), _u16le(data, 8))
    return ImageInfo("gif", "image/gif", width, height, _gif_transparency(data))


def _gif_transparency(data: bytes) -> bool | None:
    """Whether a graphic control extension with the transparency flag comes before the first image."""
    if len(data) < 13:
        return None
    packed = data[10]
    at = 13 + (3 * (2 << (packed & 0x07)) if packed & 0x80 else 0)  # skip the global colour table
    size = len(data)
    while at < size:
        block = data[at]
        if block == 0x2C or block == 0x3B:  # image descriptor, trailer
            return False
        if block != 0x21 or at + 2 >= size:  # not an extension, or truncated
            return None
        label = data[at + 1]
        at += 2
        if label == 0xF9 and at + 2 < size and data[at] >= 4 and data[at + 1] & 0x01:  # graphic control, flags
            return True
        while at < size:  # sub-blocks until the zero terminator
            length = data[at]
            at += 1 + length
            if length == 0:
                break
    return None
