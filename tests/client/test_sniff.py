"""imagewire_client._sniff: formats, MIME types, dimensions and alpha from hand-built image headers."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagewire_client._sniff import ImageInfo, extension, sniff

# ---------------------------------------------------------------------------- hand-built images


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 4, height: int = 3, *, colour: int = 6, trns: bool = False) -> bytes:
    """A valid 8-bit PNG: colour type 6 (RGBA), 2 (RGB), 0 (grey), 4 (grey+alpha) or 3 (palette)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    raw = b"".join(b"\x00" + b"\x7f" * (width * channels) for _ in range(height))
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))]
    if colour == 3:
        chunks.append(_chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff"))
    if trns:
        chunks.append(_chunk(b"tRNS", b"\x00" if colour == 3 else b"\x00\x00" * (3 if colour == 2 else 1)))
    chunks += [_chunk(b"IDAT", zlib.compress(raw)), _chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def jpeg(width: int = 640, height: int = 480, *, sof: int = 0xC0, app_segments: int = 2) -> bytes:
    """SOI, APPn segments, DQT, a DHT (C4, which is not a frame header), SOFn, SOS, EOI."""
    out = b"\xff\xd8"
    for i in range(app_segments):
        payload = b"JFIF\x00" + bytes(range(i, i + 20))
        out += bytes([0xFF, 0xE0 + i]) + struct.pack(">H", len(payload) + 2) + payload
    out += b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(64)
    out += b"\xff\xc4" + struct.pack(">H", 20) + bytes(18)
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    out += bytes([0xFF, sof]) + struct.pack(">H", len(frame) + 2) + frame
    out += b"\xff\xda" + struct.pack(">H", 12) + bytes(10) + b"\x12\x34\x56"
    return out + b"\xff\xd9"


def _riff(chunk: bytes) -> bytes:
    body = b"WEBP" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8(width: int = 320, height: int = 200) -> bytes:
    data = b"\x30\x01\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(10)
    return _riff(b"VP8 " + struct.pack("<I", len(data)) + data)


def webp_vp8l(width: int = 300, height: int = 150, *, alpha: bool = True) -> bytes:
    bits = (width - 1) | ((height - 1) << 14) | (int(alpha) << 28)
    data = b"\x2f" + struct.pack("<I", bits) + bytes(8)
    return _riff(b"VP8L" + struct.pack("<I", len(data)) + data)


def webp_vp8x(width: int = 4000, height: int = 3000, *, alpha: bool = True) -> bytes:
    flags = 0x10 if alpha else 0
    data = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return _riff(b"VP8X" + struct.pack("<I", len(data)) + data)


def gif(width: int = 10, height: int = 7, *, transparent: bool = False, version: bytes = b"89a") -> bytes:
    out = b"GIF" + version + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + bytes(6)  # 2-colour table
    out += b"\x21\xfe\x03abc\x00"  # a comment extension first
    out += b"\x21\xf9\x04" + bytes([0x01 if transparent else 0x00]) + b"\x00\x00\x00\x00"
    out += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00" + b"\x3b"
    return out


# ---------------------------------------------------------------------------- PNG


def test_png_rgba() -> None:
    assert sniff(png(4, 3)) == ImageInfo("png", "image/png", 4, 3, True)


@pytest.mark.parametrize(
    ("colour", "trns", "alpha"),
    [
        (6, False, True),
        (4, False, True),
        (2, False, False),
        (0, False, False),
        (3, False, False),
        (3, True, True),
        (2, True, True),
    ],
)
def test_png_alpha_from_colour_type_and_trns(colour: int, trns: bool, alpha: bool) -> None:
    info = sniff(png(5, 9, colour=colour, trns=trns))
    assert info is not None
    assert (info.format, info.width, info.height, info.has_alpha) == ("png", 5, 9, alpha)


def test_png_truncated_keeps_the_format() -> None:
    data = png(1024, 768, colour=2)
    assert sniff(data[:8]) == ImageInfo("png", "image/png", None, None, None)
    assert sniff(data[:20]) == ImageInfo("png", "image/png", None, None, None)
    info = sniff(data[:33])  # IHDR complete, nothing after it: alpha unknown for RGB
    assert info == ImageInfo("png", "image/png", 1024, 768, None)


def test_png_zero_size_gives_no_dimensions() -> None:
    info = sniff(png(0, 0))
    assert info is not None and info.width is None and info.height is None


# ---------------------------------------------------------------------------- JPEG


@pytest.mark.parametrize("sof", [0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF])
def test_jpeg_every_sof_marker(sof: int) -> None:
    assert sniff(jpeg(640, 480, sof=sof)) == ImageInfo("jpeg", "image/jpeg", 640, 480, False)


def test_jpeg_walks_segments_and_fill_bytes() -> None:
    data = jpeg(1792, 1024, app_segments=5)
    # fill bytes (0xFF padding) before a marker are allowed
    padded = data[:2] + b"\xff\xff\xff" + data[2:]
    assert sniff(padded) == ImageInfo("jpeg", "image/jpeg", 1792, 1024, False)


def test_jpeg_dht_is_not_a_frame() -> None:
    # C4 (DHT) carries a length but no size; a walker that took it for SOF would read zeros/garbage
    info = sniff(jpeg(33, 44))
    assert info is not None and (info.width, info.height) == (33, 44)


@pytest.mark.parametrize("cut", [3, 4, 6, 25, 60, 100])
def test_jpeg_truncated(cut: int) -> None:
    info = sniff(jpeg()[:cut])
    assert info is not None and info.format == "jpeg"
    assert info.width is None and info.height is None


def test_jpeg_without_frame_before_scan() -> None:
    data = b"\xff\xd8\xff\xe0\x00\x04ab\xff\xda\x00\x02\xff\xd9"
    assert sniff(data) == ImageInfo("jpeg", "image/jpeg", None, None, False)


# ---------------------------------------------------------------------------- WebP


def test_webp_lossy() -> None:
    assert sniff(webp_vp8(320, 200)) == ImageInfo("webp", "image/webp", 320, 200, False)


@pytest.mark.parametrize("alpha", [True, False])
def test_webp_lossless(alpha: bool) -> None:
    assert sniff(webp_vp8l(300, 150, alpha=alpha)) == ImageInfo("webp", "image/webp", 300, 150, alpha)


@pytest.mark.parametrize("alpha", [True, False])
def test_webp_extended(alpha: bool) -> None:
    assert sniff(webp_vp8x(4000, 3000, alpha=alpha)) == ImageInfo("webp", "image/webp", 4000, 3000, alpha)


def test_webp_extremes() -> None:
    assert sniff(webp_vp8l(16384, 1)) == ImageInfo("webp", "image/webp", 16384, 1, True)
    assert sniff(webp_vp8x(1 << 24, 1)) == ImageInfo("webp", "image/webp", 1 << 24, 1, True)


def test_webp_truncated_or_unknown_chunk() -> None:
    assert sniff(webp_vp8(320, 200)[:24]) == ImageInfo("webp", "image/webp", None, None, None)
    assert sniff(_riff(b"ABCD" + bytes(20))) == ImageInfo("webp", "image/webp", None, None, None)
    bad_start = bytearray(webp_vp8(320, 200))
    bad_start[23] = 0  # start code broken
    assert sniff(bytes(bad_start)) == ImageInfo("webp", "image/webp", None, None, False)


def test_riff_that_is_not_webp() -> None:
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(20)) is None


# ---------------------------------------------------------------------------- GIF


@pytest.mark.parametrize("version", [b"87a", b"89a"])
def test_gif(version: bytes) -> None:
    assert sniff(gif(10, 7, version=version)) == ImageInfo("gif", "image/gif", 10, 7, False)


def test_gif_transparency() -> None:
    assert sniff(gif(3, 2, transparent=True)) == ImageInfo("gif", "image/gif", 3, 2, True)


def test_gif_truncated() -> None:
    assert sniff(gif()[:8]) == ImageInfo("gif", "image/gif", None, None, None)
    info = sniff(gif()[:12])
    assert info == ImageInfo("gif", "image/gif", 10, 7, None)


# ---------------------------------------------------------------------------- garbage and helpers


@pytest.mark.parametrize(
    "data",
    [b"", b"\x89PN", b"hello world", b"\xff\xd8", b"GIF88a" + bytes(10), b"RIFF", b"%PDF-1.7\n", bytes(64)],
)
def test_not_an_image(data: bytes) -> None:
    assert sniff(data) is None


@given(st.binary(max_size=300))
def test_never_raises_on_garbage(data: bytes) -> None:
    info = sniff(data)
    assert info is None or info.format in ("png", "jpeg", "webp", "gif", "svg")


@given(
    st.sampled_from([png(7, 5), jpeg(), webp_vp8(), webp_vp8l(), webp_vp8x(), gif(transparent=True)]),
    st.data(),
)
def test_never_raises_on_truncated_or_corrupted_images(image: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(image)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(image) - 1), st.integers(0, 255)), max_size=4))
    mangled = bytearray(image[:cut] if data.draw(st.booleans()) else image)
    for at, value in flips:
        if at < len(mangled):
            mangled[at] = value
    info = sniff(bytes(mangled))
    if info is not None:
        assert info.mime == "image/" + info.format
        assert info.width is None or info.width > 0
        assert info.height is None or info.height > 0


def test_accepts_bytearray_and_memoryview() -> None:
    data = png(2, 2)
    assert sniff(bytearray(data)) == sniff(memoryview(data)) == sniff(data)


@pytest.mark.parametrize(("fmt", "ext"), [("png", ".png"), ("jpeg", ".jpg"), ("webp", ".webp"), ("gif", ".gif")])
def test_extension(fmt: str, ext: str) -> None:
    assert extension(fmt) == ext


def test_extension_unknown() -> None:
    with pytest.raises(ValueError, match="unknown image format 'tiff'"):
        extension("tiff")


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, imagewire_client._sniff; print(sorted(m for m in ('attrs', 'httpx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
