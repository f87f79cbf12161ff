"""What the facade puts on the wire for generate: URL, headers, body, options."""

from __future__ import annotations

import json

import httpx
import pytest
from support.client import BASE, KEY, Server, client, ok_b64


def test_generate_posts_only_the_fields_set() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(model="gpt-image-1.5", prompt="A yellow alpaca", size="1024x1536")
    (request,) = server.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/images/generations"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    body = server.json()
    assert body == {"model": "gpt-image-1.5", "prompt": "A yellow alpaca", "size": "1024x1536"}
    assert "response_format" not in body
    assert None not in body.values()
    assert b"null" not in request.content


def test_response_format_sent_only_when_given() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(model="dall-e-3", prompt="p", response_format="b64_json", validate=False)
    assert server.json()["response_format"] == "b64_json"


def test_n_and_quality_and_numbers_keep_their_json_types() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(
        model="gpt-image-1.5", prompt="p", n=2, quality="high", output_format="webp", output_compression=50
    )
    assert server.json() == {
        "model": "gpt-image-1.5",
        "prompt": "p",
        "n": 2,
        "quality": "high",
        "output_format": "webp",
        "output_compression": 50,
    }


@pytest.mark.parametrize(
    "base_url",
    ["https://bothub.chat/api/v2/openai/", "https://bothub.chat/api/v2/openai"],
)
def test_base_url_path_prefix_is_kept(base_url: str) -> None:
    server = Server(ok_b64())
    c = client(server, base_url=base_url)
    assert c.provider.id == "bothub"  # the address says which provider it is
    c.images.generate(model="dall-e-3", prompt="p")
    assert str(server.requests[0].url) == "https://bothub.chat/api/v2/openai/images/generations"


def test_api_key_header_for_azure_style_auth() -> None:
    server = Server(ok_b64())
    c = client(server, auth_header="api-key")
    c.images.generate(model="gpt-image-1.5", prompt="p")
    headers = server.requests[0].headers
    assert headers["api-key"] == KEY
    assert "authorization" not in headers


def test_extra_headers_query_and_body_reach_the_wire() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(
        model="gpt-image-1.5",
        prompt="p",
        extra_headers={"X-Trace": "abc"},
        extra_query={"api-version": "2025-04-01"},
        extra_body={"seed": 7, "watermark": False},
    )
    request = server.requests[0]
    assert request.headers["x-trace"] == "abc"
    assert request.url.params["api-version"] == "2025-04-01"
    assert request.url.path == "/v1/images/generations"
    body = server.json()
    assert body["seed"] == 7
    assert body["watermark"] is False
    assert body["prompt"] == "p"


def test_default_headers_and_query_of_the_client_are_sent() -> None:
    server = Server(ok_b64())
    c = client(server, default_headers={"X-Team": "t1"}, default_query={"api-version": "v"}, organization="org-1")
    c.images.generate(model="gpt-image-1.5", prompt="p")
    request = server.requests[0]
    assert request.headers["x-team"] == "t1"
    assert request.headers["openai-organization"] == "org-1"
    assert request.url.params["api-version"] == "v"


def test_per_call_timeout_reaches_the_request_extensions() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(model="gpt-image-1.5", prompt="p", timeout=12.5)
    timeout = server.requests[0].extensions["timeout"]
    assert timeout == httpx.Timeout(12.5).as_dict()


def test_client_timeout_is_the_default_for_calls() -> None:
    server = Server(ok_b64())
    c = client(server, timeout=httpx.Timeout(40.0, connect=3.0))
    c.images.generate(model="gpt-image-1.5", prompt="p")
    timeout = server.requests[0].extensions["timeout"]
    assert timeout["connect"] == 3.0
    assert timeout["read"] == 40.0


def test_default_timeouts_fit_slow_image_models() -> None:
    """Connect 10 s, read (and write, pool) 300 s, on every request and on a client the facade makes."""
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(model="gpt-image-1.5", prompt="p")
    timeout = server.requests[0].extensions["timeout"]
    assert timeout == {"connect": 10.0, "read": 300.0, "write": 300.0, "pool": 300.0}
    from imagewire_client import Client

    own = Client(api_key=KEY, base_url=BASE)
    assert own.timeout == httpx.Timeout(300.0, connect=10.0)
    assert own._http.timeout == httpx.Timeout(300.0, connect=10.0)


def test_non_ascii_prompt_is_sent_as_utf8_json() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(model="gpt-image-1.5", prompt="Уютная кофейня ☕")
    assert json.loads(server.bodies[0].decode("utf-8"))["prompt"] == "Уютная кофейня ☕"


def test_missing_api_key_is_an_error_not_an_unauthenticated_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from imagewire_client import Client, ImagewireError

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ImagewireError):
        Client(base_url=BASE)


def test_base_url_with_a_query_keeps_the_operation_path() -> None:
    """Azure-style base URLs carry ``?api-version=``: the operation path must go before the query."""
    server = Server(ok_b64())
    c = client(server, base_url="https://r.openai.azure.test/openai/deployments/img?api-version=2025-04-01")
    c.images.generate(model="gpt-image-1.5", prompt="p")
    url = server.requests[0].url
    assert url.path == "/openai/deployments/img/images/generations"
    assert url.params["api-version"] == "2025-04-01"


def test_non_ascii_headers_are_refused_before_sending() -> None:
    from imagewire_client import ImagewireError, ValidationError

    server = Server(ok_b64())
    with pytest.raises(ImagewireError, match="header 'x-team' holds non-ASCII text"):
        client(server, default_headers={"x-team": "команда"})
    c = client(server)
    with pytest.raises(ValidationError, match="header 'x-note' holds non-ASCII text") as caught:
        c.images.generate(model="gpt-image-1.5", prompt="p", extra_headers={"x-note": "é"})
    assert "é" not in str(caught.value)
    assert server.requests == []


def test_a_json_request_is_the_one_httpx_builds_and_follows_the_http_clients_state() -> None:
    """JSON calls reuse their URL and merged headers once per shape; each is still the request httpx's own
    build_request makes (headers in order, length, URL with its query, timeouts), and a change to the HTTP
    client's headers or cookies reaches the next call."""
    from imagewire_client import Client

    server = Server(ok_b64())
    http = httpx.Client(transport=httpx.MockTransport(server), headers={"X-Team": "a"})
    c = Client(api_key=KEY, base_url=BASE, http_client=http, default_query={"api-version": "1"}, max_retries=0)
    for prompt in ("p", "a longer prompt", "p"):
        c.images.generate(model="gpt-image-1.5", prompt=prompt)
        sent = server.requests[-1]
        made = http.build_request(
            "POST",
            f"{BASE}/images/generations",
            params={"api-version": "1"},
            content=sent.content,
            headers=c._headers(False, "json", None),
        )
        assert sent.headers.raw == made.headers.raw and sent.url == made.url
        assert sent.extensions["timeout"] == c.timeout.as_dict()
    assert len(c._made) == 1  # built once for the three calls
    http.headers["X-Team"] = "b"
    http.cookies.set("session", "s1", domain=httpx.URL(BASE).host)
    c.images.generate(model="gpt-image-1.5", prompt="p", timeout=5.0)
    sent = server.requests[-1]
    assert sent.headers["x-team"] == "b" and sent.headers["cookie"] == "session=s1"
    assert sent.extensions["timeout"]["read"] == 5.0
    http.cookies.clear()
    c.images.generate(model="gpt-image-1.5", prompt="p")
    assert server.requests[-1].headers["x-team"] == "b" and "cookie" not in server.requests[-1].headers
    assert len(c._made) == 2


def test_an_auth_header_set_after_a_call_reaches_the_next_call() -> None:
    server = Server(ok_b64(), ok_b64())
    c = client(server)
    c.images.generate(model="gpt-image-1.5", prompt="p")
    c.auth_header = "api-key"
    c.images.generate(model="gpt-image-1.5", prompt="p")
    first, second = server.requests
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert second.headers["api-key"] == KEY
    assert "authorization" not in second.headers
