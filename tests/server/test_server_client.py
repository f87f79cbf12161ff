"""The generated client (imagewire_client) end to end against each persona, over loopback HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.server import KEY, Serve, mask, picture

from imagewire.server import Running
from imagewire_client import (
    AuthenticationError,
    Client,
    ContentPolicyError,
    ModelNotFoundError,
    QuotaExceededError,
    RateLimitError,
    ResponseContractError,
)
from imagewire_client.media import sniff


def client(server: Running, provider: str = "local", **options: object) -> Client:
    return Client(provider=provider, base_url=server.base_url, api_key=KEY, max_retries=0, **options)  # type: ignore[arg-type]


def test_local_generate_b64_and_url(local: Running, tmp_path: Path) -> None:
    with client(local, allow_retired=True) as c:
        result = c.images.generate(model="gpt-image-1.5", prompt="A yellow alpaca", size="1024x1536")
        assert result.warnings == [] and result.quirks == []
        assert result.size == "1024x1536" and result.usage is not None and result.usage.total_tokens
        content = result.data[0].content()
        assert sniff(content).format == "png"  # type: ignore[union-attr]
        dalle = c.images.generate(model="dall-e-3", prompt="Yellow alpaca", size="1792x1024")
        assert dalle.data[0].url and dalle.data[0].revised_prompt
        (saved,) = dalle.save(tmp_path)
        info = sniff(saved.read_bytes())
        assert info is not None and (info.format, info.width, info.height) == ("png", 1792, 1024)


def test_local_edit_with_several_images_and_a_mask(local: Running, tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.jpg"
    a.write_bytes(picture(64, 64))
    b.write_bytes(picture(64, 64, "JPEG"))
    (tmp_path / "mask.png").write_bytes(mask(64, 64))
    with client(local) as c:
        result = c.images.edit(
            model="gpt-image-1.5", prompt="Put them in a basket", image=[a, b], mask=tmp_path / "mask.png"
        )
        assert result.warnings == []
        assert result.data[0].content()
    log = local.requests()
    assert [e["operation"] for e in log] == ["edits"] and log[0]["status"] == 200


def test_local_json_edit_and_variation(local: Running) -> None:
    from support.server import data_url

    with client(local, allow_retired=True) as c:
        edited = c.images.edit(model="gpt-image-1.5", prompt="p", images=[{"image_url": data_url(picture())}])
        assert edited.data[0].content()
        varied = c.images.create_variation(model="dall-e-2", image=picture(64, 64), n=2, size="256x256")
        assert len(varied.data) == 2 and all(img.url for img in varied.data)
        assert all(sniff(img.content()).width == 256 for img in varied.data)  # type: ignore[union-attr]


@pytest.mark.parametrize("persona", ["local", "generic"])
def test_streams_in_both_dialects(serve: Serve, persona: str) -> None:
    server = serve(persona, api_key=KEY)
    with client(server, persona) as c:
        events = list(c.images.generate(model="gpt-image-1.5", prompt="x", stream=True, partial_images=2))
        assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
        assert all(e.warnings == [] for e in events)
        assert sniff(events[-1].content()).format == "png"  # type: ignore[union-attr]


def test_openai_persona(serve: Serve) -> None:
    server = serve("openai", api_key=KEY)
    with client(server, "openai") as c:
        result = c.images.generate(model="gpt-image-2", prompt="p", size="1280x720", output_format="webp")
        assert sniff(result.data[0].content()).format == "webp"  # type: ignore[union-attr]
        with pytest.raises(ModelNotFoundError):
            c.images.generate(model="gpt-image-9", prompt="p", validate=False)


def test_bothub_persona(serve: Serve) -> None:
    server = serve("bothub", api_key=KEY)
    assert server.base_url.endswith("/api/v2/openai")
    with client(server, "bothub") as c:
        result = c.images.generate(model="dall-e-3", prompt="Yellow alpaca", n=1, size="1024x1024")
        assert result.data[0].url and result.data[0].revised_prompt and result.warnings == []


def test_aipomogator_persona_jpeg_quirk(serve: Serve) -> None:
    server = serve("aipomogator", api_key=KEY)
    with client(server, "aipomogator") as c:
        result = c.images.generate(model="yandexgpt/yandex-art", prompt="p", response_format="b64_json")
        assert result.data[0].format == "jpeg"
        assert sniff(result.data[0].content()).format == "jpeg"  # type: ignore[union-attr]
        dalle = c.images.generate(model="dall-e-2", prompt="p", size="512x512")
        assert dalle.data[0].url


def test_azure_persona(serve: Serve) -> None:
    server = serve("azure", api_key=KEY)
    assert "{deployment}" in server.base_url
    options = {"resource": "anything", "deployment": "gpt-image-1", "api_version": "2025-04-01-preview"}
    with client(server, "azure", model="gpt-image-1", **options) as c:
        result = c.images.generate(prompt="p", size="1024x1024")
        assert result.warnings == []  # extra keys (the filter results) are tolerated
        assert result.data[0].content()
        with pytest.raises(ContentPolicyError):
            c.images.generate(prompt="forbidden")
    with (
        Client(provider="azure", base_url=server.base_url, api_key="wrong-key-0000000", max_retries=0, **options) as c,
        pytest.raises(AuthenticationError),
    ):
        c.images.generate(model="gpt-image-1.5", prompt="p")


def test_azure_persona_v1_with_an_entra_token_and_no_model(serve: Serve) -> None:
    server = serve("azure", api_key=KEY)
    endpoint = server.base_url.split("/openai/")[0]
    asked: list[int] = []

    def token() -> str:
        asked.append(1)
        return KEY

    options = {"azure_endpoint": endpoint, "api_version": "v1", "deployment": "gpt-image-1.5"}
    with Client(provider="azure", azure_ad_token_provider=token, max_retries=0, **options) as c:  # type: ignore[arg-type]
        result = c.images.generate(prompt="p")
        assert result.usage is not None  # the deployment gpt-image-1.5 answered
        (note,) = result.warnings  # the model of the deployment is not declared: its checks were skipped
        assert "not declared" in note
        edited = c.images.edit(prompt="p", image=picture(64, 64))
        assert edited.data[0].content()
    assert len(asked) == 2  # the token is asked for on every request
    log = server.requests()
    assert [e["operation"] for e in log] == ["generations", "edits"]
    assert all(e["status"] == 200 for e in log)


def test_errors_by_meaning(local: Running) -> None:
    with client(local, allow_retired=True) as c:
        with pytest.raises(ContentPolicyError) as blocked:
            c.images.generate(model="gpt-image-1.5", prompt="a forbidden thing")
        assert blocked.value.moderation_details == {"moderation_stage": "input", "categories": ["violence"]}
        with pytest.raises(ContentPolicyError):
            c.images.generate(model="dall-e-3", prompt="a forbidden thing")
        fault = {"X-Imagewire-Fault": "rate-limit"}
        with pytest.raises(RateLimitError) as limited:
            c.images.generate(model="gpt-image-1.5", prompt="p", extra_headers=fault)
        assert limited.value.retry_after == 1
        with pytest.raises(QuotaExceededError):
            c.images.generate(model="gpt-image-1.5", prompt="p", extra_headers={"X-Imagewire-Fault": "quota"})
        for shape in ("wrong-shape", "truncated", "html"):
            with pytest.raises(ResponseContractError if shape != "html" else Exception):
                c.images.generate(model="gpt-image-1.5", prompt="p", extra_headers={"X-Imagewire-Fault": shape})


def test_retries_after_rate_limit_and_5xx(local: Running) -> None:
    waits: list[float] = []
    with Client(provider="local", base_url=local.base_url, api_key=KEY, max_retries=3, sleep=waits.append) as c:
        for fault in ("rate-limit;times=2", "overloaded;times=1", "server-error;times=1"):
            result = c.images.generate(model="gpt-image-1.5", prompt="p", extra_headers={"X-Imagewire-Fault": fault})
            assert result.data[0].content()
    assert waits[:2] == [1.0, 1.0]  # retry-after: 1
    statuses = [e["status"] for e in local.requests()]
    assert statuses == [429, 429, 200, 503, 200, 500, 200]


def test_no_retry_on_quota(local: Running) -> None:
    waits: list[float] = []
    c = Client(provider="local", base_url=local.base_url, api_key=KEY, max_retries=3, sleep=waits.append)
    with c, pytest.raises(QuotaExceededError):
        c.images.generate(model="gpt-image-1.5", prompt="p", extra_headers={"X-Imagewire-Fault": "quota"})
    assert waits == [] and len(local.requests()) == 1


def test_stream_cut_short_is_a_contract_error(local: Running) -> None:
    with client(local) as c:
        stream = c.images.generate(
            model="gpt-image-1.5",
            prompt="x",
            stream=True,
            partial_images=1,
            extra_headers={"X-Imagewire-Fault": "truncated"},
        )
        with pytest.raises(ResponseContractError):
            list(stream)
