"""The open world: relays serving models the catalog does not list, Azure as documented today,
``OPENAI_BASE_URL`` with a provider, one set of messages with close matches, and what a call costs.

Each provider's validation policy comes from ``spec/providers.yaml``: a ``known`` table refuses a model it
does not list (with close matches and the way to send it anyway); an ``open`` provider sends it with one
warning and still checks the models the catalog knows. Everything goes through ``httpx.MockTransport``.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from support.client import (
    KEY,
    PNG,
    SECRET,
    Server,
    Sleeps,
    b64,
    error_body,
    images_body,
    json_response,
    ok_b64,
    sse,
    sse_response,
)

AZURE_ENDPOINT = "https://contoso.openai.azure.com"
CLASSIC = {"resource": "contoso", "deployment": "img1", "api_version": "2025-04-01-preview"}
ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_RESOURCE",
    "AZURE_OPENAI_DEPLOYMENT",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def make(server: Server, **kwargs: Any) -> Any:
    from imagewire_client import Client

    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("api_key", KEY)
    return Client(http_client=httpx.Client(transport=httpx.MockTransport(server)), sleep=Sleeps(), **kwargs)


def validation_error() -> type[Exception]:
    from imagewire_client import ValidationError

    return ValidationError


def gpt_answer(**usage: Any) -> httpx.Response:
    body = images_body({"b64_json": b64(PNG)}, size="1024x1024", quality="low")
    if usage:
        body["usage"] = usage
    return json_response(body)


def warnings_about(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and word in r.getMessage()]


# ---------------------------------------------------------------------------------- open providers


@pytest.mark.parametrize("how", ["generic", "base_url"])
def test_an_unknown_model_on_an_open_provider_is_sent_with_one_warning(
    how: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server(ok_b64())
    options: dict[str, Any] = {"base_url": "https://relay.example/v1"}
    if how == "generic":
        options["provider"] = "generic"
    client = make(server, **options)
    assert client.provider.id == "generic" and client.provider.policy == "open"
    with caplog.at_level(logging.WARNING, logger="imagewire_client"):
        first = client.images.generate(model="flux-pro", prompt="p", size="1024x1024")
        client.images.generate(model="flux-pro", prompt="q")
    assert server.count == 2 and server.json(0)["model"] == "flux-pro"
    assert str(server.requests[0].url) == "https://relay.example/v1/images/generations"
    (warning,) = [w for w in first.warnings if "flux-pro" in w]
    assert "not in the catalog" in warning
    assert len(warnings_about(caplog, "flux-pro")) == 1  # the log says it once per client


def test_a_model_retired_at_its_vendor_is_only_warned_about_on_an_open_provider(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server(ok_b64())
    client = make(server, provider="generic", base_url="https://relay.example/v1")
    with caplog.at_level(logging.WARNING, logger="imagewire_client"):
        result = client.images.generate(model="dall-e-3", prompt="p", size="1792x1024")
    assert server.json()["model"] == "dall-e-3"
    (warning,) = [w for w in result.warnings if "dall-e-3" in w]
    assert "retired" in warning and "2026-05-12" in warning
    assert len(warnings_about(caplog, "dall-e-3")) == 1
    # the rules of a model the catalog knows still apply on an open provider
    with pytest.raises(validation_error()) as refused:
        client.images.generate(model="dall-e-3", prompt="p", n=2)
    assert "only 1 is allowed" in str(refused.value)
    assert server.count == 1


def test_the_same_model_is_refused_on_openai() -> None:
    server = Server(ok_b64())
    with pytest.raises(validation_error()) as refused:
        make(server, provider="openai").images.generate(model="dall-e-3", prompt="p")
    assert "retired on 2026-05-12" in str(refused.value) and server.count == 0


def test_the_local_provider_serves_retired_models_silently() -> None:
    server = Server(ok_b64())
    result = make(server, provider="local").images.generate(model="dall-e-2", prompt="p", size="256x256")
    assert result.warnings == [] and server.count == 1


def test_a_base_url_picks_the_provider_it_belongs_to() -> None:
    server = Server(ok_b64())
    assert make(server, base_url="https://api.openai.com/v1").provider.id == "openai"
    assert make(server).provider.id == "openai"  # the default address is OpenAI's
    assert make(server, base_url="https://bothub.chat/api/v2/openai").provider.id == "bothub"
    assert make(server, base_url="http://127.0.0.1:9999/v1").provider.id == "generic"


# ---------------------------------------------------------------------------------- one set of messages


def test_a_misspelt_model_on_a_known_table_suggests_the_close_match() -> None:
    server = Server(ok_b64())
    with pytest.raises(validation_error()) as refused:
        make(server, provider="openai").images.generate(model="gpt-imge-1.5", prompt="p")
    message = str(refused.value)
    assert "did you mean gpt-image-1.5?" in message
    assert "validate=False" in message  # how to send it anyway
    assert server.count == 0


@pytest.mark.parametrize("model", ["dall-e-3", "gpt-imge-1.5", "flux-pro"])
def test_one_message_however_the_provider_was_chosen(model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(ok_b64())
    messages = []
    for options in ({"provider": "openai"}, {}, {"base_url": "https://api.openai.com/v1"}):
        with pytest.raises(validation_error()) as refused:
            make(server, **options).images.generate(model=model, prompt="p")
        messages.append(str(refused.value))
    assert len(set(messages)) == 1, messages
    if model == "dall-e-3":  # what to use instead, and how to send it anyway
        assert "name a live model" in messages[0] and "validate=False" in messages[0]


@pytest.mark.parametrize(
    ("field", "value", "suggestion"),
    [("size", "1024x1042", "1024x1024"), ("quality", "hihg", "high"), ("output_format", "jepg", "jpeg")],
)
def test_close_matches_for_values(field: str, value: str, suggestion: str) -> None:
    server = Server(ok_b64())
    with pytest.raises(validation_error()) as refused:
        make(server, provider="openai").images.generate(model="gpt-image-1.5", prompt="p", **{field: value})
    assert f"did you mean {suggestion}?" in str(refused.value)


def test_a_misspelt_keyword_argument_is_a_type_error_naming_the_close_match() -> None:
    server = Server(ok_b64())
    client = make(server, provider="openai")
    with pytest.raises(TypeError, match=r"qualty.*did you mean 'quality'\?"):
        client.images.generate(model="gpt-image-1.5", prompt="p", qualty="low")
    from imagewire_client import Client

    with pytest.raises(TypeError, match=r"api_verison.*did you mean 'api_version'\?"):
        Client(provider="azure", api_verison="v1")  # type: ignore[call-arg]
    assert server.count == 0


def test_provider_openai_honours_openai_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://gateway.example/openai/v1")
    server = Server(ok_b64())
    make(server, provider="openai").images.generate(model="gpt-image-1.5", prompt="p")
    assert str(server.requests[0].url) == "https://gateway.example/openai/v1/images/generations"
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


# ---------------------------------------------------------------------------------- Azure


def test_azure_classic_without_a_model(caplog: pytest.LogCaptureFixture) -> None:
    server = Server(ok_b64())
    client = make(server, provider="azure", **CLASSIC)
    with caplog.at_level(logging.WARNING, logger="imagewire_client"):
        first = client.images.generate(prompt="p", size="1024x1024")
        client.images.generate(prompt="q")
    assert str(server.requests[0].url) == (
        f"{AZURE_ENDPOINT}/openai/deployments/img1/images/generations?api-version=2025-04-01-preview"
    )
    assert "model" not in server.json(0)  # the deployment picks the model
    assert server.requests[0].headers["api-key"] == KEY
    (note,) = [w for w in first.warnings if "img1" in w]
    assert "model" in note and "skipped" in note
    assert len(warnings_about(caplog, "img1")) == 1


def test_azure_v1_sends_the_deployment_as_the_model() -> None:
    server = Server(ok_b64())
    client = make(server, provider="azure", azure_endpoint=AZURE_ENDPOINT, api_version="v1", deployment="img1")
    client.images.generate(prompt="p")
    (request,) = server.requests
    assert request.method == "POST"
    assert str(request.url) == f"{AZURE_ENDPOINT}/openai/v1/images/generations"
    assert server.json()["model"] == "img1"


def test_azure_v1_edits() -> None:
    server = Server(ok_b64())
    client = make(server, provider="azure", azure_endpoint=AZURE_ENDPOINT, api_version="v1", deployment="img1")
    client.images.edit(prompt="p", image=PNG)
    assert str(server.requests[0].url) == f"{AZURE_ENDPOINT}/openai/v1/images/edits"
    assert b'name="model"' in server.bodies[0] and b"img1" in server.bodies[0]


def test_azure_classic_edits() -> None:
    server = Server(ok_b64())
    make(server, provider="azure", model="gpt-image-1.5", **CLASSIC).images.edit(prompt="p", image=PNG)
    assert str(server.requests[0].url) == (
        f"{AZURE_ENDPOINT}/openai/deployments/img1/images/edits?api-version=2025-04-01-preview"
    )


def test_azure_entra_token_provider_is_asked_on_every_request(caplog: pytest.LogCaptureFixture) -> None:
    server = Server(ok_b64())
    asked: list[str] = []

    def token() -> str:
        asked.append(f"{SECRET}-{len(asked)}")
        return asked[-1]

    from imagewire_client import Client

    with caplog.at_level(logging.DEBUG, logger="imagewire_client"):
        client = Client(
            provider="azure",
            azure_endpoint=AZURE_ENDPOINT,
            api_version="v1",
            deployment="img1",
            azure_ad_token_provider=token,
            http_client=httpx.Client(transport=httpx.MockTransport(server)),
            max_retries=0,
        )
        client.images.generate(prompt="p")
        client.images.generate(prompt="q")
    assert len(asked) == 2
    for request, sent in zip(server.requests, asked, strict=True):
        assert request.headers["authorization"] == f"Bearer {sent}"
        assert "api-key" not in request.headers
    assert SECRET not in caplog.text and SECRET not in repr(client)


def test_azure_entra_token_given_as_a_value_or_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(ok_b64())
    from imagewire_client import Client

    transport = httpx.MockTransport(server)
    Client(provider="azure", azure_ad_token=SECRET, http_client=httpx.Client(transport=transport), **CLASSIC)
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", SECRET)
    Client(provider="azure", http_client=httpx.Client(transport=transport), **CLASSIC).images.generate(prompt="p")
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert "api-key" not in server.requests[0].headers


def test_azure_from_the_sdk_environment_variables_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", AZURE_ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "img1")
    server = Server(ok_b64())
    from imagewire_client import Client

    client = Client(provider="azure", http_client=httpx.Client(transport=httpx.MockTransport(server)))
    client.images.generate(prompt="p")
    assert str(server.requests[0].url) == (
        f"{AZURE_ENDPOINT}/openai/deployments/img1/images/generations?api-version=2025-04-01-preview"
    )
    assert server.requests[0].headers["api-key"] == KEY


@pytest.mark.parametrize("declared", [{"model": "gpt-image-1"}, {"deployments": {"img1": "gpt-image-1"}}])
def test_azure_a_declared_model_is_checked(declared: dict[str, Any]) -> None:
    server = Server(ok_b64())
    client = make(server, provider="azure", **CLASSIC, **declared)
    with pytest.raises(validation_error()) as refused:
        client.images.generate(prompt="p", quality="hd")
    assert "gpt-image-1" in str(refused.value) and server.count == 0
    result = client.images.generate(prompt="p", quality="low")
    assert result.warnings == []
    assert server.json().get("model") == declared.get("model")  # a model= is sent as given; Azure ignores it
    elsewhere = make(server, provider="azure", **CLASSIC, model="gpt-image-1.5").images.generate(prompt="p")
    assert elsewhere.warnings == [  # served by the deployment all the same; the api-version's table names another
        "gpt-image-1.5 is not listed for api-version 2025-04-01-preview (it lists gpt-image-1); checked by the model catalog"
    ]


def test_azure_values_narrowed_per_api_version() -> None:
    server = Server(ok_b64())
    stable = make(server, provider="azure", model="dall-e-3", **{**CLASSIC, "api_version": "2024-10-21"})
    with pytest.raises(validation_error()) as no_edits:
        stable.images.edit(prompt="p", image=PNG)
    assert "2024-10-21" in str(no_edits.value)
    stable.images.generate(prompt="p", size="1792x1024", quality="hd")  # served there: no lifecycle refusal
    preview = make(server, provider="azure", model="gpt-image-1", **CLASSIC)
    with pytest.raises(validation_error()) as webp:
        preview.images.generate(prompt="p", output_format="webp")
    assert "png or jpeg" in str(webp.value)
    preview.images.generate(prompt="p", output_format="jpeg")
    assert server.count == 2


def test_azure_apim_request_id_is_the_request_id() -> None:
    answer = json_response(error_body("bad", code="invalid_value"), 400, headers={"apim-request-id": "apim-123"})
    server = Server(answer)
    from imagewire_client import BadRequestError

    with pytest.raises(BadRequestError) as failed:
        make(server, provider="azure", model="gpt-image-1.5", **CLASSIC).images.generate(prompt="p")
    assert failed.value.request_id == "apim-123"


# ---------------------------------------------------------------------------------- cost


def test_estimate_on_openai_from_its_per_image_prices() -> None:
    client = make(Server(ok_b64()), provider="openai")
    estimate = client.images.estimate(model="gpt-image-1.5", size="1024x1024", quality="low", n=2)
    assert estimate.usd == pytest.approx(0.018)
    assert str(estimate).startswith("$0.018 (2 x $0.009, openai gpt-image-1.5 1024x1024 low")
    batch = client.images.estimate(model="gpt-image-1.5", size="1024x1024", quality="low", n=2, batch=True)
    assert batch.usd == pytest.approx(0.009)


def test_estimate_validates_before_it_prices() -> None:
    client = make(Server(ok_b64()), provider="openai")
    with pytest.raises(validation_error()) as refused:
        client.images.estimate(model="gpt-image-1.5", size="1000x1000", quality="low")
    assert "size '1000x1000' is not available for gpt-image-1.5" in str(refused.value)
    with pytest.raises(validation_error()):
        client.images.estimate(model="gpt-imge-1.5", size="1024x1024", quality="low")


def test_result_cost_from_usage() -> None:
    usage = {
        "input_tokens": 50,
        "input_tokens_details": {"text_tokens": 40, "image_tokens": 10},
        "output_tokens": 4160,
        "output_tokens_details": {"image_tokens": 4096, "text_tokens": 64},
        "total_tokens": 4210,
    }
    server = Server(gpt_answer(**usage))
    result = make(server, provider="openai").images.generate(model="gpt-image-1.5", prompt="p", quality="low")
    expected = (40 * 5.0 + 10 * 8.0 + 4096 * 32.0 + 64 * 10.0) / 1_000_000
    assert result.cost == pytest.approx(expected)


def test_result_cost_without_token_prices_falls_back_to_per_image_prices_or_none() -> None:
    usage = {"input_tokens": 5, "output_tokens": 100, "total_tokens": 105, "input_tokens_details": {"text_tokens": 5}}
    mini = make(Server(gpt_answer(**usage)), provider="openai")
    assert mini.images.generate(model="gpt-image-1-mini", prompt="p", quality="low").cost == pytest.approx(0.005)
    relay = make(Server(gpt_answer(**usage)), provider="generic", base_url="https://relay.example/v1")
    assert relay.images.generate(model="gpt-image-1.5", prompt="p").cost is None


def test_a_stream_carries_the_warning_on_its_first_event() -> None:
    events = sse({"type": "image_generation.completed", "b64_json": b64(PNG)})
    server = Server(sse_response(events))
    client = make(server, provider="generic", base_url="https://relay.example/v1")
    (event,) = list(client.images.generate(model="flux-pro", prompt="p", stream=True))
    assert [w for w in event.warnings if "flux-pro" in w]


def test_async_azure_v1_with_a_token_provider_and_a_misspelt_argument() -> None:
    import asyncio

    from imagewire_client import AsyncClient

    server = Server(ok_b64())
    asked: list[str] = []

    def token() -> str:
        asked.append(SECRET)
        return SECRET

    async def main() -> Any:
        client = AsyncClient(
            provider="azure",
            azure_endpoint=AZURE_ENDPOINT,
            api_version="v1",
            deployment="img1",
            deployments={"img1": "gpt-image-1.5"},
            azure_ad_token_provider=token,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(server.handle_async)),
            max_retries=0,
        )
        with pytest.raises(TypeError, match=r"did you mean 'prompt'\?"):
            await client.images.generate(promt="p")  # type: ignore[call-overload]
        with pytest.raises(validation_error()):  # the declared model's rules apply
            await client.images.generate(prompt="p", quality="hd")
        return await client.images.generate(prompt="p", quality="low")

    result = asyncio.run(main())
    assert result.warnings == [] and asked == [SECRET]
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert str(server.requests[0].url) == f"{AZURE_ENDPOINT}/openai/v1/images/generations"
    assert server.json()["model"] == "img1"
