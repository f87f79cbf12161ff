"""Independent proof: the official ``openai`` SDK (3.x, on httpx2) against the server over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.server import KEY, TIMEOUT, assert_conforms, decode, mask, picture

from imagewire.server import Running
from imagewire_client.media import sniff

openai = pytest.importorskip("openai")


@pytest.fixture
def sdk(local: Running) -> Iterator[Any]:
    client = openai.OpenAI(api_key=KEY, base_url=local.base_url, max_retries=0, timeout=30.0)
    yield client
    client.close()


def test_generate_url(sdk: Any, local: Running) -> None:
    raw = sdk.images.with_raw_response.generate(model="dall-e-3", prompt="Yellow alpaca", n=1, size="1024x1024")
    result = raw.parse()
    assert result.data[0].url.startswith(local.origin + "/files/")
    assert result.data[0].revised_prompt
    downloaded = httpx.get(result.data[0].url, timeout=TIMEOUT)
    assert sniff(downloaded.content).format == "png"  # type: ignore[union-attr]
    assert_conforms(raw.http_response)


def test_generate_b64(sdk: Any) -> None:
    raw = sdk.images.with_raw_response.generate(
        model="gpt-image-1.5", prompt="A cute baby sea otter", size="1024x1536", background="transparent"
    )
    result = raw.parse()
    data = decode(result.data[0].b64_json)
    info = sniff(data)
    assert info is not None and (info.width, info.height, info.has_alpha) == (1024, 1536, True)
    assert result.usage.total_tokens > 0
    assert result.size == "1024x1536" and result.background == "transparent"
    assert_conforms(raw.http_response)


def test_edit_with_several_images_and_a_mask(sdk: Any, local: Running) -> None:
    result = sdk.images.edit(
        model="gpt-image-1.5",
        prompt="Put them in a gift basket",
        image=[("a.png", picture(64, 64), "image/png"), ("b.webp", picture(64, 64, "WEBP"), "image/webp")],
        mask=("mask.png", mask(64, 64), "image/png"),
        size="1024x1024",
    )
    assert sniff(decode(result.data[0].b64_json)).width == 1024  # type: ignore[union-attr]
    assert result.usage.input_tokens_details.image_tokens == 2 * 323
    (entry,) = local.requests()
    assert (entry["operation"], entry["status"]) == ("edits", 200)


def test_stream(sdk: Any) -> None:
    stream = sdk.images.generate(model="gpt-image-1.5", prompt="x", stream=True, partial_images=2, size="1024x1024")
    events = list(stream)
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    assert events[-1].usage.total_tokens > 0
    assert sniff(decode(events[-1].b64_json)).format == "png"  # type: ignore[union-attr]


def test_edit_stream(sdk: Any) -> None:
    stream = sdk.images.edit(
        model="gpt-image-1.5", prompt="x", image=("a.png", picture(), "image/png"), stream=True, partial_images=1
    )
    assert [e.type for e in stream] == ["image_edit.partial_image", "image_edit.completed"]


def test_sdk_errors(sdk: Any) -> None:
    with pytest.raises(openai.BadRequestError) as invalid:
        sdk.images.generate(model="dall-e-3", prompt="p", size="256x256")
    assert invalid.value.code == "invalid_value" and invalid.value.param == "size"
    with pytest.raises(openai.BadRequestError) as unknown:
        sdk.images.generate(model="gpt-image-1.5", prompt="p", response_format="url")
    assert unknown.value.code == "unknown_parameter"
    with pytest.raises(openai.NotFoundError):
        sdk.images.generate(model="gpt-image-9", prompt="p")
    with pytest.raises(openai.RateLimitError):
        sdk.images.generate(model="gpt-image-1.5", prompt="p", extra_headers={"X-Imagewire-Fault": "rate-limit"})
    wrong = openai.OpenAI(api_key="sk-wrong-0000000000000", base_url=sdk.base_url, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.images.generate(model="gpt-image-1.5", prompt="p")
    wrong.close()


def test_sdk_retries_a_rate_limit(local: Running) -> None:
    client = openai.OpenAI(api_key=KEY, base_url=local.base_url, max_retries=2, timeout=30.0)
    with client:
        result = client.images.generate(
            model="gpt-image-1.5", prompt="p", extra_headers={"X-Imagewire-Fault": "rate-limit;times=1"}
        )
    assert result.data[0].b64_json
    assert [e["status"] for e in local.requests()] == [429, 200]
