"""The three operations and their answers, in process (the local persona unless said otherwise)."""

from __future__ import annotations

from support.server import KEY, App, assert_conforms, data_url, decode, mask, open_image, picture

from imagewire_client.media import sniff

AUTH = {"Authorization": f"Bearer {KEY}"}
GEN = "/v1/images/generations"
EDIT = "/v1/images/edits"
VARY = "/v1/images/variations"


def test_gpt_generation_answers_b64_with_echo_fields_and_usage(app: App) -> None:
    client = app(api_key=KEY)
    r = client.post(
        GEN, json={"model": "gpt-image-1.5", "prompt": "A yellow alpaca", "size": "1024x1536"}, headers=AUTH
    )
    assert r.status_code == 200, r.text
    assert_conforms(r)
    body = r.json()
    assert isinstance(body["created"], int)
    assert body["size"] == "1024x1536"
    assert body["output_format"] == "png"
    assert body["quality"] == "medium"
    assert body["background"] == "opaque"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert set(usage["input_tokens_details"]) == {"text_tokens", "image_tokens"}
    (item,) = body["data"]
    assert "url" not in item
    info = sniff(decode(item["b64_json"]))
    assert info is not None and (info.format, info.width, info.height) == ("png", 1024, 1536)
    assert r.headers["x-request-id"].startswith("req_")
    assert int(r.headers["openai-processing-ms"]) >= 0


def test_n_images_are_distinct(app: App) -> None:
    r = app().post(GEN, json={"model": "gpt-image-1-mini", "prompt": "three cats", "n": 3, "size": "1024x1024"})
    assert r.status_code == 200, r.text
    assert_conforms(r)
    blobs = [decode(item["b64_json"]) for item in r.json()["data"]]
    assert len(blobs) == 3 and len(set(blobs)) == 3
    assert r.json()["usage"]["output_tokens"] == 3 * 1056


def test_dalle3_answers_url_and_revised_prompt(app: App) -> None:
    r = app().post(GEN, json={"model": "dall-e-3", "prompt": "Yellow alpaca", "n": 1, "size": "1024x1024"})
    assert r.status_code == 200, r.text
    assert_conforms(r)
    body = r.json()
    assert set(body) == {"created", "data"}  # no GPT echo fields, no usage
    (item,) = body["data"]
    assert item["url"].startswith("http://testserver/files/img-")
    assert "se=" in item["url"] and "sig=" in item["url"]
    assert item["revised_prompt"] and "yellow alpaca" in item["revised_prompt"]
    again = app().post(GEN, json={"model": "dall-e-3", "prompt": "Yellow alpaca", "n": 1, "size": "1024x1024"})
    assert again.json()["data"][0]["revised_prompt"] == item["revised_prompt"]  # deterministic rewording


def test_dalle_b64_json_and_dalle2_has_no_revised_prompt(app: App) -> None:
    r = app().post(GEN, json={"model": "dall-e-2", "prompt": "p", "size": "256x256", "response_format": "b64_json"})
    assert r.status_code == 200, r.text
    assert_conforms(r)
    (item,) = r.json()["data"]
    assert set(item) == {"b64_json"}
    info = sniff(decode(item["b64_json"]))
    assert info is not None and (info.format, info.width) == ("png", 256)


def test_model_defaults_to_the_official_specs_default(app: App) -> None:
    r = app().post(GEN, json={"prompt": "no model named"})
    assert r.status_code == 200, r.text
    assert "url" in r.json()["data"][0]  # dall-e-2: url by default
    openai = app("openai").post(GEN, json={"prompt": "no model named"})
    assert openai.status_code == 404  # dall-e-2 is retired at OpenAI
    assert openai.json()["error"]["code"] == "model_not_found"


def test_edit_multipart_with_one_image(app: App) -> None:
    r = app().post(
        EDIT,
        data={"model": "gpt-image-1.5", "prompt": "Add a hat", "size": "1024x1024"},
        files={"image": ("a.png", picture(), "image/png")},
    )
    assert r.status_code == 200, r.text
    assert_conforms(r)
    body = r.json()
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 323
    assert open_image(decode(body["data"][0]["b64_json"])).size == (1024, 1024)


def test_edit_multipart_with_several_images_and_a_mask(app: App) -> None:
    files = [
        ("image[]", ("a.png", picture(64, 64), "image/png")),
        ("image[]", ("b.jpg", picture(80, 60, "JPEG"), "image/jpeg")),
        ("image[]", ("c.webp", picture(40, 40, "WEBP"), "image/webp")),
        ("mask", ("mask.png", mask(64, 64), "image/png")),
    ]
    r = app().post(EDIT, data={"model": "gpt-image-1.5", "prompt": "Put them in a basket", "n": "2"}, files=files)
    assert r.status_code == 200, r.text
    assert_conforms(r)
    body = r.json()
    assert len(body["data"]) == 2
    assert body["usage"]["input_tokens_details"]["image_tokens"] == 3 * 323


def test_edit_json_with_data_urls(app: App) -> None:
    payload = {
        "model": "gpt-image-1.5",
        "prompt": "Combine",
        "images": [{"image_url": data_url(picture())}, {"image_url": data_url(picture(fmt="JPEG"), "image/jpeg")}],
        "mask": {"image_url": data_url(mask())},
        "output_format": "webp",
    }
    r = app().post(EDIT, json=payload)
    assert r.status_code == 200, r.text
    assert_conforms(r)
    assert sniff(decode(r.json()["data"][0]["b64_json"])).format == "webp"  # type: ignore[union-attr]


def test_edit_json_remote_url_is_400_and_file_id_404(app: App) -> None:
    client = app()
    remote = client.post(
        EDIT, json={"model": "gpt-image-1.5", "prompt": "p", "images": [{"image_url": "https://example.com/a.png"}]}
    )
    assert remote.status_code == 400
    assert_conforms(remote)
    assert remote.json()["error"]["code"] == "invalid_image_url"
    missing = client.post(EDIT, json={"model": "gpt-image-1.5", "prompt": "p", "images": [{"file_id": "file-abc123"}]})
    assert missing.status_code == 404
    assert_conforms(missing)
    assert "file-abc123" in missing.json()["error"]["message"]
    both = client.post(
        EDIT, json={"model": "gpt-image-1.5", "prompt": "p", "images": [{"file_id": "f", "image_url": "data:,"}]}
    )
    assert both.status_code == 400


def test_edit_json_can_reference_this_servers_own_urls(app: App) -> None:
    client = app()
    url = client.post(GEN, json={"model": "dall-e-2", "prompt": "source", "size": "256x256"}).json()["data"][0]["url"]
    r = client.post(EDIT, json={"model": "gpt-image-1.5", "prompt": "p", "images": [{"image_url": url}]})
    assert r.status_code == 200, r.text


def test_variation_multipart(app: App) -> None:
    r = app().post(
        VARY,
        data={"model": "dall-e-2", "n": "2", "size": "512x512"},
        files={"image": ("otter.png", picture(64, 64), "image/png")},
    )
    assert r.status_code == 200, r.text
    assert_conforms(r)
    assert [set(item) for item in r.json()["data"]] == [{"url"}, {"url"}]


def test_variation_b64_renders_from_the_input(app: App) -> None:
    client = app()
    sent = {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"}
    one = client.post(VARY, data=sent, files={"image": ("a.png", picture(colour=10), "image/png")})
    two = client.post(VARY, data=sent, files={"image": ("a.png", picture(colour=250), "image/png")})
    assert one.status_code == two.status_code == 200
    assert one.json()["data"][0]["b64_json"] != two.json()["data"][0]["b64_json"]


def test_dalle2_edit_with_a_transparent_image(app: App) -> None:
    r = app().post(
        EDIT,
        data={"model": "dall-e-2", "prompt": "fill the corner", "size": "256x256"},
        files={"image": ("a.png", picture(alpha=True), "image/png")},
    )
    assert r.status_code == 200, r.text
    assert_conforms(r)
