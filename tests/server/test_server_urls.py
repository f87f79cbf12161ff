"""Image URLs: served by the same server, signed and expiring like Azure blob URLs."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
from support.server import KEY, TIMEOUT, App, decode

from imagewire.server import Running
from imagewire.server.files import FileStore

GEN = "/v1/images/generations"


def test_url_downloads_the_same_bytes_as_b64(local: Running) -> None:
    body = {"model": "dall-e-3", "prompt": "Yellow alpaca", "size": "1024x1024"}
    headers = {"Authorization": f"Bearer {KEY}"}
    url = httpx.post(local.base_url + "/images/generations", json=body, headers=headers, timeout=TIMEOUT).json()
    b64 = httpx.post(
        local.base_url + "/images/generations",
        json={**body, "response_format": "b64_json"},
        headers=headers,
        timeout=TIMEOUT,
    ).json()
    link = url["data"][0]["url"]
    parts = urlsplit(link)
    assert parts.netloc == urlsplit(local.origin).netloc
    assert parts.path.startswith("/files/img-") and parts.path.endswith(".png")
    assert set(dict(parse_qsl(parts.query))) == {"se", "sig"}
    downloaded = httpx.get(link, timeout=TIMEOUT)  # no credentials needed: the URL is signed
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "image/png"
    assert downloaded.content == decode(b64["data"][0]["b64_json"])


def test_tampered_signature_is_403_with_a_storage_error(app: App) -> None:
    client = app()
    link = client.post(GEN, json={"model": "dall-e-2", "prompt": "p", "size": "256x256"}).json()["data"][0]["url"]
    bad = client.get(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert bad.status_code == 403
    assert bad.headers["content-type"].startswith("application/xml")
    assert b"<Code>AuthenticationFailed</Code>" in bad.content
    assert b"Signature did not match" in bad.content
    moved = client.get(link.replace("se=", "se=1"))  # a later expiry with the old signature
    assert moved.status_code == 403
    unsigned = client.get(link.split("?")[0])
    assert unsigned.status_code == 403
    assert client.get(link).status_code == 200


def test_expired_url_is_403(app: App) -> None:
    client = app(url_ttl=-1)  # already expired when handed out
    link = client.post(GEN, json={"model": "dall-e-2", "prompt": "p", "size": "256x256"}).json()["data"][0]["url"]
    r = client.get(link)
    assert r.status_code == 403
    assert b"Signed expiry time" in r.content


def test_expiry_follows_url_ttl(app: App) -> None:
    import time

    link = app(url_ttl=120).post(GEN, json={"model": "dall-e-2", "prompt": "p"}).json()["data"][0]["url"]
    expiry = int(dict(parse_qsl(urlsplit(link).query))["se"])
    assert 110 <= expiry - time.time() <= 130


def test_file_store_unknown_image_and_eviction() -> None:
    store = FileStore(60, secret=b"s", max_items=2)
    names = [store.put(bytes([i]) * 10, "png", "image/png") for i in range(3)]
    assert len(set(names)) == 3
    for name, expected in zip(names, (404, 200, 200), strict=True):
        query = dict(parse_qsl(urlsplit(store.url("http://h", name, now=1000)).query))
        status, body, content_type = store.fetch(name, query["se"], query["sig"], now=1000)
        assert status == expected
        if status == 404:
            assert b"BlobNotFound" in body and content_type == "application/xml"
    assert store.fetch("../etc/passwd", "1", "x")[0] == 403
