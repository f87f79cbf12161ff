"""The pictures: deterministic, sized and formatted as asked, transparent on demand, fast."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from PIL import ImageChops, ImageStat
from support.server import App, decode, open_image

from imagewire.server import render
from imagewire_client.media import sniff

GEN = "/v1/images/generations"


def image(app: App, **body: Any) -> bytes:
    r = app().post(GEN, json={"prompt": "A yellow alpaca", **body})
    assert r.status_code == 200, r.text
    return decode(r.json()["data"][0]["b64_json"])


def test_same_request_same_bytes_even_across_servers(app: App) -> None:
    body = {"model": "gpt-image-1.5", "size": "1024x1024", "quality": "high"}
    assert image(app, **body) == image(app, **body)


def test_a_different_prompt_looks_visibly_different(app: App) -> None:
    one = open_image(image(app, model="gpt-image-1.5", size="1024x1024")).convert("RGB")
    two = open_image(image(app, model="gpt-image-1.5", size="1024x1024", prompt="A blue whale")).convert("RGB")
    difference = ImageStat.Stat(ImageChops.difference(one, two)).mean
    assert sum(difference) / 3 > 10  # mean per-channel difference on a 0-255 scale


def test_other_parameters_change_the_picture(app: App) -> None:
    base = image(app, model="gpt-image-1.5", size="1024x1024")
    assert image(app, model="gpt-image-1.5", size="1024x1024", quality="low") != base
    assert image(app, model="gpt-image-1-mini", size="1024x1024") != base


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("gpt-image-1.5", "1536x1024", (1536, 1024)),
        ("gpt-image-1.5", "auto", (1024, 1024)),
        ("gpt-image-1.5", None, (1024, 1024)),
        ("gpt-image-2", "1280x720", (1280, 720)),
        ("gpt-image-2", "512x1536", (512, 1536)),
        ("dall-e-3", "1792x1024", (1792, 1024)),
        ("dall-e-2", "512x512", (512, 512)),
    ],
)
def test_size_is_honoured(app: App, model: str, size: str | None, expected: tuple[int, int]) -> None:
    body: dict[str, Any] = {"model": model}
    if size:
        body["size"] = size
    if model.startswith("dall-e"):
        body["response_format"] = "b64_json"
    data = image(app, **body)
    info = sniff(data)
    assert info is not None and (info.width, info.height) == expected
    assert open_image(data).size == expected


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_output_format_is_honoured(app: App, fmt: str) -> None:
    data = image(app, model="gpt-image-1.5", size="1024x1024", output_format=fmt)
    assert sniff(data).format == fmt  # type: ignore[union-attr]
    assert open_image(data).format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]


def test_gif_and_svg_on_the_2_5_family(app: App) -> None:
    gif = image(app, model="gpt-image-2.5-sunburst", size="1024x1024", output_format="gif")
    assert sniff(gif).format == "gif"  # type: ignore[union-attr]
    svg = image(app, model="gpt-image-2.5-sunburst", size="1024x1024", output_format="svg")
    assert svg.startswith(b"<svg") and b"A yellow alpaca" in svg


def test_output_compression_changes_jpeg_size(app: App) -> None:
    small = image(app, model="gpt-image-1.5", size="1024x1024", output_format="jpeg", output_compression=10)
    large = image(app, model="gpt-image-1.5", size="1024x1024", output_format="jpeg", output_compression=95)
    assert len(small) < len(large)


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_transparent_background_has_an_alpha_channel(app: App, fmt: str) -> None:
    data = image(app, model="gpt-image-1.5", size="1024x1024", background="transparent", output_format=fmt)
    picture = open_image(data)
    assert picture.mode == "RGBA"
    low, high = picture.getchannel("A").getextrema()  # type: ignore[misc]
    assert low == 0 and high == 255
    opaque = open_image(image(app, model="gpt-image-1.5", size="1024x1024", background="opaque"))
    assert opaque.mode == "RGB"


def test_dalle_answers_png(app: App) -> None:
    assert sniff(image(app, model="dall-e-3", response_format="b64_json")).format == "png"  # type: ignore[union-attr]


def test_rendering_a_1024_square_gives_distinct_pictures_per_seed() -> None:
    # how fast rendering is belongs to the benchmarks (scripts/bench_*.py), not to a timed test
    digests = set()
    for index in range(3):
        picture = render.Picture(
            seed=hashlib.sha256(str(index).encode()).digest(), width=1024, height=1024, prompt="p" * 80, caption="c"
        )
        encoded = render.encode(render.render(picture), "png")
        assert open_image(encoded).size == (1024, 1024)
        digests.add(hashlib.sha256(encoded).hexdigest())
    assert len(digests) == 3
