"""Calls the catalog rejects raise ValidationError before anything is sent."""

from __future__ import annotations

import pytest
from support.client import PNG, Server, client, ok_b64


def _live(models, model_id: str):  # type: ignore[no-untyped-def]
    """The catalog with ``model_id`` marked live (as a provider that still serves it sees it)."""
    entry = models[model_id]
    return {**models, model_id: entry._replace(lifecycle=entry.lifecycle._replace(status="live"))}


def rejected(call, server: Server):  # type: ignore[no-untyped-def]
    from imagewire_client import ValidationError

    with pytest.raises(ValidationError) as info:
        call()
    assert server.count == 0, "an invalid call must send nothing"
    assert isinstance(info.value, ValueError)
    return info.value


def test_size_256_on_dalle3_exact_message() -> None:
    from imagewire_client import MODELS

    server = Server(ok_b64())
    c = client(server, models=_live(MODELS, "dall-e-3"))
    err = rejected(lambda: c.images.generate(model="dall-e-3", prompt="p", size="256x256"), server)
    assert str(err) == "size '256x256' is not available for dall-e-3; choose 1024x1024, 1792x1024 or 1024x1792"
    assert err.field == "size"
    assert err.model == "dall-e-3"
    assert tuple(err.allowed) == ("1024x1024", "1792x1024", "1024x1792")


def test_n_2_on_dalle3() -> None:
    from imagewire_client import MODELS

    server = Server(ok_b64())
    c = client(server, models=_live(MODELS, "dall-e-3"))
    err = rejected(lambda: c.images.generate(model="dall-e-3", prompt="p", n=2), server)
    assert err.field == "n"
    assert "only 1 is allowed" in str(err)


def test_style_on_gpt_image_15() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(lambda: c.images.generate(model="gpt-image-1.5", prompt="p", style="vivid"), server)
    assert err.field == "style"
    assert str(err) == "style is not accepted by gpt-image-1.5 for generations"


def test_response_format_on_gpt_image_15() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(lambda: c.images.generate(model="gpt-image-1.5", prompt="p", response_format="url"), server)
    assert err.field == "response_format"


def test_retired_model_names_date_and_replacement() -> None:
    server = Server(ok_b64())
    c = client(server, provider="openai")  # a known table: refused before sending
    err = rejected(lambda: c.images.generate(model="gpt-image-1", prompt="p"), server)
    assert "2026-10-23" in str(err)
    assert "gpt-image-2.5-sunburst or gpt-image-2.5-flare" in str(err)
    assert "shut down" in str(err)
    assert err.rule == "lifecycle"


def test_shut_down_model() -> None:
    server = Server(ok_b64())
    c = client(server, provider="openai")  # a known table: refused before sending
    err = rejected(lambda: c.images.generate(model="gpt-image-1", prompt="p"), server)
    assert "2026-10-23" in str(err)
    assert "shut down" in str(err)


def test_unknown_model() -> None:
    server = Server(ok_b64())
    c = client(server, provider="openai")  # a known table: refused before sending
    err = rejected(lambda: c.images.generate(model="gpt-image-9", prompt="p"), server)
    assert "gpt-image-9" in str(err)
    assert "validate=False" in str(err)
    assert err.field == "model"


def test_missing_model() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(lambda: c.images.generate(prompt="p"), server)
    assert err.field == "model"
    assert "model is required" in str(err)
    assert "gpt-image-1.5" in str(err)


def test_prompt_too_long() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(lambda: c.images.generate(model="gpt-image-1.5", prompt="x" * 32001), server)
    assert err.field == "prompt"


def test_transparent_background_needs_an_alpha_format() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(
        lambda: c.images.generate(model="gpt-image-1.5", prompt="p", background="transparent", output_format="jpeg"),
        server,
    )
    assert err.rule.startswith("rule:")


def test_free_size_rules_on_gpt_image_2() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(lambda: c.images.generate(model="gpt-image-2", prompt="p", size="1000x1000"), server)
    assert "multiples of 16" in str(err)
    c.images.generate(model="gpt-image-2", prompt="p", size="1280x720")
    assert server.count == 1


def test_validate_false_on_the_call_sends_anyway() -> None:
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(model="dall-e-3", prompt="p", size="256x256", n=2, validate=False)
    assert server.count == 1
    assert server.json() == {"model": "dall-e-3", "prompt": "p", "size": "256x256", "n": 2}


def test_validate_false_on_the_client_sends_anyway() -> None:
    server = Server(ok_b64())
    c = client(server, validate=False)
    c.images.generate(model="gpt-image-9", prompt="p", style="vivid")
    c.images.generate(prompt="no model at all")
    assert server.count == 2
    assert server.json(-1) == {"prompt": "no model at all"}


def test_validate_true_on_the_call_overrides_the_client() -> None:
    server = Server(ok_b64())
    c = client(server, validate=False)
    rejected(lambda: c.images.generate(model="gpt-image-1.5", prompt="p", style="vivid", validate=True), server)


def test_image_and_images_together() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(
        lambda: c.images.edit(
            model="gpt-image-1.5", prompt="p", image=PNG, images=[{"image_url": "https://x.test/a.png"}]
        ),
        server,
    )
    assert "not both" in str(err)


def test_image_and_images_together_even_without_validation() -> None:
    server = Server(ok_b64())
    c = client(server, validate=False)
    rejected(
        lambda: c.images.edit(model="gpt-image-1.5", prompt="p", image=PNG, images=[{"file_id": "file-1"}]),
        server,
    )


def test_a_file_that_is_not_an_image() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(lambda: c.images.edit(model="gpt-image-1.5", prompt="p", image=b"hello, not an image"), server)
    assert err.field == "image"


def test_a_missing_path() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(lambda: c.images.edit(model="gpt-image-1.5", prompt="p", image="/nonexistent/cat.png"), server)
    assert "/nonexistent/cat.png" in str(err)


def test_dalle2_edit_needs_a_square_png() -> None:
    from support.client import png_bytes

    from imagewire_client import MODELS

    server = Server(ok_b64())
    c = client(server, models=_live(MODELS, "dall-e-2"))
    err = rejected(lambda: c.images.edit(model="dall-e-2", prompt="p", image=png_bytes(4, 2)), server)
    assert "square" in str(err)


def test_mask_of_another_size() -> None:
    from support.client import png_bytes

    server = Server(ok_b64())
    c = client(server)
    err = rejected(
        lambda: c.images.edit(model="gpt-image-1.5", prompt="p", image=png_bytes(4, 4), mask=png_bytes(2, 2)), server
    )
    assert err.field == "mask"


def test_moderation_on_a_multipart_edit() -> None:
    server = Server(ok_b64())
    c = client(server)
    err = rejected(lambda: c.images.edit(model="gpt-image-1.5", prompt="p", image=PNG, moderation="low"), server)
    assert err.field == "moderation"


def test_retired_model_when_the_caller_accepts_retired_models() -> None:
    """A way to keep the checks on for a retired model a provider still serves (``check`` has ``allow_retired``)."""
    server = Server(ok_b64())
    c = client(server, allow_retired=True)
    c.images.generate(model="dall-e-3", prompt="p", size="1792x1024")
    assert server.count == 1
    from imagewire_client import ValidationError

    with pytest.raises(ValidationError, match="size '256x256' is not available for dall-e-3"):
        c.images.generate(model="dall-e-3", prompt="p", size="256x256")
    assert server.count == 1, "the invalid call must send nothing"


def test_a_call_shape_that_passed_before_is_still_checked_by_value_type_and_prompt() -> None:
    """Checks of a call whose other fields passed before are skipped, never its prompt, and a value equal to
    one that passed but of another type (``True`` and ``1.0`` for ``1``) is checked anew."""
    server = Server(ok_b64())
    c = client(server)
    c.images.generate(model="gpt-image-1.5", prompt="p", n=1)
    c.images.generate(model="gpt-image-1.5", prompt="q", n=1)
    from imagewire_client import ValidationError

    for n in (True, 1.0):
        with pytest.raises(ValidationError) as info:
            c.images.generate(model="gpt-image-1.5", prompt="p", n=n)
        assert info.value.field == "n"
    with pytest.raises(ValidationError) as info:
        c.images.generate(model="gpt-image-1.5", prompt="x" * 32001, n=1)
    assert info.value.field == "prompt"
    assert server.count == 2  # the refused calls sent nothing


def test_headers_of_one_call_do_not_stay_for_the_next() -> None:
    server = Server(ok_b64())
    c = client(server, default_headers={"X-Team": "a"})
    c.images.generate(model="gpt-image-1.5", prompt="p", extra_headers={"X-Trace": "1", "Content-Type": "text/x"})
    c.images.generate(model="gpt-image-1.5", prompt="p")
    first, second = server.requests
    assert first.headers["x-trace"] == "1" and "x-trace" not in second.headers
    for request in (first, second):
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-team"] == "a" and request.headers["authorization"].startswith("Bearer ")


def test_the_policy_for_a_model_follows_allow_retired_when_it_changes() -> None:
    server = Server(ok_b64())
    c = client(server)  # an open provider: a retired model is sent with a note, unless allowed

    def retired_note() -> bool:
        result = c.images.generate(model="dall-e-3", prompt="p")
        return any("dall-e-3 was retired" in note for note in result.warnings)

    assert retired_note()
    c.allow_retired = True
    assert not retired_note()
    c.allow_retired = False
    assert retired_note()
