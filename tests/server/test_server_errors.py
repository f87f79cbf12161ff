"""OpenAI-shaped errors with the right status, param and code; every envelope valid against the spec."""

from __future__ import annotations

from typing import Any

import pytest
from support.server import KEY, App, error, picture, request_findings

GEN = "/v1/images/generations"
EDIT = "/v1/images/edits"
VARY = "/v1/images/variations"
AUTH = {"Authorization": f"Bearer {KEY}"}


def gen(app: App, body: Any, persona: str = "local", **options: Any) -> Any:
    return app(persona, **options).post(GEN, json=body)


def test_missing_and_wrong_key_are_401_invalid_api_key(app: App) -> None:
    client = app(api_key=KEY)
    body = {"model": "gpt-image-1.5", "prompt": "p"}
    missing = client.post(GEN, json=body)
    assert missing.status_code == 401
    assert error(missing)["code"] == "invalid_api_key"
    wrong = client.post(GEN, json=body, headers={"Authorization": "Bearer sk-wrong-key-000000000000"})
    assert wrong.status_code == 401
    err = error(wrong)
    assert err["code"] == "invalid_api_key" and err["type"] == "invalid_request_error"
    assert "sk-wrong-key-000000000000" not in err["message"]  # masked
    basic = client.post(GEN, json=body, headers={"Authorization": KEY})  # no Bearer scheme
    assert basic.status_code == 401
    assert client.post(GEN, json=body, headers=AUTH).status_code == 200


def test_without_a_configured_key_no_auth_is_needed(app: App) -> None:
    assert gen(app, {"model": "gpt-image-1.5", "prompt": "p", "size": "1024x1024"}).status_code == 200


def test_invalid_size_names_the_supported_values(app: App) -> None:
    r = gen(app, {"model": "gpt-image-1.5", "prompt": "p", "size": "256x256"})
    assert r.status_code == 400
    err = error(r)
    assert err == {
        "message": "Invalid value: '256x256'. Supported values are: '1024x1024', '1536x1024', '1024x1536', and 'auto'.",
        "type": "invalid_request_error",
        "param": "size",
        "code": "invalid_value",
    }


def test_free_size_rule_of_gpt_image_2(app: App) -> None:
    assert gen(app, {"model": "gpt-image-2", "prompt": "p", "size": "1280x720"}).status_code == 200
    r = gen(app, {"model": "gpt-image-2", "prompt": "p", "size": "1000x1000"})
    assert r.status_code == 400
    err = error(r)
    assert err["param"] == "size" and err["code"] == "invalid_value"
    assert "multiples of 16" in err["message"]
    wide = error(gen(app, {"model": "gpt-image-2", "prompt": "p", "size": "3840x640"}))
    assert "aspect ratio" in wide["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "gpt-image-1.5", "prompt": "p", "response_format": "url"}, "response_format"),
        ({"model": "dall-e-3", "prompt": "p", "output_format": "png"}, "output_format"),
        ({"model": "dall-e-3", "prompt": "p", "stream": True}, "stream"),
        ({"model": "yandexgpt/yandex-art", "prompt": "p", "quality": "standard"}, "quality"),
        ({"model": "gpt-image-1.5", "prompt": "p", "colour": "blue"}, "colour"),  # not in the spec at all
    ],
)
def test_unknown_parameter(app: App, body: dict[str, Any], param: str) -> None:
    r = gen(app, body)
    assert r.status_code == 400
    err = error(r)
    assert (err["param"], err["code"]) == (param, "unknown_parameter")
    assert err["message"] == f"Unknown parameter: '{param}'."
    # a field the spec has (but the model does not take) is valid to the spec; one it lacks is not
    assert bool(request_findings(r)) == (param == "colour")


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "gpt-image-1.5"}, "prompt", "missing_required_parameter"),
        ({"model": "gpt-image-1.5", "prompt": "p", "n": "two"}, "n", "invalid_type"),
        ({"model": "gpt-image-1.5", "prompt": 5}, "prompt", "invalid_type"),
        ({"model": "gpt-image-1.5", "prompt": "p", "n": 11}, "n", "invalid_value"),
        ({"model": "gpt-image-1.5", "prompt": "p", "quality": "ultra"}, "quality", "invalid_value"),
        ({"model": "dall-e-3", "prompt": "p", "n": 2}, "n", "invalid_value"),
        ({"model": "dall-e-3", "prompt": "p", "quality": "low"}, "quality", "invalid_value"),
        (
            {"model": "gpt-image-1.5", "prompt": "p", "background": "transparent", "output_format": "jpeg"},
            "output_format",
            "invalid_value",
        ),
        ({"model": "gpt-image-1.5", "prompt": "p", "output_compression": 50}, "output_format", "invalid_value"),
        ({"model": "dall-e-2", "prompt": "x" * 1001}, "prompt", "string_above_max_length"),
        ({"model": "gpt-image-2.5-sunburst", "prompt": "p", "output_format": "bmp"}, "output_format", "invalid_value"),
    ],
)
def test_bad_values_are_400_with_param_and_code(app: App, body: dict[str, Any], param: str, code: str) -> None:
    r = gen(app, body)
    assert r.status_code == 400, r.text
    err = error(r)
    assert (err["param"], err["code"]) == (param, code), err


def test_spec_level_rejections_agree_with_the_spec_validator(app: App) -> None:
    """What the server rejects by the spec's schema, imagewire.check.validate finds wrong in the request too."""
    for body in (
        {"model": "gpt-image-1.5"},
        {"model": "gpt-image-1.5", "prompt": "p", "n": "two"},
        {"model": "gpt-image-1.5", "prompt": "p", "n": 11},
        {"model": "gpt-image-1.5", "prompt": "p", "quality": "ultra"},
        {"model": "gpt-image-1.5", "prompt": "p", "size": "huge"},
    ):
        r = gen(app, body)
        assert r.status_code == 400
        assert request_findings(r), body
    for body in (  # valid to the spec, rejected by the model catalog
        {"model": "dall-e-3", "prompt": "p", "n": 2},
        {"model": "gpt-image-1.5", "prompt": "p", "size": "256x256"},
    ):
        r = gen(app, body)
        assert r.status_code == 400
        assert not request_findings(r), body


def test_quality_message_lists_what_the_model_takes(app: App) -> None:
    err = error(gen(app, {"model": "dall-e-3", "prompt": "p", "quality": "low"}))
    assert err["message"] == "Invalid value: 'low'. Supported values are: 'standard' and 'hd'."


def test_unknown_model_is_404_model_not_found(app: App) -> None:
    r = gen(app, {"model": "gpt-image-9", "prompt": "p"})
    assert r.status_code == 404
    err = error(r)
    assert err["code"] == "model_not_found"
    assert err["message"] == "The model `gpt-image-9` does not exist or you do not have access to it."


def test_a_model_that_does_not_offer_the_operation(app: App) -> None:
    r = app().post(EDIT, data={"model": "dall-e-3", "prompt": "p"}, files={"image": ("a.png", picture(), "image/png")})
    assert r.status_code == 400
    assert error(r)["param"] == "model"


def test_invalid_json_body(app: App) -> None:
    r = app().post(GEN, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "could not parse the JSON body" in error(r)["message"]
    r = app().post(GEN, json=["a list"])
    assert r.status_code == 400
    error(r)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [(GEN, "text/plain"), (GEN, "multipart/form-data; boundary=x"), (VARY, "application/json"), (EDIT, "text/plain")],
)
def test_wrong_content_type_is_415(app: App, path: str, content_type: str) -> None:
    r = app().post(path, content=b"{}", headers={"content-type": content_type})
    assert r.status_code == 415
    assert error(r)["code"] == "unsupported_content_type"


def test_too_large_body_is_413(app: App) -> None:
    r = app(max_body_bytes=1000).post(GEN, json={"model": "gpt-image-1.5", "prompt": "x" * 2000})
    assert r.status_code == 413
    assert error(r)["code"] == "request_too_large"


def test_an_upload_over_the_models_limit_is_413(app: App) -> None:
    big = picture(64, 64) + b"\0" * (4 * 1024 * 1024)  # a PNG padded past dall-e-2's 4 MiB
    r = app().post(VARY, data={"model": "dall-e-2"}, files={"image": ("big.png", big, "image/png")})
    assert r.status_code == 413
    err = error(r)
    assert (err["param"], err["code"]) == ("image", "file_too_large")


def test_a_file_part_without_an_image_content_type_is_400_unsupported_mimetype(app: App) -> None:
    r = app().post(
        EDIT,
        data={"model": "gpt-image-1.5", "prompt": "p"},
        files={"image": ("a.png", picture(), "application/octet-stream")},
    )
    assert r.status_code == 400
    err = error(r)
    assert err["code"] == "unsupported_file_mimetype" and err["param"] == "image"
    assert err["message"] == (
        "Invalid file 'image': unsupported mimetype ('application/octet-stream'). "
        "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'."
    )


def test_image_checks_of_the_catalog(app: App) -> None:
    client = app()
    jpeg = client.post(VARY, data={"model": "dall-e-2"}, files={"image": ("a.jpg", picture(fmt="JPEG"), "image/jpeg")})
    assert jpeg.status_code == 400 and error(jpeg)["param"] == "image"
    oblong = client.post(VARY, data={"model": "dall-e-2"}, files={"image": ("a.png", picture(64, 32), "image/png")})
    assert oblong.status_code == 400 and "square" in error(oblong)["message"]
    garbage = client.post(
        EDIT, data={"model": "gpt-image-1.5", "prompt": "p"}, files={"image": ("a.png", b"not an image", "image/png")}
    )
    assert garbage.status_code == 400 and error(garbage)["param"] == "image"
    mismatched = client.post(
        EDIT,
        data={"model": "gpt-image-1.5", "prompt": "p"},
        files=[("image", ("a.png", picture(64, 64), "image/png")), ("mask", ("m.png", picture(32, 32), "image/png"))],
    )
    assert mismatched.status_code == 400 and error(mismatched)["param"] == "mask"


def test_moderation_is_json_only_on_edits(app: App) -> None:
    r = app().post(
        EDIT,
        data={"model": "gpt-image-1.5", "prompt": "p", "moderation": "low"},
        files={"image": ("a.png", picture(), "image/png")},
    )
    assert r.status_code == 400
    assert error(r)["code"] == "unknown_parameter"


def test_dalle2_edit_needs_transparency_without_a_mask(app: App) -> None:
    r = app().post(
        EDIT, data={"model": "dall-e-2", "prompt": "p"}, files={"image": ("a.png", picture(alpha=False), "image/png")}
    )
    assert r.status_code == 400
    assert "transparency" in error(r)["message"]


def test_moderation_marker_gpt_is_moderation_blocked(app: App) -> None:
    r = gen(app, {"model": "gpt-image-1.5", "prompt": "something Forbidden here"})
    assert r.status_code == 400
    err = error(r)
    assert err["code"] == "moderation_blocked"
    assert err["type"] == "image_generation_user_error"
    assert err["moderation_details"] == {"moderation_stage": "input", "categories": ["violence"]}
    assert r.headers["x-request-id"] in err["message"]


def test_moderation_marker_dalle_is_content_policy_violation(app: App) -> None:
    r = gen(app, {"model": "dall-e-3", "prompt": "a forbidden thing"})
    assert r.status_code == 400
    err = error(r)
    assert err["code"] == "content_policy_violation"
    assert err["message"] == "Your request was rejected as a result of our safety system"
    assert gen(app, {"model": "dall-e-3", "prompt": "forbiddenness is fine"}).status_code == 200  # a whole word only


def test_unknown_path_method_and_operation(app: App) -> None:
    client = app("openai")
    unknown = client.post("/v1/images/whatever", json={})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Invalid URL (POST /v1/images/whatever)"
    assert client.get(GEN).status_code == 405
    retired = client.post(VARY, files={"image": ("a.png", picture(), "image/png")})
    assert retired.status_code == 404  # variations retired at OpenAI
    error(retired)


def test_unexpected_failures_are_500_envelopes(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from imagewire.server import answers as module

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "render_all", boom)
    monkeypatch.setattr(module, "cached_all", lambda plan: None)  # a picture an earlier test left in the cache
    client = app()
    client_no_raise = type(client)(client.app, raise_server_exceptions=False)
    r = client_no_raise.post(GEN, json={"model": "gpt-image-1.5", "prompt": "p"})
    assert r.status_code == 500
    assert r.json()["error"]["type"] == "server_error"
