"""Provider presets: each one's URL, headers and checks, proved on requests caught by ``httpx.MockTransport``.

``Client(provider=...)`` takes its address, auth header, key variable, settings and model table from the
provider catalog (``imagewire_client._providers``). Expected values here come from the sources
(/work/shared/reference/images-api.md, the seeds), not from the generated tables, so a wrong catalog entry
fails. The quirk split (declared deviations in ``.quirks``, the rest in ``.warnings``) is proved with a
fixture provider added to a copy of ``spec/`` and generated into a temporary folder.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import logging
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from support.client import (
    JPEG,
    KEY,
    PNG,
    SECRET,
    AsyncSleeps,
    Server,
    Sleeps,
    b64,
    error_body,
    images_body,
    json_response,
    ok_b64,
)

ROOT = Path(__file__).resolve().parents[2]
# a made-up JWT-shaped key (bothub's keys are JWTs): header.claims.signature, base64url
JWT = ".".join(
    base64.urlsafe_b64encode(part).decode().rstrip("=")
    for part in (b'{"alg":"HS256","typ":"JWT"}', b'{"id":"planted"}', b"signature-of-the-token")
)
AZURE = {"resource": "contoso", "deployment": "img-prod", "api_version": "2025-04-01-preview"}
AZURE_URL = (
    "https://contoso.openai.azure.com/openai/deployments/img-prod/images/generations?api-version=2025-04-01-preview"
)
#: settings a preset cannot do without (besides its key)
REQUIRED: dict[str, dict[str, str]] = {"azure": AZURE, "generic": {"base_url": "https://relay.example/v1"}}


def _catalog_env_names() -> set[str]:
    from imagewire_client.catalog import PROVIDERS

    names = {"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"}
    for p in PROVIDERS.values():
        names |= {p.key_env} if p.key_env else set()
        names |= {s.env for s in (*p.url_params, *p.query, *p.headers) if s.env}
    return names


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, address or setting leaks in from the machine running the tests."""
    for name in _catalog_env_names():
        monkeypatch.delenv(name, raising=False)


def make(server: Server, provider: str, **kwargs: Any) -> Any:
    from imagewire_client import Client

    kwargs.setdefault("max_retries", 0)
    return Client(
        provider=provider, http_client=httpx.Client(transport=httpx.MockTransport(server)), sleep=Sleeps(), **kwargs
    )


def make_async(server: Server, provider: str, **kwargs: Any) -> Any:
    from imagewire_client import AsyncClient

    kwargs.setdefault("max_retries", 0)
    transport = httpx.MockTransport(server.handle_async)
    return AsyncClient(
        provider=provider, http_client=httpx.AsyncClient(transport=transport), sleep=AsyncSleeps(), **kwargs
    )


def _validation_error() -> Any:
    from imagewire_client import ValidationError

    return ValidationError


# ------------------------------------------------------------------------------------------ openai


def test_openai_bearer_key_from_env_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server = Server(ok_b64())
    make(server, "openai").images.generate(model="gpt-image-1.5", prompt="A yellow alpaca")
    (request,) = server.requests
    assert (request.method, str(request.url)) == ("POST", "https://api.openai.com/v1/images/generations")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "api-key" not in request.headers
    assert "openai-organization" not in request.headers and "openai-project" not in request.headers


def test_openai_organization_and_project_headers_from_params_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(ok_b64())
    make(server, "openai", api_key=KEY, organization="org-abc", project="proj_1").images.generate(
        model="gpt-image-1.5", prompt="p"
    )
    monkeypatch.setenv("OPENAI_ORG_ID", "org-env")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_env")
    make(server, "openai", api_key=KEY).images.generate(model="gpt-image-1.5", prompt="p")
    make(server, "openai", api_key=KEY, organization="org-param").images.generate(model="gpt-image-1.5", prompt="p")
    sent = [(r.headers.get("openai-organization"), r.headers.get("openai-project")) for r in server.requests]
    assert sent == [("org-abc", "proj_1"), ("org-env", "proj_env"), ("org-param", "proj_env")]


def test_openai_refuses_dall_e_3_naming_its_retirement_and_who_still_serves_it() -> None:
    server = Server(ok_b64())
    with pytest.raises(_validation_error()) as caught:
        make(server, "openai", api_key=KEY).images.generate(model="dall-e-3", prompt="p")
    assert str(caught.value) == (
        "dall-e-3 was retired on 2026-05-12; name a live model, or pass validate=False if your provider still "
        "serves it; providers that still serve it: bothub, aipomogator"
    )
    assert caught.value.rule == "lifecycle" and caught.value.field == "model"
    assert server.count == 0


def test_openai_does_not_offer_variations_unless_validation_is_off() -> None:
    server = Server(ok_b64())
    client = make(server, "openai", api_key=KEY)
    with pytest.raises(
        _validation_error(), match=r"^openai does not offer variations \(it offers generations or edits\)"
    ):
        client.images.create_variation(model="gpt-image-1.5", image=PNG)
    assert server.count == 0
    client.images.create_variation(model="dall-e-2", image=PNG, validate=False)
    assert str(server.requests[0].url) == "https://api.openai.com/v1/images/variations"


def test_openai_refuses_a_model_only_proxies_sell() -> None:
    server = Server(ok_b64())
    with pytest.raises(_validation_error()) as caught:
        make(server, "openai", api_key=KEY).images.generate(model="yandexgpt/yandex-art", prompt="p")
    assert str(caught.value).startswith("yandexgpt/yandex-art is not offered by openai; it offers gpt-image-1.5, ")
    assert str(caught.value).endswith("; providers that serve it: aipomogator; pass validate=False to send it anyway")
    assert server.count == 0


# ------------------------------------------------------------------------------------------- azure


def _azure_answer() -> dict[str, Any]:
    """An Azure OpenAI answer: content_filter_results on every image, prompt_filter_results at the top."""
    filters = {name: {"filtered": False, "severity": "safe"} for name in ("hate", "self_harm", "sexual", "violence")}
    return images_body(
        {"b64_json": b64(PNG), "content_filter_results": filters},
        {"b64_json": b64(PNG), "content_filter_results": filters},
        prompt_filter_results=[{"prompt_index": 0, "content_filter_results": filters}],
    )


def test_azure_url_api_key_header_and_no_authorization() -> None:
    server = Server(ok_b64())
    client = make(server, "azure", api_key=KEY, model="gpt-image-1", **AZURE)
    client.images.generate(prompt="A yellow alpaca", size="1024x1536")
    (request,) = server.requests
    assert (request.method, str(request.url)) == ("POST", AZURE_URL)
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers
    assert server.json() == {"model": "gpt-image-1", "prompt": "A yellow alpaca", "size": "1024x1536"}


def test_azure_settings_and_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_RESOURCE", "contoso")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "img-prod")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # another provider's key: never sent to Azure
    server = Server(ok_b64())
    make(server, "azure", model="gpt-image-1.5").images.generate(prompt="p")
    make(server, "azure", model="gpt-image-1.5", deployment="img-test").images.generate(prompt="p")  # a param wins
    first, second = server.requests
    assert str(first.url) == AZURE_URL
    assert str(second.url) == AZURE_URL.replace("/img-prod/", "/img-test/")
    assert [r.headers["api-key"] for r in server.requests] == [KEY, KEY]
    assert all(SECRET not in str(r.headers) for r in server.requests)


@pytest.mark.parametrize(
    ("param", "env"),
    [
        ("resource", "AZURE_OPENAI_RESOURCE"),
        ("deployment", "AZURE_OPENAI_DEPLOYMENT"),
        ("api_version", "OPENAI_API_VERSION"),
    ],
)
def test_azure_missing_setting_names_the_param_and_the_variable(
    param: str, env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imagewire_client import ImagewireError

    monkeypatch.setenv("AZURE_OPENAI_API_KEY", SECRET)
    settings = {name: value for name, value in AZURE.items() if name != param}
    with pytest.raises(ImagewireError) as caught:
        make(Server(ok_b64()), "azure", **settings)
    message = str(caught.value)
    assert message.startswith(f"provider 'azure' needs {param}=... or set {env}")
    assert SECRET not in message and SECRET not in repr(caught.value)


def test_azure_filter_results_are_read_silently(caplog: pytest.LogCaptureFixture) -> None:
    """Declared extra keys: kept in ``extra``, no warning, nothing logged."""
    caplog.set_level(logging.DEBUG, logger="imagewire_client")
    server = Server(json_response(_azure_answer()))
    result = make(server, "azure", api_key=KEY, model="gpt-image-1", **AZURE).images.generate(prompt="p", n=2)
    assert result.warnings == []
    assert "prompt_filter_results" in result.extra
    assert [set(image.extra) for image in result.data] == [{"content_filter_results"}, {"content_filter_results"}]
    assert result.data[0].extra["content_filter_results"]["sexual"] == {"filtered": False, "severity": "safe"}
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (
            401,
            {
                "error": {
                    "code": "401",
                    "message": "Access denied due to invalid subscription key or wrong API endpoint.",
                }
            },
            "AuthenticationError",
            "401",
        ),
        (
            429,
            {"error": {"code": "429", "message": "Requests to the Images API have exceeded the call rate limit."}},
            "RateLimitError",
            "429",
        ),
        (
            404,
            {
                "error": {
                    "code": "DeploymentNotFound",
                    "message": "The API deployment for this resource does not exist.",
                }
            },
            "NotFoundError",
            "DeploymentNotFound",
        ),
        (
            400,
            error_body(
                "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
                code="content_filter",
                param="prompt",
                inner_error={
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_results": {"sexual": {"filtered": True, "severity": "high"}},
                },
            ),
            "ContentPolicyError",
            "content_filter",
        ),
    ],
    ids=["401-numeric-string-code", "429-numeric-string-code", "404-deployment", "400-content-filter-inner-error"],
)
def test_azure_error_envelopes_map_to_the_right_class(
    status: int, body: dict[str, Any], error_class: str, code: str
) -> None:
    import imagewire_client

    server = Server(json_response(body, status))
    with pytest.raises(imagewire_client.APIStatusError) as caught:
        make(server, "azure", api_key=KEY, model="gpt-image-1.5", **AZURE).images.generate(prompt="p")
    assert isinstance(caught.value, getattr(imagewire_client, error_class)), type(caught.value)
    assert caught.value.status_code == status
    assert caught.value.code == code
    assert not isinstance(caught.value, imagewire_client.QuotaExceededError)


def test_azure_async_client_builds_the_same_request() -> None:
    server = Server(ok_b64())

    async def main() -> None:
        async with make_async(server, "azure", api_key=KEY, model="gpt-image-1.5", **AZURE) as client:
            await client.images.generate(prompt="p")

    asyncio.run(main())
    assert str(server.requests[0].url) == AZURE_URL
    assert server.requests[0].headers["api-key"] == KEY
    assert "authorization" not in server.requests[0].headers


# ------------------------------------------------------------------------------------------ bothub


def test_bothub_jwt_bearer_from_env(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="imagewire_client")
    monkeypatch.setenv("BOTHUB_API_KEY", JWT)
    # seed 000/001: bothub passes OpenAI's dall-e-3 answer through (url and revised_prompt)
    answer = images_body(
        {
            "revised_prompt": "Imagine a sunny meadow...",
            "url": "https://oaidalleapiprodscus.blob.core.windows.net/private/img.png?st=1&sig=abc",
        }
    )
    server = Server(json_response(answer))
    result = make(server, "bothub").images.generate(model="dall-e-3", prompt="Yellow alpaca", n=1, size="1024x1024")
    (request,) = server.requests
    assert str(request.url) == "https://bothub.chat/api/v2/openai/images/generations"
    assert request.headers["authorization"] == f"Bearer {JWT}"
    assert result.data[0].revised_prompt == "Imagine a sunny meadow..."
    assert result.warnings == []
    assert JWT not in caplog.text


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://bothub.chat/api/v2/openai/", "https://bothub.chat/api/v2/openai/images/generations"),
        ("https://bothub.chat/api/v2/openai", "https://bothub.chat/api/v2/openai/images/generations"),
        ("https://bothub.chat/api/v2/openai/v1", "https://bothub.chat/api/v2/openai/v1/images/generations"),
        ("https://bothub.chat/api/v2/openai/v1/", "https://bothub.chat/api/v2/openai/v1/images/generations"),
    ],
)
def test_bothub_base_url_path_prefix_is_kept(base_url: str, expected: str) -> None:
    server = Server(ok_b64())
    make(server, "bothub", api_key=JWT, base_url=base_url).images.generate(model="dall-e-3", prompt="p")
    assert str(server.requests[0].url) == expected


def test_bothub_accepts_dall_e_3_and_still_checks_it() -> None:
    server = Server(ok_b64())
    client = make(server, "bothub", api_key=JWT)
    client.images.generate(model="dall-e-3", prompt="p", size="1792x1024", quality="hd", style="natural")
    assert server.json()["model"] == "dall-e-3"
    with pytest.raises(_validation_error()) as caught:
        client.images.generate(model="dall-e-3", prompt="p", size="256x256")
    assert str(caught.value) == "size '256x256' is not available for dall-e-3; choose 1024x1024, 1792x1024 or 1024x1792"
    with pytest.raises(_validation_error(), match=r"^n 2 is out of range for dall-e-3"):
        client.images.generate(model="dall-e-3", prompt="p", n=2)
    assert server.count == 1


def test_bothub_refuses_gpt_image_1_5_as_not_offered() -> None:
    server = Server(ok_b64())
    with pytest.raises(_validation_error()) as caught:
        make(server, "bothub", api_key=JWT).images.generate(model="gpt-image-1.5", prompt="p")
    assert (
        str(caught.value)
        == "gpt-image-1.5 is not offered by bothub; it offers dall-e-3; providers that serve it: openai; "
        "pass validate=False to send it anyway"
    )
    assert server.count == 0


def test_bothub_never_borrows_another_providers_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from imagewire_client import ImagewireError

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with pytest.raises(ImagewireError) as caught:
        make(Server(ok_b64()), "bothub")
    assert str(caught.value) == "no API key for bothub: set BOTHUB_API_KEY or pass the api_key argument"
    assert SECRET not in repr(caught.value)


# ------------------------------------------------------------------------------------- aipomogator


def test_aipomogator_serves_its_three_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIPOMOGATOR_API_KEY", KEY)
    server = Server(ok_b64())
    client = make(server, "aipomogator")
    client.images.generate(model="dall-e-3", prompt="p", size="1024x1024", quality="hd")
    client.images.generate(model="dall-e-2", prompt="p", size="512x512", n=3)
    client.images.generate(model="yandexgpt/yandex-art", prompt="p", size="1024x1024", n=10)
    assert {str(r.url) for r in server.requests} == {"https://api.aipomogator.ru/v1/images/generations"}
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    assert [server.json(i)["model"] for i in range(3)] == ["dall-e-3", "dall-e-2", "yandexgpt/yandex-art"]
    with pytest.raises(_validation_error(), match=r"^gpt-image-1.5 is not offered by aipomogator"):
        client.images.generate(model="gpt-image-1.5", prompt="p")
    with pytest.raises(_validation_error(), match=r"^aipomogator does not offer variations"):
        client.images.create_variation(model="dall-e-2", image=PNG)
    assert server.count == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": "512x512"}, "size '512x512' is not available for yandexgpt/yandex-art; choose 1024x1024"),
        ({"size": "1792x1024"}, "size '1792x1024' is not available for yandexgpt/yandex-art; choose 1024x1024"),
        ({"quality": "hd"}, "quality is not accepted by yandexgpt/yandex-art for generations"),
        ({"style": "vivid"}, "style is not accepted by yandexgpt/yandex-art for generations"),
        ({"n": 11}, "n 11 is out of range for yandexgpt/yandex-art; choose 1 to 10"),
    ],
)
def test_aipomogator_yandex_art_rules(options: dict[str, Any], message: str) -> None:
    server = Server(ok_b64())
    with pytest.raises(_validation_error()) as caught:
        make(server, "aipomogator", api_key=KEY).images.generate(model="yandexgpt/yandex-art", prompt="p", **options)
    assert str(caught.value).startswith(message)
    assert server.count == 0


def test_aipomogator_jpeg_in_b64_json_is_saved_as_jpeg(tmp_path: Path) -> None:
    server = Server(json_response({"created": 1706745600, "data": [{"b64_json": b64(JPEG)}]}))
    result = make(server, "aipomogator", api_key=KEY).images.generate(
        model="yandexgpt/yandex-art", prompt="p", response_format="b64_json"
    )
    assert result.data[0].format == "jpeg"
    (path,) = result.save(tmp_path)
    assert path.suffix == ".jpg"
    assert path.read_bytes() == JPEG
    assert result.warnings == []


#: aipomogator's price table, from its seed (002): model, size, usd per image (the seed names no quality)
AIPOMOGATOR_PRICES = [
    ("dall-e-3", "1024x1024", 0.04),
    ("dall-e-3", "1792x1024", 0.08),
    ("dall-e-3", "1024x1792", 0.08),
    ("dall-e-2", "256x256", 0.016),
    ("dall-e-2", "512x512", 0.018),
    ("dall-e-2", "1024x1024", 0.02),
    ("yandexgpt/yandex-art", "1024x1024", 0.04),
]


def test_aipomogator_price_table_is_the_seeds() -> None:
    from imagewire_client.catalog import PROVIDERS

    prices = PROVIDERS["aipomogator"].prices
    assert prices is not None
    assert sorted((p.model, p.size, p.usd) for p in prices) == sorted(AIPOMOGATOR_PRICES)


@pytest.mark.parametrize(("model", "size", "usd"), AIPOMOGATOR_PRICES)
@pytest.mark.parametrize("n", [1, 4, 10])
def test_aipomogator_estimate_every_priced_size(model: str, size: str, usd: float, n: int) -> None:
    from imagewire_client.catalog import MODELS

    max_n = MODELS[model].operations["generations"].params["n"].max
    assert max_n is not None
    n = min(n, max_n)  # dall-e-3 makes one image per call
    client = make(Server(ok_b64()), "aipomogator", api_key=KEY)
    quality = "standard" if model == "dall-e-3" else None  # the quality the seed's prices are for
    estimate = client.images.estimate(model=model, size=size, quality=quality, n=n)
    assert estimate.usd == pytest.approx(usd * n)
    assert estimate.per_image == pytest.approx(usd)
    assert (estimate.n, estimate.provider, estimate.model, estimate.size) == (n, "aipomogator", model, size)
    assert str(estimate).startswith(f"${usd * n:.3f} ({n} x ${usd:.3f}, aipomogator {model} {size}")


def test_aipomogator_estimate_defaults_and_unknowns() -> None:
    client = make(Server(ok_b64()), "aipomogator", api_key=KEY, model="yandexgpt/yandex-art")
    only_size = client.images.estimate(n=2)  # yandex-art has one size: priced at it
    assert (only_size.size, only_size.usd) == ("1024x1024", pytest.approx(0.08))
    no_size = client.images.estimate(model="dall-e-3")  # dall-e-3's default size is not stated by our sources
    assert (no_size.usd, no_size.per_image) == (None, None)
    assert str(no_size) == "price unknown for aipomogator/dall-e-3"
    dall_e_2 = client.images.estimate(model="dall-e-2", n=2)  # its documented default size: 1024x1024
    assert (dall_e_2.size, dall_e_2.usd) == ("1024x1024", pytest.approx(0.04))
    with pytest.raises(_validation_error(), match=r"gpt-image-1\.5 is not offered by aipomogator"):
        client.images.estimate(model="gpt-image-1.5", size="1024x1024", quality="high")  # checked before priced


@pytest.mark.parametrize("provider", ["azure", "bothub", "generic"])
def test_estimate_says_unknown_for_providers_without_prices(provider: str) -> None:
    model = "dall-e-3" if provider == "bothub" else "gpt-image-1.5"
    client = make(Server(ok_b64()), provider, api_key=KEY, **REQUIRED.get(provider, {}))
    n = 1 if model == "dall-e-3" else 3  # dall-e-3 makes one image a call
    estimate = client.images.estimate(
        model=model, size="1024x1024", quality="high" if model != "dall-e-3" else None, n=n
    )
    assert (estimate.usd, estimate.per_image, estimate.n) == (None, None, n)
    assert str(estimate) == f"price unknown for {provider}/{model}"


def test_estimate_on_the_local_provider_is_free_and_without_provider_unknown() -> None:
    local = make(Server(ok_b64()), "local").images.estimate(model="gpt-image-1.5", size="1536x1024", n=5)
    assert (local.usd, local.per_image) == (0.0, 0.0)
    from imagewire_client import Client

    bare = Client(api_key=KEY).images.estimate(model="gpt-image-1.5", size="1024x1024")  # OpenAI's address
    assert bare.usd is None  # its default quality, auto, has no price
    assert str(bare) == "price unknown for openai/gpt-image-1.5 at 1024x1024 auto"


# ------------------------------------------------------------------------------------ local, generic


def test_local_needs_no_key_and_sends_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # not the local provider's variable: never sent
    server = Server(ok_b64())
    client = make(server, "local")
    client.images.generate(model="gpt-image-1.5", prompt="p")
    (request,) = server.requests
    assert str(request.url) == "http://127.0.0.1:8765/v1/images/generations"
    assert "authorization" not in request.headers and "api-key" not in request.headers
    monkeypatch.setenv("IMAGEWIRE_LOCAL_API_KEY", KEY)
    make(server, "local").images.generate(model="gpt-image-1.5", prompt="p")
    assert server.requests[1].headers["authorization"] == f"Bearer {KEY}"


def test_local_offers_variations_of_a_model_retired_at_its_vendor() -> None:
    server = Server(ok_b64())
    make(server, "local", allow_retired=True).images.create_variation(model="dall-e-2", image=PNG)
    assert str(server.requests[0].url) == "http://127.0.0.1:8765/v1/images/variations"


def test_generic_needs_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from imagewire_client import ImagewireError

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ImagewireError) as caught:
        make(Server(ok_b64()), "generic")
    assert str(caught.value) == "provider 'generic' has no fixed address: pass base_url=... or set OPENAI_BASE_URL"
    monkeypatch.setenv("OPENAI_BASE_URL", "https://env-relay.example/v1")
    env_server = Server(ok_b64())
    make(env_server, "generic").images.generate(model="gpt-image-1.5", prompt="p")
    assert str(env_server.requests[0].url) == "https://env-relay.example/v1/images/generations"
    server = Server(ok_b64())
    make(server, "generic", base_url="https://relay.example/api/v1/").images.generate(model="gpt-image-1.5", prompt="p")
    assert str(server.requests[0].url) == "https://relay.example/api/v1/images/generations"
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_unknown_provider_lists_the_known_ones() -> None:
    from imagewire_client import Client, UnknownProviderError

    with pytest.raises(UnknownProviderError) as caught:
        Client(provider="open-ai", api_key=KEY)
    assert str(caught.value) == (
        "unknown provider 'open-ai'; known providers: openai, azure, bothub, aipomogator, local, generic"
    )
    assert isinstance(caught.value, ValueError)


# ------------------------------------------------------------------------------------ keys, secrets


KEYED = [
    ("openai", "OPENAI_API_KEY"),
    ("azure", "AZURE_OPENAI_API_KEY"),
    ("bothub", "BOTHUB_API_KEY"),
    ("aipomogator", "AIPOMOGATOR_API_KEY"),
    ("generic", "OPENAI_API_KEY"),
]


@pytest.mark.parametrize(("provider", "env"), KEYED)
def test_missing_key_names_the_variable_and_echoes_no_planted_secret(
    provider: str, env: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from imagewire_client import ImagewireError

    caplog.set_level(logging.DEBUG)
    for name in (
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "BOTHUB_API_KEY",
        "AIPOMOGATOR_API_KEY",
        "IMAGEWIRE_LOCAL_API_KEY",
    ):
        if name != env:
            monkeypatch.setenv(name, SECRET)
    with pytest.raises(ImagewireError) as caught:
        make(Server(ok_b64()), provider, organization=SECRET, project=SECRET, **REQUIRED.get(provider, {}))
    token = ", or give a bearer token as azure_ad_token= or azure_ad_token_provider= or in AZURE_OPENAI_AD_TOKEN"
    assert str(caught.value) == f"no API key for {provider}: set {env} or pass the api_key argument" + (
        token if provider == "azure" else ""
    )
    assert SECRET not in repr(caught.value) and SECRET not in caplog.text


@pytest.mark.parametrize("provider", ["openai", "azure", "bothub", "aipomogator", "local", "generic"])
def test_planted_secret_never_shows_in_errors_reprs_or_logs(provider: str, caplog: pytest.LogCaptureFixture) -> None:
    """The key (an sk- look-alike) and sensitive settings travel where they must and show nowhere else."""
    import imagewire_client

    caplog.set_level(logging.DEBUG)

    def echo(request: httpx.Request) -> httpx.Response:  # a proxy that echoes credentials back
        seen = request.headers.get("authorization") or request.headers.get("api-key") or ""
        return json_response(
            error_body(f"Incorrect API key provided: {SECRET} ({seen})", "invalid_request_error", "invalid_api_key"),
            401,
            headers={"x-echo": seen, "www-authenticate": f'Bearer realm="api", token="{SECRET}"'},
        )

    server = Server(ok_b64(), echo)
    model = "dall-e-3" if provider in ("bothub", "aipomogator") else "gpt-image-1.5"
    client = make(
        server, provider, api_key=SECRET, organization=SECRET, project=SECRET, model=model, **REQUIRED.get(provider, {})
    )
    result = client.images.generate(prompt="p")
    with pytest.raises(imagewire_client.AuthenticationError) as caught:
        client.images.generate(prompt="p")
    with pytest.raises(imagewire_client.ValidationError) as refused:
        client.images.generate(prompt="p", n=99)
    sent = server.requests[0].headers
    assert SECRET in (sent.get("authorization", "") + sent.get("api-key", ""))
    texts = [
        repr(client),
        str(client.images.estimate()),
        repr(result),
        str(refused.value),
        repr(refused.value),
        caplog.text,
    ]
    err = caught.value
    texts += [str(err), repr(err), repr(err.headers), repr(err.body), repr(getattr(err, "message", ""))]
    leaks = [text for text in texts if SECRET in text]
    assert leaks == []


def test_azure_style_key_echoed_by_a_proxy_never_shows() -> None:
    """An Azure key is 32 hex characters: nothing key-shaped about it, yet it is masked as the client's own key."""
    import imagewire_client

    azure_key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

    def echo(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "401", "message": f"Access denied for key {request.headers['api-key']}"}}
        return json_response(body, 401, headers={"x-echo": request.headers["api-key"]})

    client = make(Server(echo), "azure", api_key=azure_key, model="gpt-image-1.5", **AZURE)
    with pytest.raises(imagewire_client.AuthenticationError) as caught:
        client.images.generate(prompt="p")
    err = caught.value
    assert [t for t in (str(err), repr(err), repr(err.headers), repr(err.body)) if azure_key in t] == []


# ------------------------------------------------------------------------------ quirks vs warnings


def test_an_undeclared_deviation_stays_a_warning_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="imagewire_client")
    server = Server(json_response(images_body({"b64_json": b64(PNG)}, created=None)))
    client = make(server, "bothub", api_key=JWT)
    first = client.images.generate(model="dall-e-3", prompt="p")
    second = client.images.generate(model="dall-e-3", prompt="p")
    for result in (first, second):
        assert result.warnings == ["/created: missing (the contract requires it)"]
        assert result.quirks == []
    logged = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(logged) == 1
    assert "/created: missing" in logged[0].getMessage()


#: a provider entry with a declared deviation, added to a copy of the spec for the tests below
FIXTURE_ENTRY = """
  quirky:
    title: Quirky relay (test fixture)
    base_url: https://quirky.example/openai/v1
    auth: {style: api-key, header: X-Quirky-Key, env: QUIRKY_API_KEY}
    operations: [generations]
    models:
      dall-e-3: {}
      gpt-image-1.5: {operations: {generations: {params: {size: {values: [1024x1024]}}}}}
    prices:
      - {model: dall-e-3, size: 1024x1024, quality: standard, usd: 0.04}
      - {model: dall-e-3, size: 1792x1024, quality: standard, usd: 0.08}
    quirks:
      - {id: no-created, kind: deviation, pointer: /created, note: answers lack created}
"""


def _import_as(folder: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quirky(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """A client generated from spec/ plus FIXTURE_ENTRY, imported under a name of its own."""
    from imagewire.generator import regen

    root = tmp_path_factory.mktemp("quirky")
    spec = root / "spec"
    shutil.copytree(ROOT / "spec", spec)
    with (spec / "providers.yaml").open("a", encoding="utf-8") as handle:
        handle.write(FIXTURE_ENTRY)
    dest = root / "generated_client"
    regen.build(regen.Paths(spec=spec / "openapi.yaml", out=dest), dest)
    name = f"imagewire_client_quirky_{uuid.uuid4().hex[:8]}"
    module = _import_as(dest / "imagewire_client", name)
    yield module
    for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[loaded]


def test_a_declared_deviation_goes_to_quirks_and_the_rest_stays_in_warnings(
    quirky: ModuleType, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG, logger="imagewire_client")
    monkeypatch.setenv("QUIRKY_API_KEY", KEY)
    answer = images_body({"b64_json": b64(PNG), "revised_prompt": 7}, created=None)
    server = Server(json_response(answer))
    client = quirky.Client(
        provider="quirky", http_client=httpx.Client(transport=httpx.MockTransport(server)), max_retries=0
    )
    result = client.images.generate(model="dall-e-3", prompt="p")
    (request,) = server.requests
    assert str(request.url) == "https://quirky.example/openai/v1/images/generations"
    assert request.headers["x-quirky-key"] == KEY and "authorization" not in request.headers
    assert result.quirks == ["no-created"]
    assert result.warnings == ["/data/0/revised_prompt: string sent as a number"]
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(logged) == 1 and "/data/0/revised_prompt" in logged[0] and "/created" not in logged[0]


def test_the_fixture_provider_narrows_and_refuses_before_sending(quirky: ModuleType) -> None:
    server = Server(ok_b64())
    client = quirky.Client(
        provider="quirky", api_key=KEY, http_client=httpx.Client(transport=httpx.MockTransport(server))
    )
    with pytest.raises(
        quirky.ValidationError, match=r"^size '1536x1024' is not available for gpt-image-1.5; choose 1024x1024"
    ):
        client.images.generate(model="gpt-image-1.5", prompt="p", size="1536x1024")
    with pytest.raises(quirky.ValidationError, match=r"^quirky does not offer edits"):
        client.images.edit(model="gpt-image-1.5", prompt="p", image=PNG)
    assert server.count == 0
    from imagewire_client import PROVIDERS

    assert "quirky" not in PROVIDERS  # the installed client is untouched


def test_a_quality_pinned_price_is_unknown_at_other_qualities(quirky: ModuleType) -> None:
    images = quirky.Client(provider="quirky", api_key=KEY).images
    standard = images.estimate(model="dall-e-3", size="1792x1024", quality="standard")
    assert (standard.usd, str(standard)) == (0.08, "$0.080 (1 x $0.080, quirky dall-e-3 1792x1024 standard)")
    hd = images.estimate(model="dall-e-3", size="1024x1024", quality="hd")
    assert (hd.usd, hd.per_image, str(hd)) == (None, None, "price unknown for quirky/dall-e-3 at 1024x1024 hd")
    unlisted = images.estimate(model="gpt-image-1.5", size="1024x1024", quality="high")
    assert str(unlisted) == "price unknown for quirky/gpt-image-1.5 at 1024x1024 high"


def test_a_quality_pinned_price_is_unknown_when_the_quality_is(quirky: ModuleType) -> None:
    images = quirky.Client(provider="quirky", api_key=KEY).images
    assert images.estimate(model="dall-e-3", size="1024x1024").usd is None
