"""The request log: every request recorded (method, path, time, status), never the key; reset."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from support.server import KEY, TIMEOUT

from imagewire.server import Running
from imagewire_client import Client, ValidationError


def test_every_request_is_logged_without_the_key(local: Running) -> None:
    before = time.time()
    headers = {"Authorization": f"Bearer {KEY}", "X-Imagewire-Fault": "rate-limit;times=1"}
    url = local.base_url + "/images/generations"
    body = {"model": "dall-e-2", "prompt": "p", "size": "256x256"}
    assert httpx.post(url, json=body, headers=headers, timeout=TIMEOUT).status_code == 429
    answer = httpx.post(url, json=body, headers=headers, timeout=TIMEOUT)
    assert httpx.get(answer.json()["data"][0]["url"], timeout=TIMEOUT).status_code == 200
    assert httpx.post(url, json=body, timeout=TIMEOUT).status_code == 401
    assert httpx.get(local.base_url + "/images/generations", headers=headers, timeout=TIMEOUT).status_code == 405
    log = local.requests()
    assert [(e["method"], e["path"].rsplit("/", 1)[-1][:4], e["status"]) for e in log] == [
        ("POST", "gene", 429),
        ("POST", "gene", 200),
        ("GET", log[2]["path"].rsplit("/", 1)[-1][:4], 200),
        ("POST", "gene", 401),
        ("GET", "gene", 405),
    ]
    assert log[2]["path"].startswith("/files/img-")
    assert all(before <= e["time"] <= time.time() for e in log)
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
    assert log[0]["faults"] == ["rate-limit"] and "faults" not in log[1]
    assert log[1]["model"] == "dall-e-2" and log[1]["operation"] == "generations"
    raw = httpx.get(local.origin + "/_imagewire/requests", headers=local.auth, timeout=TIMEOUT).text
    assert KEY not in raw and KEY[-8:] not in raw
    assert "authorization" not in raw.lower()


def test_credentials_in_the_url_are_scrubbed_from_the_log(local: Running) -> None:
    token = "PLANTEDq8W3zK5mV7xR2"
    url = f"{local.base_url}/images/generations?api-version=x&api-key={token}&sig={token}&note=sk-{token}"
    assert httpx.post(url, json={}, timeout=TIMEOUT).status_code == 401
    assert httpx.post(f"{local.origin}/v1/sk-{token}/images/generations", timeout=TIMEOUT).status_code == 404
    raw = httpx.get(local.origin + "/_imagewire/requests", headers=local.auth, timeout=TIMEOUT).text
    assert token not in raw
    first, second = local.requests()
    assert first["query"] == "api-version=x&api-key=REDACTED&sig=REDACTED&note=REDACTED"
    assert first["path"] == "/v1/images/generations" and second["path"] == "/v1/REDACTED/images/generations"


def test_reset_empties_the_log(local: Running) -> None:
    httpx.post(local.base_url + "/images/generations", json={}, timeout=TIMEOUT)
    assert len(local.requests()) == 1
    for method, path in (("POST", "reset"), ("GET", "requests")):  # the control endpoints are behind the key
        refused = httpx.request(method, f"{local.origin}/_imagewire/{path}", timeout=TIMEOUT)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    assert len(local.requests()) == 1
    local.reset()
    assert local.requests() == []
    raw = httpx.get(local.origin + "/_imagewire/requests", headers=local.auth, timeout=TIMEOUT).text
    assert json.loads(raw) == {"requests": []}


def test_a_request_the_client_rejects_sends_nothing(local: Running) -> None:
    client = Client(provider="local", base_url=local.base_url, api_key=KEY, allow_retired=True)
    with client, pytest.raises(ValidationError):
        client.images.generate(model="dall-e-3", prompt="x", size="256x256")
    assert local.requests() == []
