"""imagewire.multipart, the one form reader of the kit: parts as the validator, the reference provider and
the request dump read them, and sections kept byte for byte for the scrubber."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from imagewire import multipart

CRLF_FORM = (
    b"preamble\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="image[]"; filename="a \\"quoted\\".png"\r\n'
    b"Content-Type: image/png\r\n"
    b"\r\n"
    b"\x89PNG\r\n\x1a\n\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="prompt"\r\n'
    b"\r\n"
    b"A red circle\r\n"
    b"--XyZ--\r\n"
    b"epilogue"
)


def test_parts_name_filename_type_and_bytes() -> None:
    image, prompt = multipart.parse(CRLF_FORM, "multipart/form-data; boundary=XyZ") or []
    assert (image.name, image.filename, image.content_type) == ("image[]", 'a \\"quoted\\".png', "image/png")
    assert image.data == b"\x89PNG\r\n\x1a\n" and image.is_file
    assert (prompt.name, prompt.filename, prompt.data, prompt.is_file) == ("prompt", None, b"A red circle", False)


def test_a_body_cut_into_sections_is_given_back_byte_for_byte() -> None:
    form = multipart.split(CRLF_FORM, 'multipart/form-data; boundary="XyZ"')
    assert form is not None and len(form.sections) == 2
    assert form.preamble == b"preamble\r\n" and form.closing == (b"--\r\nepilogue",)
    assert bytes(form) == CRLF_FORM
    assert form.sections[1].headers == {"content-disposition": 'form-data; name="prompt"'}


def test_bare_line_feeds_and_a_boundary_read_from_the_body() -> None:
    body = b'--b\nContent-Disposition: form-data; name="n"\n\n2\n--b--\n'
    assert multipart.boundary("multipart/form-data", body) == "b"
    [part] = multipart.parse(body, "multipart/form-data") or []
    assert (part.name, part.data) == ("n", b"2")
    form = multipart.split(body, "multipart/form-data")
    assert form is not None and bytes(form) == body and form.sections[0].newline == b"\n"


def test_no_boundary_is_none_and_no_delimiter_is_no_parts() -> None:
    assert multipart.parse(b"just text", "multipart/form-data") is None
    assert multipart.parse(b"just text", "multipart/form-data; boundary=zzz") == []
    assert multipart.param('form-data; name="a"; filename=b.png', "filename") == "b.png"


@given(st.binary(max_size=400), st.sampled_from(["multipart/form-data; boundary=XyZ", "multipart/form-data"]))
def test_any_bytes_are_read_without_an_exception_and_split_gives_them_back(body: bytes, content_type: str) -> None:
    parts = multipart.parse(body, content_type)
    assert parts is None or all(isinstance(p.data, bytes) for p in parts)
    form = multipart.split(body, content_type)
    assert form is None or bytes(form) == body


def _read(body: bytes, boundary: str, cuts: list[int]) -> list[tuple[str, str | None, bytes]]:
    """The parts a Reader reads from ``body`` fed in pieces cut at ``cuts``."""
    reader = multipart.Reader(boundary)
    events: list[multipart.Part | bytes | None] = []
    at = 0
    for cut in sorted(cuts):
        events += reader.feed(body[at:cut])
        at = cut
    events += reader.feed(body[at:])
    events += reader.finish()
    parts: list[tuple[str, str | None, bytes]] = []
    data = b""
    for event in events:
        if isinstance(event, multipart.Part):
            head, data = event, b""
        elif isinstance(event, bytes):
            assert event, "no empty pieces"
            data += event
        else:
            parts.append((head.name, head.filename, data))
    return parts


def _parsed(body: bytes, boundary: str) -> list[tuple[str, str | None, bytes]]:
    return [
        (p.name, p.filename, p.data) for p in multipart.parse(body, f"multipart/form-data; boundary={boundary}") or []
    ]


def test_the_reader_reads_the_parts_parse_reads_whatever_the_pieces() -> None:
    for cuts in ([], [1], [5, 6, 7], list(range(len(CRLF_FORM)))):
        assert _read(CRLF_FORM, "XyZ", cuts) == _parsed(CRLF_FORM, "XyZ")
    assert _read(CRLF_FORM, "XyZ", [])[0] == ("image[]", 'a \\"quoted\\".png', b"\x89PNG\r\n\x1a\n")


_TOKENS = st.sampled_from([b"--b", b"--b--", b"\n", b"\n\n", b"-", b"b", b"x", b"\r", b"\r\n", b"\r\n\r\n", b"\x00"])
_HEAD = st.sampled_from([b'Content-Disposition: form-data; name="a"', b'name="f"; filename="f.png"', b"X: y"])


@given(st.lists(st.one_of(_TOKENS, _HEAD), max_size=40), st.lists(st.integers(0, 400), max_size=8))
def test_any_form_in_any_pieces_reads_as_parse_reads_it(tokens: list[bytes], cuts: list[int]) -> None:
    body = b"".join(tokens)
    if b"\n\n" in body and b"\r\n\r\n" in body:
        # the one difference: parse prefers a \r\n blank line to an earlier \n one; compare without \r
        body = body.replace(b"\r", b"")
    assert _read(body, "b", [c for c in cuts if c <= len(body)]) == _parsed(body, "b")


@given(st.binary(min_size=0, max_size=3000), st.integers(1, 700))
def test_file_data_passes_through_in_pieces_byte_for_byte(data: bytes, piece: int) -> None:
    body = b'--q\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\n' + data + b"\r\n--q--\r\n"
    assume(b"--q" not in data)
    assert _read(body, "q", list(range(0, len(body), piece))) == [("image", "a", data)]


def test_a_head_past_max_head_is_refused() -> None:
    reader = multipart.Reader("b", max_head=100)
    reader.feed(b"--b\r\n")
    with pytest.raises(multipart.FormError, match="head is longer"):
        for _ in range(10):
            reader.feed(b"X-Long: " + b"y" * 40)
    assert multipart.Reader("b").feed(b"--b--\r\nignored") == []
