"""Edits and variations on the wire: multipart bodies parsed back with the stdlib, and JSON edits."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from support.client import JPEG, PNG, PNG_B, WEBP, Server, client, ok_b64, parse_multipart, png_bytes


def _fields(parts: list[dict]) -> dict[str, str]:
    return {p["name"]: p["data"].decode() for p in parts if p["filename"] is None}


def _files(parts: list[dict]) -> list[dict]:
    return [p for p in parts if p["filename"] is not None]


def test_one_file_is_sent_as_part_image() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(model="gpt-image-1.5", prompt="add a hat", image=PNG, size="1024x1024")
    (request,) = server.requests
    assert str(request.url).endswith("/v1/images/edits")
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = parse_multipart(request)
    assert _fields(parts) == {"model": "gpt-image-1.5", "prompt": "add a hat", "size": "1024x1024"}
    (image,) = _files(parts)
    assert image["name"] == "image"
    assert image["filename"] == "image.png"
    assert image["content_type"] == "image/png"
    assert image["data"] == PNG
    assert "None" not in request.content.decode("latin-1")


def test_several_files_of_every_kind_are_repeated_image_array_parts(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(JPEG)
    handle = io.BytesIO(WEBP)
    handle.name = "/somewhere/texture.webp"
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(
        model="gpt-image-1.5",
        prompt="combine",
        image=[path, PNG, handle, ("logo.png", PNG_B)],
    )
    files = _files(parse_multipart(server.requests[0]))
    assert [f["name"] for f in files] == ["image[]"] * 4
    assert [f["filename"] for f in files] == ["photo.jpg", "image.png", "texture.webp", "logo.png"]
    assert [f["content_type"] for f in files] == ["image/jpeg", "image/png", "image/webp", "image/png"]
    assert [f["data"] for f in files] == [JPEG, PNG, WEBP, PNG_B]


def test_content_type_is_sniffed_not_taken_from_the_name() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(model="gpt-image-1.5", prompt="p", image=[("really-a-jpeg.png", JPEG), ("x.bin", WEBP)])
    files = _files(parse_multipart(server.requests[0]))
    assert [f["content_type"] for f in files] == ["image/jpeg", "image/webp"]


def test_a_path_given_as_str(tmp_path: Path) -> None:
    path = tmp_path / "cat.webp"
    path.write_bytes(WEBP)
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(model="gpt-image-1.5", prompt="p", image=str(path))
    (image,) = _files(parse_multipart(server.requests[0]))
    assert (image["name"], image["filename"], image["content_type"]) == ("image", "cat.webp", "image/webp")


def test_mask_part() -> None:
    image = png_bytes(4, 4)
    mask = png_bytes(4, 4, shade=7)
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(model="gpt-image-1.5", prompt="p", image=image, mask=mask)
    files = _files(parse_multipart(server.requests[0]))
    assert [(f["name"], f["filename"], f["content_type"]) for f in files] == [
        ("image", "image.png", "image/png"),
        ("mask", "mask.png", "image/png"),
    ]
    assert files[1]["data"] == mask


def test_booleans_are_true_and_numbers_are_decimal_and_none_is_left_out() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(
        model="gpt-image-1.5",
        prompt="p",
        image=PNG,
        n=2,
        quality=None,
        extra_body={"flag_on": True, "flag_off": False, "strength": 0.5},
        validate=False,
    )
    request = server.requests[0]
    fields = _fields(parse_multipart(request))
    assert fields == {
        "model": "gpt-image-1.5",
        "prompt": "p",
        "n": "2",
        "flag_on": "true",
        "flag_off": "false",
        "strength": "0.5",
    }
    text = request.content.decode("latin-1")
    assert "None" not in text
    assert "True" not in text


def test_stream_flag_on_a_multipart_edit_is_sent_as_true() -> None:
    from support.client import b64, sse, sse_response

    stream_body = sse({"type": "image_edit.completed", "b64_json": b64(PNG)})
    server = Server(sse_response(stream_body))
    c = client(server)
    events = list(c.images.edit(model="gpt-image-1.5", prompt="p", image=PNG, stream=True, partial_images=1))
    assert len(events) == 1
    fields = _fields(parse_multipart(server.requests[0]))
    assert fields["stream"] == "true"
    assert fields["partial_images"] == "1"


def test_json_edit_by_reference() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(
        model="gpt-image-1.5",
        prompt="p",
        images=[{"image_url": "https://img.example.test/a.png"}, {"file_id": "file-abc"}],
        moderation="low",
    )
    request = server.requests[0]
    assert request.headers["content-type"] == "application/json"
    assert server.json() == {
        "model": "gpt-image-1.5",
        "prompt": "p",
        "images": [{"image_url": "https://img.example.test/a.png"}, {"file_id": "file-abc"}],
        "moderation": "low",
    }


def test_json_edit_with_a_mask_reference() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(model="gpt-image-1.5", prompt="p", images=[{"file_id": "file-1"}], mask={"file_id": "file-mask"})
    assert server.requests[0].headers["content-type"] == "application/json"
    assert server.json()["mask"] == {"file_id": "file-mask"}


def test_variation_is_multipart_with_one_image_part() -> None:
    server = Server(ok_b64())
    c = client(server, validate=False)
    c.images.create_variation(model="dall-e-2", image=png_bytes(4, 4), n=2, size="256x256")
    request = server.requests[0]
    assert str(request.url).endswith("/v1/images/variations")
    parts = parse_multipart(request)
    assert _fields(parts) == {"model": "dall-e-2", "n": "2", "size": "256x256"}
    (image,) = _files(parts)
    assert (image["name"], image["content_type"]) == ("image", "image/png")


def test_variation_is_refused_as_retired_when_validating() -> None:
    from imagewire_client import ValidationError

    server = Server(ok_b64())
    c = client(server, provider="openai")
    with pytest.raises(ValidationError):
        c.images.create_variation(model="dall-e-2", image=png_bytes(4, 4))
    assert server.count == 0


def test_the_boundary_does_not_occur_in_the_files() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.edit(model="gpt-image-1.5", prompt="p", image=[PNG, JPEG])
    request = server.requests[0]
    boundary = request.headers["content-type"].split("boundary=", 1)[1]
    assert boundary.encode() not in PNG + JPEG
    assert request.content.endswith(f"--{boundary}--\r\n".encode())


def test_a_text_mode_file_is_refused(tmp_path: Path) -> None:
    from imagewire_client import ValidationError

    path = tmp_path / "a.png"
    path.write_bytes(PNG)
    server = Server(ok_b64())
    c = client(server)
    with open(path, encoding="latin-1") as handle, pytest.raises(ValidationError) as info:
        c.images.edit(model="gpt-image-1.5", prompt="p", image=handle)
    assert "binary" in str(info.value)
    assert server.count == 0
