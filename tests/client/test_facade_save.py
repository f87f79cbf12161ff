"""``result.save()`` and ``image.content()``: deterministic names, no clobbering, credential-free downloads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from support.client import JPEG, KEY, PNG, PNG_B, WEBP, Server, b64, client, images_body, json_response

IMG_HOST = "https://files.example-cdn.test"


def _result(server: Server, **kwargs):  # type: ignore[no-untyped-def]
    c = client(server, **kwargs)
    return c.images.generate(model="gpt-image-1.5", prompt="p")


def test_b64_png_and_jpeg_saved_with_the_right_extensions(tmp_path: Path) -> None:
    server = Server(
        json_response(images_body({"b64_json": b64(PNG)}, {"b64_json": b64(JPEG)}, {"b64_json": b64(WEBP)}))
    )
    paths = _result(server).save(tmp_path)
    assert [p.suffix for p in paths] == [".png", ".jpg", ".webp"]
    assert [p.read_bytes() for p in paths] == [PNG, JPEG, WEBP]
    assert paths[0].name == f"image-0-{hashlib.sha256(PNG).hexdigest()[:12]}.png"
    assert paths[1].name.startswith("image-1-")
    assert sorted(tmp_path.iterdir()) == sorted(paths)


def test_same_answer_twice_gives_the_same_paths(tmp_path: Path) -> None:
    body = images_body({"b64_json": b64(PNG)}, {"b64_json": b64(JPEG)})
    server = Server(json_response(body))
    first = _result(server).save(tmp_path)
    second = _result(server).save(tmp_path)
    assert first == second
    assert len(list(tmp_path.iterdir())) == 2


def test_prefix_and_a_directory_that_does_not_exist_yet(tmp_path: Path) -> None:
    server = Server(json_response(images_body({"b64_json": b64(PNG)})))
    (path,) = _result(server).save(tmp_path / "a" / "b", prefix="alpaca")
    assert path.parent == tmp_path / "a" / "b"
    assert path.name.startswith("alpaca-0-")


def test_a_different_file_at_the_path_is_not_overwritten(tmp_path: Path) -> None:
    server = Server(json_response(images_body({"b64_json": b64(JPEG)}, {"b64_json": b64(PNG)})))
    result = _result(server)
    second_name = f"image-1-{hashlib.sha256(PNG).hexdigest()[:12]}.png"
    (tmp_path / second_name).write_bytes(b"someone else's file")
    with pytest.raises(FileExistsError):
        result.save(tmp_path)
    # nothing else was written (the first image was removed again) and the other file is intact
    assert [p.name for p in tmp_path.iterdir()] == [second_name]
    assert (tmp_path / second_name).read_bytes() == b"someone else's file"


def test_overwrite_replaces(tmp_path: Path) -> None:
    server = Server(json_response(images_body({"b64_json": b64(PNG)})))
    result = _result(server)
    name = f"image-0-{hashlib.sha256(PNG).hexdigest()[:12]}.png"
    (tmp_path / name).write_bytes(b"old")
    (path,) = result.save(tmp_path, overwrite=True)
    assert path.read_bytes() == PNG
    assert len(list(tmp_path.iterdir())) == 1


def test_url_answer_is_downloaded_without_credentials(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "files.example-cdn.test":
            data = {"/a.png": PNG, "/b.jpg": JPEG}[request.url.path]
            return httpx.Response(200, headers={"content-type": "application/octet-stream"}, content=data)
        return json_response(
            images_body(
                {"url": f"{IMG_HOST}/a.png?sig=abc&se=2026"}, {"url": f"{IMG_HOST}/b.jpg", "revised_prompt": "r"}
            )
        )

    server = Server(handler)
    result = _result(server)
    paths = result.save(tmp_path)
    assert [p.read_bytes() for p in paths] == [PNG, JPEG]
    assert [p.suffix for p in paths] == [".png", ".jpg"]
    downloads = [r for r in server.requests if r.url.host == "files.example-cdn.test"]
    assert len(downloads) == 2
    for request in downloads:
        assert request.method == "GET"
        assert "authorization" not in request.headers
        assert "api-key" not in request.headers
        assert KEY not in str(request.headers)
    assert downloads[0].url.params["sig"] == "abc"


def test_url_download_without_api_key_header_either(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, content=PNG_B)
        return json_response(images_body({"url": f"{IMG_HOST}/x.png"}))

    server = Server(handler)
    result = _result(server, auth_header="api-key", default_headers={"X-Team": "t"})
    assert result.data[0].content() == PNG_B
    download = server.requests[-1]
    assert "api-key" not in download.headers
    assert "authorization" not in download.headers


def test_content_of_b64_and_url_images() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, content=JPEG)
        return json_response(images_body({"b64_json": b64(PNG)}, {"url": f"{IMG_HOST}/y.jpg"}))

    server = Server(handler)
    result = _result(server)
    assert result.data[0].content() == PNG
    assert result.data[1].content() == JPEG
    assert result.data[0].format == "png"


def test_data_url_in_b64_json_is_decoded() -> None:
    server = Server(json_response(images_body({"b64_json": "data:image/png;base64," + b64(PNG)})))
    assert _result(server).data[0].content() == PNG


def test_failed_download_raises_the_status_error_and_writes_nothing(tmp_path: Path) -> None:
    from imagewire_client import APIStatusError

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            if request.url.path == "/gone.png":
                return httpx.Response(403, text="<Error><Code>AuthenticationFailed</Code></Error>")
            return httpx.Response(200, content=PNG)
        return json_response(images_body({"url": f"{IMG_HOST}/ok.png"}, {"url": f"{IMG_HOST}/gone.png"}))

    result = _result(Server(handler))
    with pytest.raises(APIStatusError):
        result.save(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_invalid_base64_is_an_error_of_the_client_tree(tmp_path: Path) -> None:
    """The _errors module promises one tree: a bad b64_json is a ResponseContractError, not a private ShapeError."""
    from imagewire_client import ResponseContractError

    server = Server(json_response(images_body({"b64_json": "not base64 !!!"})))
    result = _result(server)
    with pytest.raises(ResponseContractError) as info:
        result.save(tmp_path)
    assert "base64" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_url_download_follows_a_redirect_with_a_caller_supplied_http_client(tmp_path: Path) -> None:
    """Image hosts redirect (CDN, signed-URL refresh); ``httpx.Client()`` does not follow redirects by default,
    so the download must ask for it, or a 302's empty body is returned (and saved) as the image."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/short/a":
            return httpx.Response(302, headers={"location": f"{IMG_HOST}/blob/a.png"})
        if request.method == "GET":
            return httpx.Response(200, content=PNG)
        return json_response(images_body({"url": f"{IMG_HOST}/short/a"}))

    server = Server(handler)
    result = _result(server)
    assert result.data[0].content() == PNG
    (path,) = result.save(tmp_path)
    assert path.suffix == ".png"


@pytest.mark.parametrize(
    ("payload", "looks"),
    [
        (b"#!/bin/sh\necho owned\n", "a script"),
        (b"<html><script>x</script>", "an HTML page"),
        (b"\x00\x01\xfe", "unrecognised"),
    ],
)
def test_a_payload_that_is_not_an_image_is_refused_and_nothing_is_saved(
    payload: bytes, looks: str, tmp_path: Path
) -> None:
    from imagewire_client import ResponseContractError

    server = Server(json_response(images_body({"b64_json": b64(PNG)}, {"b64_json": b64(payload)})))
    with pytest.raises(ResponseContractError, match=f"image 1 is not an image.*{looks}") as caught:
        _result(server).save(tmp_path / "out")
    assert caught.value.pointer == "/data/1"
    assert not (tmp_path / "out").exists()
