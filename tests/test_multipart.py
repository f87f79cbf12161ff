"""imagewire.multipart, the one form reader of the kit: parts as the validator, the reference provider and
the request dump read them, and sections kept byte for byte for the scrubber."""

from __future__ import annotations

from hypothesis import given
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
