"""Deterministic pictures with Pillow: the same seed and parameters give the same bytes.

A picture is a gradient (or a transparent canvas, or the caller's input image for edits and variations)
with a few shapes whose colours and places come from the seed (a hash of the prompt and parameters),
drawn at low resolution and scaled up, then the prompt is written on it with Pillow's default font at
full resolution. A 1024x1024 PNG takes a few tens of milliseconds.
"""

from __future__ import annotations

import colorsys
import io
import random
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = ["Picture", "encode", "preview", "render", "svg"]

_LOW = 256  # the longest side of the low-resolution drawing


@dataclass(frozen=True)
class Shape:
    kind: str  # ellipse | rectangle | triangle | ring
    box: tuple[float, float, float, float]  # unit coordinates: x0, y0, x1, y1
    colour: tuple[int, int, int]
    alpha: int


@dataclass(frozen=True)
class Picture:
    """What to draw."""

    seed: bytes
    width: int
    height: int
    prompt: str = ""
    caption: str = ""
    transparent: bool = False
    inputs: Sequence[bytes] = field(default_factory=tuple)
    mask: bytes | None = None


def _rng(seed: bytes) -> random.Random:
    return random.Random(int.from_bytes(seed[:16], "big"))


def _palette(rng: random.Random) -> list[tuple[int, int, int]]:
    base = rng.random()
    colours = []
    for i in range(5):
        hue = (base + i * (0.13 + rng.random() * 0.2)) % 1.0
        r, g, b = colorsys.hsv_to_rgb(hue, 0.45 + rng.random() * 0.5, 0.55 + rng.random() * 0.45)
        colours.append((int(r * 255), int(g * 255), int(b * 255)))
    return colours


def _shapes(rng: random.Random, palette: list[tuple[int, int, int]], count: int) -> list[Shape]:
    shapes = []
    for _ in range(count):
        w, h = 0.12 + rng.random() * 0.45, 0.12 + rng.random() * 0.45
        x, y = rng.random() * (1 - w), rng.random() * (1 - h)
        shapes.append(
            Shape(
                kind=rng.choice(("ellipse", "rectangle", "triangle", "ring")),
                box=(x, y, x + w, y + h),
                colour=rng.choice(palette[1:]),
                alpha=rng.randint(170, 255),
            )
        )
    return shapes


def _open(data: bytes, size: tuple[int, int]) -> PILImage.Image | None:
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (size[0] * 2, size[1] * 2))
            return ImageOps.fit(img.convert("RGBA"), size, Image.Resampling.BILINEAR)
    except Exception:
        return None


def _draw_shapes(img: PILImage.Image, shapes: Sequence[Shape], fade: float = 1.0) -> PILImage.Image:
    from PIL import Image, ImageDraw

    w, h = img.size
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for s in shapes:
        box = (s.box[0] * w, s.box[1] * h, s.box[2] * w, s.box[3] * h)
        fill = (*s.colour, int(s.alpha * fade))
        if s.kind == "ellipse":
            draw.ellipse(box, fill=fill)
        elif s.kind == "rectangle":
            draw.rectangle(box, fill=fill)
        elif s.kind == "triangle":
            draw.polygon([(box[0], box[3]), ((box[0] + box[2]) / 2, box[1]), (box[2], box[3])], fill=fill)
        else:
            draw.ellipse(box, outline=fill, width=max(2, int(min(w, h) * 0.03)))
    return Image.alpha_composite(img, layer)


def render(picture: Picture) -> PILImage.Image:
    """The picture at its full size: RGBA when transparent, RGB otherwise."""
    from PIL import Image, ImageChops

    rng = _rng(picture.seed)
    palette = _palette(rng)
    shapes = _shapes(rng, palette, rng.randint(5, 9))
    width, height = max(1, picture.width), max(1, picture.height)
    scale = min(1.0, _LOW / max(width, height))
    low = (max(1, round(width * scale)), max(1, round(height * scale)))

    if picture.transparent:
        canvas = Image.new("RGBA", low, (0, 0, 0, 0))
    else:
        gradient = Image.linear_gradient("L").rotate(rng.choice((0, 45, 90, 135)), Image.Resampling.BILINEAR)
        gradient = gradient.resize(low, Image.Resampling.BILINEAR)
        canvas = Image.composite(Image.new("RGB", low, palette[0]), Image.new("RGB", low, palette[-1]), gradient)
        canvas = canvas.convert("RGBA")

    base = _open(picture.inputs[0], low) if picture.inputs else None
    if base is not None:
        edited = _draw_shapes(base, shapes, 0.8)
        if picture.mask is not None and (mask := _open(picture.mask, low)) is not None:
            # fully transparent areas of the mask (alpha 0) are where the edit goes
            region = ImageChops.invert(mask.getchannel("A"))
            canvas = Image.composite(edited, base, region)
        else:
            canvas = edited
        for index, extra in enumerate(picture.inputs[1:6]):
            side = max(1, min(low) // 5)
            thumb = _open(extra, (side, side))
            if thumb is not None:
                canvas.alpha_composite(thumb, (2 + index * (side + 2), 2))
    else:
        canvas = _draw_shapes(canvas, shapes)

    full = canvas.resize((width, height), Image.Resampling.BILINEAR)
    _write(full, picture.prompt, picture.caption)
    return full if picture.transparent else full.convert("RGB")


def _font(size: int) -> object:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except Exception:  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _write(img: PILImage.Image, prompt: str, caption: str) -> None:
    from PIL import Image, ImageDraw

    width, height = img.size
    if min(width, height) < 48:
        return
    size = max(10, min(width, height) // 24)
    font = _font(size)
    chars = max(8, int(width / (size * 0.55)))
    lines = textwrap.wrap(" ".join(prompt.split()), chars, max_lines=3, placeholder=" …") if prompt else []
    band = int(size * 1.3) * (len(lines) + 1) + size // 2
    band = min(band, height)
    region = (0, height - band, width, height)
    strip = img.crop(region)
    shade = Image.new("RGBA", strip.size, (0, 0, 0, 150))
    strip = Image.alpha_composite(strip, shade)
    draw = ImageDraw.Draw(strip)
    y = size // 4
    for line in [*lines, caption]:
        draw.text((size // 2, y), line, fill=(255, 255, 255, 255), font=font)  # type: ignore[arg-type]
        y += int(size * 1.3)
    img.paste(strip, region[:2])


def preview(img: PILImage.Image, index: int, total: int) -> PILImage.Image:
    """Partial image ``index`` of ``total``: the final picture at a coarse resolution, sharper each time."""
    from PIL import Image

    factor = 2 ** (total - index + 2)
    small = img.resize((max(1, img.width // factor), max(1, img.height // factor)), Image.Resampling.BILINEAR)
    return small.resize(img.size, Image.Resampling.NEAREST)


def encode(img: PILImage.Image, fmt: str, compression: int | None = None) -> bytes:
    """``img`` as ``png``, ``jpeg``, ``webp`` or ``gif`` bytes; ``compression`` 0-100 for jpeg and webp."""
    buf = io.BytesIO()
    quality = 100 if compression is None else max(0, min(100, compression))
    if fmt == "png":
        img.save(buf, "PNG", compress_level=1)
    elif fmt == "jpeg":
        img.convert("RGB").save(buf, "JPEG", quality=max(1, min(95, quality)))
    elif fmt == "webp":
        img.save(buf, "WEBP", quality=quality, method=0)
    elif fmt == "gif":
        img.convert("RGB").quantize(colors=64).save(buf, "GIF")
    else:
        raise ValueError(f"cannot encode {fmt!r}")
    return buf.getvalue()


def svg(picture: Picture) -> bytes:
    """The picture as an SVG document (the same shapes, the prompt as text)."""
    from html import escape

    rng = _rng(picture.seed)
    palette = _palette(rng)
    shapes = _shapes(rng, palette, rng.randint(5, 9))
    w, h = max(1, picture.width), max(1, picture.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">',
    ]
    if not picture.transparent:
        c0, c1 = palette[0], palette[-1]
        out.append(
            f'<defs><linearGradient id="g"><stop offset="0" stop-color="rgb{c0}"/>'
            f'<stop offset="1" stop-color="rgb{c1}"/></linearGradient></defs>'
        )
        out.append(f'<rect width="{w}" height="{h}" fill="url(#g)"/>')
    for s in shapes:
        x0, y0, x1, y1 = s.box[0] * w, s.box[1] * h, s.box[2] * w, s.box[3] * h
        fill = f'fill="rgb{s.colour}" fill-opacity="{s.alpha / 255:.2f}"'
        if s.kind in ("ellipse", "ring"):
            cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
            out.append(f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{rx:.1f}" ry="{ry:.1f}" {fill}/>')
        elif s.kind == "rectangle":
            out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" {fill}/>')
        else:
            points = f"{x0:.1f},{y1:.1f} {(x0 + x1) / 2:.1f},{y0:.1f} {x1:.1f},{y1:.1f}"
            out.append(f'<polygon points="{points}" {fill}/>')
    size = max(10, min(w, h) // 24)
    out.append(
        f'<text x="{size // 2}" y="{h - size}" font-family="sans-serif" font-size="{size}" fill="white">'
        f"{escape(picture.prompt[:200])}</text>"
    )
    out.append("</svg>")
    return "\n".join(out).encode()
