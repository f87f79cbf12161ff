"""Faults on demand against a real server on 127.0.0.1: per request (header, with times=N) and for every
request (``start(faults=...)``)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from support.server import KEY, TIMEOUT, Serve, assert_conforms, error, events

from imagewire.server import Running

BODY = {"model": "gpt-image-1.5", "prompt": "A yellow alpaca", "size": "1024x1024"}
AUTH = {"Authorization": f"Bearer {KEY}"}


def post(
    server: Running, fault: str | None = None, body: object = BODY, path: str = "/images/generations"
) -> httpx.Response:
    headers = dict(AUTH)
    if fault is not None:
        headers["X-Imagewire-Fault"] = fault
    return httpx.post(server.base_url + path, json=body, headers=headers, timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("fault", "status", "code", "kind"),
    [
        ("rate-limit", 429, "rate_limit_exceeded", "requests"),
        ("rate-limit-bare", 429, "rate_limit_exceeded", "requests"),
        ("quota", 429, "insufficient_quota", "insufficient_quota"),
        ("server-error", 500, None, "server_error"),
        ("bad-gateway", 502, "bad_gateway", "server_error"),
        ("overloaded", 503, None, "server_error"),
    ],
)
def test_json_error_faults(local: Running, fault: str, status: int, code: str | None, kind: str) -> None:
    r = post(local, fault)
    assert r.status_code == status
    err = error(r)
    assert (err["code"], err["type"]) == (code, kind)


def test_rate_limit_headers(local: Running) -> None:
    r = post(local, "rate-limit")
    assert r.headers["retry-after"] == "1"
    assert r.headers["retry-after-ms"] == "1000"
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    bare = post(local, "rate-limit-bare")
    assert "retry-after" not in bare.headers and "retry-after-ms" not in bare.headers


def test_html_text_and_wrong_shape(local: Running) -> None:
    html = post(local, "html")
    assert html.status_code == 502 and html.headers["content-type"].startswith("text/html")
    assert "<html>" in html.text
    text = post(local, "text")
    assert text.status_code == 500 and text.headers["content-type"].startswith("text/plain")
    shape = post(local, "wrong-shape")
    assert shape.status_code == 200
    assert shape.json()["object"] == "chat.completion"


def test_truncated_json_is_a_complete_http_answer_with_half_a_body(local: Running) -> None:
    r = post(local, "truncated")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)
    assert r.content.startswith(b'{"created":')


def test_truncated_stream_ends_without_the_completed_event(local: Running) -> None:
    body = {**BODY, "stream": True, "partial_images": 2}
    r = post(local, "truncated", body)
    assert r.status_code == 200
    parsed = []
    for _, data in events(r.text):
        try:
            parsed.append(json.loads(data)["type"])
        except ValueError:
            parsed.append("<truncated>")
    assert parsed == ["image_generation.partial_image", "image_generation.partial_image", "<truncated>"]


def test_drop_closes_the_connection_mid_body(local: Running) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        post(local, "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        post(local, "drop", {**BODY, "stream": True})
    assert post(local).status_code == 200  # the server lives on


def test_slow_sleeps_two_seconds_without_latency(local: Running) -> None:
    started = time.monotonic()
    r = post(local, "slow", {"model": "dall-e-2", "prompt": "p", "size": "256x256"})
    assert r.status_code == 200
    assert 1.9 <= time.monotonic() - started < 10


def test_latency_applies_to_every_request_and_to_slow(serve: Serve) -> None:
    server = serve("local", latency_ms=300)
    body = {"model": "dall-e-2", "prompt": "p", "size": "256x256"}
    started = time.monotonic()
    assert httpx.post(server.base_url + "/images/generations", json=body, timeout=TIMEOUT).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    r = httpx.post(
        server.base_url + "/images/generations", json=body, headers={"X-Imagewire-Fault": "slow"}, timeout=TIMEOUT
    )
    assert r.status_code == 200
    assert 0.3 <= time.monotonic() - started < 1.9


def test_times_fails_the_first_n_requests_then_answers(local: Running) -> None:
    statuses = [post(local, "rate-limit;times=2").status_code for _ in range(4)]
    assert statuses == [429, 429, 200, 200]
    # counted per header value and path: the edits path has its own counter
    other = post(
        local, "server-error;times=1", {"model": "gpt-image-1.5", "prompt": "p", "images": []}, "/images/edits"
    )
    assert other.status_code == 500
    assert post(local, "server-error;times=1").status_code == 500  # generations: first time for this value
    local.reset()
    assert post(local, "rate-limit;times=2").status_code == 429  # counters start again


def test_moderation_blocked_on_demand(local: Running) -> None:
    r = post(local, "moderation_blocked")
    assert r.status_code == 400
    assert error(r)["code"] == "moderation_blocked"
    dalle = post(local, "moderation_blocked", {"model": "dall-e-3", "prompt": "p"})
    assert error(dalle)["code"] == "content_policy_violation"


def test_unknown_fault_is_a_400(local: Running) -> None:
    r = post(local, "meteor")
    assert r.status_code == 400
    assert "unknown fault" in error(r)["message"]
    assert post(local, "rate-limit;times=x").status_code == 400


def test_faults_for_every_request(serve: Serve) -> None:
    server = serve("local", faults=["overloaded"])
    for _ in range(2):
        r = httpx.post(server.base_url + "/images/generations", json=BODY, timeout=TIMEOUT)
        assert r.status_code == 503
        assert_conforms(r, allow={"request"})
    health = httpx.get(server.origin + "/_imagewire/health", timeout=TIMEOUT)
    assert health.status_code == 200  # the server's own routes are not faulted


def test_start_rejects_unknown_faults() -> None:
    from imagewire.server import start

    with pytest.raises(ValueError, match="unknown fault"):
        start(faults=["meteor"])
