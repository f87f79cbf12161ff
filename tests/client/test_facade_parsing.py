"""Reading answers through the facade: real shapes, tolerated deviations, and contract errors."""

from __future__ import annotations

import json

import httpx
import pytest
from support.client import JPEG, PNG, Server, b64, client, images_body, json_response

# the bothub (OpenIntegrations seed 001) answer, verbatim
BOTHUB = {
    "created": 1750098846,
    "data": [
        {
            "revised_prompt": "A charming yellow-colored alpaca standing freely in a pasture.",
            "url": "https://oaidalleapiprodscus.blob.core.windows.net/private/org-Dy8ARyqBtu507OGoMBxfUU0S/"
            "user-n4L5wc2dF1fH9APAG2dE3Rw9/img-StR6prDRbPDFcwREXKuTv5wU.png?st=2025-06-16T17%3A34%3A06Z"
            "&se=2025-06-16T19%3A34%3A06Z&sp=r&sv=2024-08-04&sr=b&rscd=inline&rsct=image/png"
            "&sig=61%2B3ssgypoSq6e9cEYAq1EI8WuxfypYrI1u3EvkzeBc%3D",
        }
    ],
}

GPT = {
    "created": 1713833628,
    "background": "opaque",
    "output_format": "png",
    "quality": "high",
    "size": "1024x1024",
    "data": [{"b64_json": b64(PNG)}],
    "usage": {
        "input_tokens": 50,
        "output_tokens": 4160,
        "total_tokens": 4210,
        "input_tokens_details": {"text_tokens": 40, "image_tokens": 10},
        "output_tokens_details": {"image_tokens": 4160, "text_tokens": 0},
    },
}

# seed 004: a provider doc for gpt-image-1.5 that documents a chat.completion answer
CHAT_COMPLETION = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "created": 1677652288,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "\n\nHello there, how may I assist you today?"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
}


def generate(server: Server, model: str = "gpt-image-1.5", **kwargs):  # type: ignore[no-untyped-def]
    c = client(server, **kwargs)
    return c.images.generate(model=model, prompt="Yellow alpaca")


def _seed_answer(name: str) -> dict:
    """The ``{"created": ...}`` JSON answer printed in a seed document (vendored: no skip when shared/ is absent)."""
    from recordings import seeds

    answer: dict = json.loads(json.dumps(seeds.ANSWERS[name]))  # a fresh copy, as parsed from the document
    return answer


def test_bothub_seed_answer_verbatim() -> None:
    from imagewire_client import ImagesResponse

    answer = _seed_answer("001_619dde2b4eea99e3.txt")
    result = generate(Server(json_response(answer)), "dall-e-3", base_url="https://bothub.chat/api/v2/openai/")
    assert isinstance(result, ImagesResponse)
    assert result.created == answer["created"]
    assert result.data[0].url == answer["data"][0]["url"]
    assert result.data[0].revised_prompt == answer["data"][0]["revised_prompt"]
    assert result.warnings == []
    assert result.extra == {}


def test_dalle3_url_answer_with_revised_prompt() -> None:
    from imagewire_client import Image, ImagesResponse

    result = generate(Server(json_response(BOTHUB)), "dall-e-3", base_url="https://bothub.chat/api/v2/openai/")
    assert isinstance(result, ImagesResponse)
    assert result.created == 1750098846
    (image,) = result.data
    assert isinstance(image, Image)
    assert image.url == BOTHUB["data"][0]["url"]
    assert image.revised_prompt.startswith("A charming yellow-colored alpaca")
    assert image.b64_json is None
    assert result.warnings == []
    assert result.usage is None


def test_b64_answer() -> None:
    result = generate(Server(json_response(images_body({"b64_json": b64(JPEG)}))))
    (image,) = result.data
    assert image.b64_json == b64(JPEG)
    assert image.url is None
    assert image.content() == JPEG
    assert image.format == "jpeg"


def test_gpt_answer_with_usage_and_echo_fields() -> None:
    from imagewire_client import ImagesUsage

    result = generate(Server(json_response(GPT)))
    assert (result.background, result.output_format, result.quality, result.size) == (
        "opaque",
        "png",
        "high",
        "1024x1024",
    )
    assert isinstance(result.usage, ImagesUsage)
    assert result.usage.total_tokens == 4210
    assert result.usage.input_tokens_details.image_tokens == 10
    assert result.usage.output_tokens_details.image_tokens == 4160
    assert result.data[0].content() == PNG
    assert result.warnings == []


def test_unknown_keys_are_kept_in_extra() -> None:
    body = images_body(
        {"b64_json": b64(PNG), "index": 0, "content_filter_results": {"hate": {"filtered": False}}},
        id="img-1",
        model="gpt-image-1.5",
        prompt_filter_results=[{"prompt_index": 0}],
    )
    result = generate(Server(json_response(body)))
    assert result.extra == {"id": "img-1", "model": "gpt-image-1.5", "prompt_filter_results": [{"prompt_index": 0}]}
    assert result.data[0].extra == {"index": 0, "content_filter_results": {"hate": {"filtered": False}}}
    assert result.warnings == []
    assert result.to_dict()["id"] == "img-1"


def test_created_missing_is_none_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    body = images_body({"b64_json": b64(PNG)}, created=None)
    with caplog.at_level("WARNING", logger="imagewire_client"):
        result = generate(Server(json_response(body)))
    assert result.created is None
    assert any("created" in w for w in result.warnings), result.warnings
    assert any("created" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("revised", ["absent", None, ""])
def test_revised_prompt_absent_null_or_empty(revised: object) -> None:
    item: dict[str, object] = {"url": "https://img.example.test/a.png"}
    if revised != "absent":
        item["revised_prompt"] = revised
    result = generate(Server(json_response(images_body(item))))
    image = result.data[0]
    assert image.url == "https://img.example.test/a.png"
    assert image.revised_prompt in (None, "")
    assert result.warnings == []


def test_url_and_b64_both_present_with_one_null() -> None:
    body = images_body({"url": None, "b64_json": b64(PNG)}, {"url": "https://img.example.test/b.png", "b64_json": None})
    result = generate(Server(json_response(body)))
    first, second = result.data
    assert first.url is None and first.content() == PNG
    assert second.b64_json is None and second.url == "https://img.example.test/b.png"
    assert result.warnings == []


def test_created_as_numeric_string_is_read_with_a_warning() -> None:
    body = images_body({"b64_json": b64(PNG)}, created=None)
    body["created"] = "1750098846"
    result = generate(Server(json_response(body)))
    assert result.created == 1750098846
    assert result.warnings


# ---------------------------------------------------------------- contract errors


def _contract(response: httpx.Response):  # type: ignore[no-untyped-def]
    from imagewire_client import ResponseContractError

    server = Server(response)
    with pytest.raises(ResponseContractError) as info:
        generate(server)
    assert server.count == 1  # a contract error is not retried
    return info.value


def test_chat_completion_body_is_a_contract_error() -> None:
    err = _contract(json_response(CHAT_COMPLETION))
    assert "chat.completion" in str(err)
    assert err.status_code == 200
    assert "chatcmpl-123" in err.body


def test_html_page_with_200_is_a_contract_error() -> None:
    page = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
    err = _contract(httpx.Response(200, headers={"content-type": "text/html; charset=utf-8"}, text=page))
    assert "HTML" in str(err)
    assert "Just a moment" in err.body


def test_truncated_json_is_a_contract_error() -> None:
    text = json.dumps(images_body({"b64_json": b64(PNG)}))[:40]
    err = _contract(httpx.Response(200, headers={"content-type": "application/json"}, text=text))
    assert "not JSON" in str(err)


def test_data_missing_is_a_contract_error() -> None:
    err = _contract(json_response({"created": 1}))
    assert err.pointer == "/data"


def test_item_with_neither_url_nor_b64_is_a_contract_error() -> None:
    err = _contract(json_response(images_body({"b64_json": b64(PNG)}, {"revised_prompt": "x"})))
    assert err.pointer == "/data/1"
    assert "neither url nor b64_json" in str(err)


def test_item_with_both_null_is_a_contract_error() -> None:
    err = _contract(json_response(images_body({"url": None, "b64_json": None})))
    assert err.pointer == "/data/0"


def test_json_array_is_a_contract_error() -> None:
    err = _contract(json_response([{"b64_json": b64(PNG)}]))
    assert "ImagesResponse" in str(err)


def test_contract_errors_are_imagewire_errors() -> None:
    from imagewire_client import ImagewireError

    err = _contract(json_response({"created": 1, "data": []}))
    assert isinstance(err, ImagewireError)
