"""Personas: each provider's URL shape, auth style, model table and declared quirks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from support.server import KEY, TIMEOUT, App, Serve, assert_conforms, decode, error, picture

from imagewire.server.personas import personas
from imagewire_client.catalog import PROVIDERS
from imagewire_client.media import sniff

#: every quirk id the server reproduces; a quirk the catalog declares but the server does not know fails below
IMPLEMENTED_QUIRKS = {
    "content-filter-results",
    "prompt-filter-results",
    "error-401-numeric-code",
    "content-filter-inner-error",
    "model-from-deployment",
    "jpeg-in-b64",
}
AZURE = "/openai/deployments/{d}/images/generations?api-version=2025-04-01-preview"


def test_a_persona_per_provider_and_every_declared_quirk_is_implemented() -> None:
    assert set(personas()) == set(PROVIDERS)
    for name, provider in PROVIDERS.items():
        declared = {q.id for q in provider.quirks}
        assert declared <= IMPLEMENTED_QUIRKS, (name, declared - IMPLEMENTED_QUIRKS)
        assert personas()[name].quirks == declared


@pytest.mark.parametrize(
    ("persona", "prefix"),
    [
        ("openai", "/v1"),
        ("local", "/v1"),
        ("generic", "/v1"),
        ("aipomogator", "/v1"),
        ("bothub", "/api/v2/openai"),
        ("azure", "/openai/deployments/{deployment}"),
    ],
)
def test_url_shapes(persona: str, prefix: str) -> None:
    assert personas()[persona].prefix == prefix
    assert personas()[persona].base_url("http://127.0.0.1:1") == "http://127.0.0.1:1" + prefix


def test_bothub_paths_and_model_table(app: App) -> None:
    client = app("bothub")
    body = {"model": "dall-e-3", "prompt": "Yellow alpaca", "n": 1, "size": "1024x1024"}
    for path in ("/api/v2/openai/images/generations", "/api/v2/openai/v1/images/generations"):
        r = client.post(path, json=body)
        assert r.status_code == 200, r.text
        assert_conforms(r)
        (item,) = r.json()["data"]
        assert item["url"] and item["revised_prompt"]  # passes dall-e-3 answers through
    assert client.post("/v1/images/generations", json=body).status_code == 404
    other = client.post("/api/v2/openai/images/generations", json={"model": "gpt-image-1.5", "prompt": "p"})
    assert other.status_code == 404 and error(other)["code"] == "model_not_found"
    assert client.post("/api/v2/openai/images/edits", json={"prompt": "p"}).status_code == 404  # not offered


def test_openai_model_table(app: App) -> None:
    client = app("openai")
    table = PROVIDERS["openai"].model_table
    assert table is not None
    for model in ("gpt-image-1", "dall-e-3", "yandexgpt/yandex-art"):  # shut down, retired, not sold there
        assert model not in table
        r = client.post("/v1/images/generations", json={"model": model, "prompt": "p"})
        assert r.status_code == 404 and error(r)["code"] == "model_not_found"
    assert client.post("/v1/images/generations", json={"model": "gpt-image-2", "prompt": "p"}).status_code == 200


def test_aipomogator_yandex_art_answers_jpeg_in_b64(app: App) -> None:
    client = app("aipomogator")
    body = {"model": "yandexgpt/yandex-art", "prompt": "Kremlin at sunset", "response_format": "b64_json"}
    r = client.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    assert_conforms(r, allow={"image-format"})  # JPEG where PNG is implied: the declared quirk
    data = decode(r.json()["data"][0]["b64_json"])
    assert sniff(data).format == "jpeg"  # type: ignore[union-attr]
    url = client.post("/v1/images/generations", json={**body, "response_format": "url"}).json()["data"][0]["url"]
    assert ".jpg?" in url
    local = app("local").post("/v1/images/generations", json=body)
    assert sniff(decode(local.json()["data"][0]["b64_json"])).format == "png"  # type: ignore[union-attr]
    dalle = client.post(
        "/v1/images/generations", json={"model": "dall-e-2", "prompt": "p", "response_format": "b64_json"}
    )
    assert sniff(decode(dalle.json()["data"][0]["b64_json"])).format == "png"  # type: ignore[union-attr]


def test_azure_url_api_version_and_api_key_header(app: App) -> None:
    client = app("azure", api_key=KEY)
    body = {"prompt": "p"}
    url = AZURE.format(d="my-resource-any-deployment")
    ok = client.post(url, json=body, headers={"api-key": KEY})
    assert ok.status_code == 200, ok.text
    no_version = client.post(url.split("?")[0], json=body, headers={"api-key": KEY})
    assert no_version.status_code == 400 and error(no_version)["param"] == "api-version"
    entra = client.post(url, json=body, headers={"Authorization": f"Bearer {KEY}"})  # a token instead of the key
    assert entra.status_code == 200, entra.text
    assert entra.headers["apim-request-id"]  # Azure's request id, besides x-request-id
    wrong = client.post(url, json=body, headers={"Authorization": "Bearer not-the-token-0000"})
    assert wrong.status_code == 401
    assert_conforms(wrong)
    assert wrong.json() == {"error": {"code": "401", "message": wrong.json()["error"]["message"]}}
    assert "subscription key" in wrong.json()["error"]["message"]
    assert client.post("/v1/images/generations", json=body, headers={"api-key": KEY}).status_code == 404
    variations = "/openai/deployments/d/images/variations?api-version=1"
    assert client.post(variations, json=body, headers={"api-key": KEY}).status_code == 404  # not offered


def test_azure_v1_path_takes_the_deployment_as_the_model(app: App) -> None:
    client = app("azure", api_key=KEY)
    ok = client.post(
        "/openai/v1/images/generations", json={"prompt": "p", "model": "dall-e-3"}, headers={"api-key": KEY}
    )
    assert ok.status_code == 200, ok.text  # no api-version needed on the v1 path
    assert_conforms(ok)
    assert ok.json()["data"][0].get("revised_prompt")  # the deployment named dall-e-3 answers as dall-e-3
    assert ok.headers["apim-request-id"]
    edit = client.post(
        "/openai/v1/images/edits",
        files={"image": ("a.png", picture(64, 64), "image/png")},
        data={"prompt": "p", "model": "gpt-image-1.5"},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert edit.status_code == 200, edit.text


def _at(node: Any, pointer: str) -> list[Any]:
    """Every value at a quirk pointer (``*``: each list item)."""
    found = [node]
    for part in pointer.strip("/").split("/"):
        if part == "*":
            found = [item for value in found for item in value]
        else:
            found = [value[part] for value in found if part in value]
    return found


@pytest.mark.parametrize("quirk", [q for q in PROVIDERS["azure"].quirks if q.kind == "extra-key"], ids=str)
def test_azure_extra_keys_where_the_catalog_points(app: App, quirk: Any) -> None:
    r = app("azure").post(AZURE.format(d="gpt-image-1.5"), json={"prompt": "p", "n": 2})
    assert r.status_code == 200
    assert_conforms(r)
    values = _at(r.json(), quirk.pointer)
    expected = len(r.json()["data"]) if "/*/" in quirk.pointer else 1
    assert len(values) == expected and all(values), (quirk.pointer, r.json().keys())


def test_azure_filter_results_values(app: App) -> None:
    body = app("azure").post(AZURE.format(d="dall-e-3"), json={"prompt": "p"}).json()
    assert body["data"][0]["content_filter_results"]["violence"] == {"filtered": False, "severity": "safe"}


def test_azure_model_comes_from_the_deployment(app: App) -> None:
    client = app("azure")
    dalle = client.post(AZURE.format(d="dall-e-3"), json={"model": "gpt-image-1.5", "prompt": "p"})
    assert dalle.status_code == 200
    assert "revised_prompt" in dalle.json()["data"][0]  # dall-e-3 answered; the body's model was ignored
    gpt = client.post(AZURE.format(d="gpt-image-1.5"), json={"model": "dall-e-3", "prompt": "p"})
    assert "usage" in gpt.json() and "url" not in gpt.json()["data"][0]
    named = client.post(AZURE.format(d="prod-images"), json={"model": "dall-e-2", "prompt": "p"})
    assert named.json()["data"][0]["url"]  # an unknown deployment name: the body's model stands in


def test_azure_content_filter_error_has_inner_error(app: App) -> None:
    r = app("azure").post(AZURE.format(d="dall-e-3"), json={"prompt": "a forbidden scene"})
    assert r.status_code == 400
    err = error(r)
    assert err["code"] == "content_policy_violation" and err["param"] == "prompt"
    assert err["inner_error"]["code"] == "ResponsibleAIPolicyViolation"
    assert err["inner_error"]["content_filter_results"]["violence"]["filtered"] is True


def test_quirks_stay_with_their_persona(app: App) -> None:
    r = app("local").post("/v1/images/generations", json={"model": "dall-e-3", "prompt": "p"})
    assert "prompt_filter_results" not in r.json()
    assert "content_filter_results" not in r.json()["data"][0]
    unauthorized = app("openai", api_key=KEY).post("/v1/images/generations", json={"prompt": "p"})
    assert unauthorized.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("persona", ["openai", "bothub", "aipomogator", "local", "generic", "azure"])
def test_each_persona_serves_over_http(serve: Serve, persona: str) -> None:
    server = serve(persona, api_key=KEY)
    model = {"bothub": "dall-e-3", "aipomogator": "dall-e-3", "openai": "gpt-image-1.5"}.get(persona, "dall-e-2")
    base = server.url(deployment=model)
    assert base.startswith("http://127.0.0.1:")
    headers = {"api-key": KEY} if persona == "azure" else {"Authorization": f"Bearer {KEY}"}
    query = {"api-version": "2025-04-01-preview"} if persona == "azure" else None
    r = httpx.post(
        base + "/images/generations",
        json={"model": model, "prompt": "p"},
        headers=headers,
        params=query,
        timeout=TIMEOUT,
    )
    assert r.status_code == 200, r.text
    assert_conforms(r)
    health = httpx.get(server.origin + "/_imagewire/health", timeout=TIMEOUT).json()
    assert health["persona"] == persona and health["base_url"] == server.base_url


def test_extra_keys_follow_any_pointer() -> None:
    from imagewire.server.answers import _place

    body: dict[str, Any] = {"created": 1, "data": [{"url": "u"}, {"url": "v"}]}
    _place(body, ["prompt_filter_results"], "prompt-filter-results")
    _place(body, ["data", "*", "content_filter_results"], "content-filter-results")
    _place(body, ["data", "*", "unknown_key"], "some-future-quirk")
    assert body["prompt_filter_results"][0]["prompt_index"] == 0
    assert all("content_filter_results" in item and "unknown_key" not in item for item in body["data"])


def test_facts_come_from_the_catalog() -> None:
    from imagewire_client.catalog import MODELS

    known = personas()
    assert known["bothub"].aliases == ("/api/v2/openai/v1",)  # also_at
    assert [name for name, p in known.items() if p.relay_sse] == ["generic"]  # stream_dialect: relay
    assert known["azure"].default_models["generations"] == "gpt-image-1.5"  # its own
    assert known["local"].default_models == {
        "generations": "dall-e-2",
        "edits": "gpt-image-1.5",
        "variations": "dall-e-2",
    }
    local = known["local"]
    assert local.answer("dall-e-3").revised_prompt and not local.answer("dall-e-2").revised_prompt
    assert local.answer("gpt-image-1-mini").style == "gpt-image"  # inherited through extends
    assert local.answer("yandexgpt/yandex-art").style == "dall-e"
    flare = local.answer("gpt-image-2.6-flare").output_tokens
    assert flare["max"] > flare["high"]
    edits = MODELS["dall-e-2"].operations["edits"].images
    assert edits is not None and edits.alpha_without_mask
    aipomogator = known["aipomogator"]
    assert aipomogator.has("jpeg-in-b64", "yandexgpt/yandex-art") and not aipomogator.has("jpeg-in-b64", "dall-e-3")
