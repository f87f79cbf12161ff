"""imagewire_client._multipart: reading input files and encoding multipart/form-data bodies.

Bodies are parsed back with the standard library's ``email`` parser (and a strict little splitter for
the raw bytes), so what is asserted is what a server would read.
"""

from __future__ import annotations

import email.parser
import email.policy
import enum
import io
import struct
import zlib
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagewire_client._multipart import InputFileError, Upload, encode, read_file
from imagewire_client._sniff import ImageInfo

# ---------------------------------------------------------------------------- images


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 4, height: int = 4) -> bytes:
    raw = b"".join(b"\x00" + b"\x10\x20\x30\x40" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def jpeg(width: int = 8, height: int = 6) -> bytes:
    frame = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", len(frame) + 2) + frame + b"\xff\xd9"


def webp(width: int = 5, height: int = 3) -> bytes:
    bits = (width - 1) | ((height - 1) << 14) | (1 << 28)
    data = b"\x2f" + struct.pack("<I", bits) + bytes(8)
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


# ---------------------------------------------------------------------------- parsing helpers


def parse(body: bytes, content_type: str) -> list[EmailMessage]:
    """The parts of a multipart/form-data body, through the stdlib email parser."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    assert isinstance(message, EmailMessage)
    assert message.is_multipart()
    assert not message.defects, message.defects
    return [part for part in message.iter_parts() if isinstance(part, EmailMessage)]


def raw_parts(body: bytes, boundary: str) -> list[tuple[bytes, bytes]]:
    """(headers, content) per part, split on the exact delimiters RFC 2046 prescribes."""
    dash = b"--" + boundary.encode()
    if body == dash + b"--\r\n":
        return []
    assert body.startswith(dash + b"\r\n")
    assert body.endswith(b"\r\n" + dash + b"--\r\n")
    inner = body[len(dash) + 2 : -(len(dash) + 6)]
    parts = []
    for chunk in inner.split(b"\r\n" + dash + b"\r\n"):
        headers, sep, content = chunk.partition(b"\r\n\r\n")
        assert sep
        parts.append((headers, content))
    return parts


def boundary_of(content_type: str) -> str:
    kind, _, param = content_type.partition("; boundary=")
    assert kind == "multipart/form-data"
    return param


# ---------------------------------------------------------------------------- read_file


def test_read_path(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(png(4, 4))
    upload = read_file(path, field="image")
    assert upload == Upload("cat.png", png(4, 4), "image/png", ImageInfo("png", "image/png", 4, 4, True))
    assert read_file(str(path), field="image") == upload


def test_content_type_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(jpeg())
    upload = read_file(path, field="image")
    assert (upload.filename, upload.content_type) == ("photo.png", "image/jpeg")
    assert read_file(("weird.bin", webp()), field="image").content_type == "image/webp"


def test_raw_bytes_get_a_deterministic_name() -> None:
    assert read_file(png(), field="image").filename == "image.png"
    assert read_file(png(), field="mask").filename == "mask.png"
    assert read_file(jpeg(), field="image[]").filename == "image.jpg"
    assert read_file(bytearray(webp()), field="markup").filename == "markup.webp"


def test_open_file(tmp_path: Path) -> None:
    path = tmp_path / "in.webp"
    path.write_bytes(webp(5, 3))
    with path.open("rb") as handle:
        upload = read_file(handle, field="image")
    assert (upload.filename, upload.content_type, upload.data) == ("in.webp", "image/webp", webp(5, 3))
    assert upload.info is not None and (upload.info.width, upload.info.height) == (5, 3)


def test_in_memory_file_without_a_name() -> None:
    upload = read_file(io.BytesIO(jpeg()), field="image")
    assert (upload.filename, upload.content_type) == ("image.jpg", "image/jpeg")


def test_tuples() -> None:
    assert read_file(("a.png", png()), field="image").filename == "a.png"
    upload = read_file(("odd.avif", b"\x00\x00\x00\x1cftypavif", "image/avif"), field="image")
    assert (upload.filename, upload.content_type, upload.info) == ("odd.avif", "image/avif", None)
    assert read_file(("", png(), ""), field="mask") == read_file(png(), field="mask")


def test_missing_path() -> None:
    with pytest.raises(InputFileError) as caught:
        read_file("x.png", field="image")
    assert str(caught.value) == "image: no such file 'x.png'"
    assert isinstance(caught.value, ValueError)
    assert (caught.value.field, caught.value.path) == ("image", "x.png")


def test_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputFileError) as caught:
        read_file(tmp_path / "notes.txt", field="image")
    assert (
        str(caught.value) == f"image: {str(tmp_path / 'notes.txt')!r} is not an image (PNG, JPEG, WebP or GIF expected)"
    )
    with pytest.raises(
        InputFileError, match=r"^mask: the bytes given are not an image \(PNG, JPEG, WebP or GIF expected\)$"
    ):
        read_file(b"", field="mask")
    with pytest.raises(InputFileError, match=r"^image: 'notes\.txt' is not an image"):
        read_file(("notes.txt", b"hello"), field="image")


def test_relative_path_is_named_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("notes.txt").write_text("hello")
    with pytest.raises(InputFileError) as caught:
        read_file("notes.txt", field="image")
    assert str(caught.value) == "image: 'notes.txt' is not an image (PNG, JPEG, WebP or GIF expected)"


def test_directory_and_text_mode_and_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="is a directory"):
        read_file(tmp_path, field="image")
    (tmp_path / "a.png").write_bytes(png())
    with (
        (tmp_path / "a.png").open(encoding="latin-1") as text,
        pytest.raises(InputFileError, match=r"binary mode \('rb'\)"),
    ):
        read_file(text, field="image")  # type: ignore[arg-type]
    with pytest.raises(InputFileError, match=r"^image: expected a path"):
        read_file(42, field="image")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- encode


class Quality(str, enum.Enum):  # noqa: UP042 - the shape openapi-python-client generates
    HIGH = "high"


def test_fields_and_files_round_trip() -> None:
    image_a = read_file(("a.png", png(2, 2)), field="image")
    image_b = read_file(jpeg(), field="image")
    mask = read_file(png(2, 2), field="mask")
    body, content_type = encode(
        {"prompt": "a cat", "n": 2, "stream": False, "background": None, "quality": Quality.HIGH, "ratio": 0.5},
        [("image[]", image_a), ("image[]", image_b), ("mask", mask)],
    )
    parts = parse(body, content_type)
    names = [part.get_param("name", header="content-disposition") for part in parts]
    assert names == ["prompt", "n", "stream", "quality", "ratio", "image[]", "image[]", "mask"]
    texts = {p.get_param("name", header="content-disposition"): p.get_content() for p in parts[:5]}
    assert texts == {"prompt": "a cat", "n": "2", "stream": "false", "quality": "high", "ratio": "0.5"}
    files = parts[5:]
    assert [p.get_filename() for p in files] == ["a.png", "image.jpg", "mask.png"]
    assert [p.get_content_type() for p in files] == ["image/png", "image/jpeg", "image/png"]
    assert [p.get_payload(decode=True) for p in files] == [png(2, 2), jpeg(), png(2, 2)]
    assert b"None" not in body and b"False" not in body


def test_booleans_are_lowercase_and_none_is_skipped() -> None:
    body, content_type = encode({"stream": True, "other": False, "gone": None}, [], boundary="b0undary")
    assert content_type == "multipart/form-data; boundary=b0undary"
    assert raw_parts(body, "b0undary") == [
        (b'Content-Disposition: form-data; name="stream"', b"true"),
        (b'Content-Disposition: form-data; name="other"', b"false"),
    ]


def test_exact_bytes() -> None:
    upload = Upload("i.png", b"\x89PNG\r\n\x1a\nDATA", "image/png", None)
    body, _ = encode({"n": 1}, [("image", upload)], boundary="XyZ")
    assert body == (
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="n"\r\n\r\n'
        b"1\r\n"
        b"--XyZ\r\n"
        b'Content-Disposition: form-data; name="image"; filename="i.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
        b"\x89PNG\r\n\x1a\nDATA\r\n"
        b"--XyZ--\r\n"
    )


def test_numbers_as_decimal_text() -> None:
    body, _ = encode({"a": 0, "b": 100, "c": 1e20, "d": 2.5e-7, "e": -3}, [], boundary="B")
    assert [c for _, c in raw_parts(body, "B")] == [b"0", b"100", b"100000000000000000000", b"0.00000025", b"-3"]
    with pytest.raises(ValueError, match="nan"):
        encode({"x": float("nan")}, [])


def test_names_and_filenames_are_escaped() -> None:
    upload = Upload('we"ird\r\nname.png', png(), "image/png", None)
    body, _ = encode({'fi"eld\n': "v"}, [("image", upload)], boundary="B")
    parts = raw_parts(body, "B")
    assert parts[0][0] == b'Content-Disposition: form-data; name="fi%22eld%0A"'
    assert parts[1][0] == (
        b'Content-Disposition: form-data; name="image"; filename="we%22ird%0D%0Aname.png"\r\nContent-Type: image/png'
    )


def test_non_ascii_filename_is_utf8() -> None:
    upload = Upload("Кот.png", png(), "image/png", None)
    body, content_type = encode({"prompt": "ёжик"}, [("image", upload)])
    assert "Кот.png".encode() in body and "ёжик".encode() in body
    parts = parse(body, content_type)
    assert parts[1].get_filename() == "Кот.png"


def test_random_boundary() -> None:
    _, first = encode({"a": "b"}, [])
    _, second = encode({"a": "b"}, [])
    assert first != second
    assert len(boundary_of(first)) >= 32


def test_given_boundary_is_validated() -> None:
    with pytest.raises(ValueError, match="invalid multipart boundary"):
        encode({}, [], boundary="has space")
    with pytest.raises(ValueError, match="invalid multipart boundary"):
        encode({}, [], boundary="x" * 71)
    with pytest.raises(ValueError, match="occurs in the content"):
        encode({"a": "text with\r\n--BOUND inside"}, [], boundary="BOUND")
    encode({"a": "BOUND alone is harmless"}, [], boundary="BOUND")


def test_empty_form() -> None:
    body, _ = encode({}, [], boundary="E")
    assert body == b"--E--\r\n"


@given(
    st.dictionaries(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12),
        st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.text(max_size=30)),
        max_size=6,
    ),
    st.lists(st.binary(max_size=200), max_size=4),
)
def test_round_trip_property(fields: dict[str, object], blobs: list[bytes]) -> None:
    uploads = [Upload(f"f{i}.png", blob, "image/png", None) for i, blob in enumerate(blobs)]
    body, content_type = encode(fields, [("image[]", u) for u in uploads])  # type: ignore[arg-type]
    parts = raw_parts(body, boundary_of(content_type))
    sent = [(k, v) for k, v in fields.items() if v is not None]
    assert len(parts) == len(sent) + len(uploads)
    for (headers, content), (_, value) in zip(parts, sent, strict=False):
        # a text part: one header line, nothing after its quoted name (no filename, no content type)
        assert b"\r\n" not in headers and headers.endswith(b'"')
        expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
        assert content == expected.encode()
    for (headers, content), upload in zip(parts[len(sent) :], uploads, strict=True):
        assert headers.endswith(b"\r\nContent-Type: image/png")
        assert content == upload.data
