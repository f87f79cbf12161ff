"""Streaming: ``stream: true`` answers ``text/event-stream``; the OpenAI dialect (``event:`` lines) and the
relay dialect of the generic persona (no ``event:`` lines, ``:`` comments, ``data: [DONE]``)."""

from __future__ import annotations

import json

import pytest
from support.server import App, assert_conforms, data_url, decode, events, open_image, picture

GEN = "/v1/images/generations"
EDIT = "/v1/images/edits"


@pytest.mark.parametrize("partials", [0, 1, 3])
def test_openai_dialect_partials_then_completed(app: App, partials: int) -> None:
    body = {"model": "gpt-image-1.5", "prompt": "A yellow alpaca", "stream": True, "partial_images": partials}
    r = app().post(GEN, json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    assert_conforms(r)
    parsed = events(r.text)
    assert len(parsed) == partials + 1
    payloads = [json.loads(data) for _, data in parsed]
    assert [name for name, _ in parsed] == [p["type"] for p in payloads]  # event: line names the type
    assert [p.get("partial_image_index") for p in payloads[:-1]] == list(range(partials))
    final = payloads[-1]
    assert final["type"] == "image_generation.completed"
    assert final["usage"]["total_tokens"] > 0
    assert {final["size"], final["quality"], final["background"], final["output_format"]} == {
        "1024x1024",
        "medium",
        "opaque",
        "png",
    }
    assert "[DONE]" not in r.text
    sizes = {open_image(decode(p["b64_json"])).size for p in payloads}
    assert sizes == {(1024, 1024)}
    if partials:  # partials are coarser previews of the final image
        assert decode(payloads[0]["b64_json"]) != decode(final["b64_json"])


def test_final_image_equals_the_non_streamed_one(app: App) -> None:
    client = app()
    body = {"model": "gpt-image-1.5", "prompt": "same picture", "size": "1024x1024"}
    plain = client.post(GEN, json=body).json()["data"][0]["b64_json"]
    streamed = json.loads(events(client.post(GEN, json={**body, "stream": True}).text)[-1][1])
    assert streamed["b64_json"] == plain


def test_relay_dialect_of_the_generic_persona(app: App) -> None:
    body = {"model": "gpt-image-1.5", "prompt": "relay", "stream": True, "partial_images": 2}
    r = app("generic").post(GEN, json=body)
    assert r.status_code == 200
    assert_conforms(r)
    text = r.text
    assert "event:" not in text
    assert text.startswith(": keep-alive\n\n")
    assert text.rstrip("\n").endswith("data: [DONE]")
    parsed = events(text)
    assert [name for name, _ in parsed] == [None] * 4
    types = [json.loads(data)["type"] for _, data in parsed[:-1]]
    assert types == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]


def test_edit_stream_events(app: App) -> None:
    multipart = app().post(
        EDIT,
        data={"model": "gpt-image-1.5", "prompt": "p", "stream": "true", "partial_images": "1"},
        files={"image": ("a.png", picture(), "image/png")},
    )
    assert multipart.status_code == 200, multipart.text
    assert_conforms(multipart)
    types = [json.loads(data)["type"] for _, data in events(multipart.text)]
    assert types == ["image_edit.partial_image", "image_edit.completed"]
    as_json = app().post(
        EDIT,
        json={"model": "gpt-image-1.5", "prompt": "p", "stream": True, "images": [{"image_url": data_url(picture())}]},
    )
    assert as_json.status_code == 200
    assert_conforms(as_json)


def test_stream_false_answers_json(app: App) -> None:
    r = app().post(GEN, json={"model": "gpt-image-1.5", "prompt": "p", "stream": False, "partial_images": 2})
    assert r.headers["content-type"] == "application/json"
    assert_conforms(r)


def test_n_images_each_stream_their_events(app: App) -> None:
    r = app().post(GEN, json={"model": "gpt-image-1.5", "prompt": "p", "stream": True, "partial_images": 1, "n": 2})
    types = [json.loads(data)["type"].rsplit(".", 1)[1] for _, data in events(r.text)]
    assert types == ["partial_image", "completed", "partial_image", "completed"]
