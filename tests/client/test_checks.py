"""imagewire_client._checks against the real catalog: one test family per rule, exact messages where users
read them, and property-based tests for the free-size rule (gpt-image-2)."""

from __future__ import annotations

import enum
import struct
import zlib
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagewire_client._multipart import Upload, read_file
from imagewire_client.catalog import (
    MODELS,
    CheckError,
    Files,
    Lifecycle,
    Mask,
    Model,
    OperationRules,
    Param,
    SizeRule,
    allowed_values,
    check,
    size_problem,
)

# ---------------------------------------------------------------------------- helpers


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 8, height: int = 8, *, pad: int = 0) -> bytes:
    raw = b"".join(b"\x00" + b"\x00\x00\x00\x00" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    body = _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body + bytes(pad)


def jpeg(width: int = 8, height: int = 8) -> bytes:
    frame = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", len(frame) + 2) + frame + b"\xff\xd9"


def gif(width: int = 8, height: int = 8) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00\x2c" + bytes(9) + b"\x3b"


def upload(data: bytes, name: str = "image") -> Upload:
    return read_file(data, field=name)


def error(operation: str, fields: Mapping[str, object], **kwargs: Any) -> CheckError:
    with pytest.raises(CheckError) as caught:
        check(operation, fields, **kwargs)
    return caught.value


def gen(model: str, **fields: object) -> dict[str, object]:
    return {"model": model, "prompt": "a red fox", **fields}


GPT_EDIT = {"encoding": "multipart"}

# ---------------------------------------------------------------------------- model


def test_model_missing() -> None:
    err = error("generations", {"prompt": "x"})
    assert (err.rule, err.field) == ("model", "model")
    assert "disputed or retired" in err.message and "validate=False" in err.message
    assert err.allowed is not None and "gpt-image-1.5" in err.allowed
    assert "dall-e-2" not in err.allowed and "gpt-image-1" not in err.allowed  # retired, shut down
    assert error("generations", {"prompt": "x", "model": None}).rule == "model"  # None is "not set"


def test_unknown_model() -> None:
    err = error("edits", gen("gpt-image-9"), encoding="multipart")
    assert (err.rule, err.field) == ("model", "model")
    assert err.message.startswith(
        "unknown model 'gpt-image-9' for edits; did you mean gpt-image-2? Known models that offer it: dall-e-2, "
    )
    assert err.message.endswith("for a model the spec does not know yet, pass validate=False to send it anyway")
    assert err.allowed is not None and "dall-e-3" not in err.allowed and "gpt-image-2" in err.allowed
    assert "yandexgpt/yandex-art" not in err.allowed  # generations only


def test_model_that_is_not_a_string() -> None:
    assert error("generations", gen(42)).rule == "model"  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- lifecycle


def test_retired_with_replacements() -> None:
    err = error("generations", gen("gpt-image-1"))
    assert err.message == (
        "gpt-image-1 was shut down on 2026-10-23; use gpt-image-2.5-sunburst or gpt-image-2.5-flare instead, "
        "or pass validate=False if your provider still serves it"
    )
    assert (err.rule, err.field, err.model) == ("lifecycle", "model", "gpt-image-1")
    assert err.allowed == ("gpt-image-2.5-sunburst", "gpt-image-2.5-flare")
    assert str(err) == err.message


def test_retired_without_replacement_and_shut_down() -> None:
    assert error("generations", gen("dall-e-2")).message == (
        "dall-e-2 was retired on 2026-05-12; name a live model, or pass validate=False if your provider still serves it"
    )
    err = error("generations", gen("gpt-image-1"))
    assert err.message.startswith("gpt-image-1 was shut down on 2026-10-23; ")
    assert err.rule == "lifecycle"


def test_allow_retired_checks_as_usual() -> None:
    check("generations", gen("dall-e-3", size="1792x1024", quality="hd"), allow_retired=True)
    check("generations", gen("gpt-image-1", size="1024x1536"), allow_retired=True)


def _custom(status: str, *, operations: Mapping[str, OperationRules] | None = None) -> dict[str, Model]:
    rules = OperationRules(params={"n": Param(min=1, max=2)}, defaults={})
    return {
        "m": Model(
            id="m",
            title="M",
            vendor="openai",
            lifecycle=Lifecycle(status=status, retired_on="2030-01-01"),
            operations=operations or {"generations": rules},
        )
    }


@pytest.mark.parametrize("status", ["live", "preview", "deprecated"])
def test_deprecated_and_preview_pass(status: str) -> None:
    check("generations", {"model": "m", "prompt": "p"}, models=_custom(status))


def test_retired_operation() -> None:
    models = _custom("live", operations={"variations": OperationRules(params={}, defaults={}, images=Files())})
    err = error("variations", {"model": "m"}, models=models, images=[upload(png())], encoding="multipart")
    assert (
        err.message
        == "the variations operation was retired on 2026-05-12; pass validate=False if your provider still serves it"
    )
    assert err.rule == "lifecycle"
    check("variations", {"model": "m"}, models=models, images=[upload(png())], encoding="multipart", allow_retired=True)


# ---------------------------------------------------------------------------- operation


def test_operation_not_offered() -> None:
    err = error("edits", gen("dall-e-3"), allow_retired=True, encoding="multipart")
    assert err.message.startswith("dall-e-3 does not offer edits; models that do: dall-e-2, gpt-image-1.5, ")
    assert (err.rule, err.field) == ("operation", "model")
    err = error("variations", {"model": "gpt-image-1.5"}, encoding="multipart")
    assert err.message == "gpt-image-1.5 does not offer variations; models that do: dall-e-2"
    assert err.allowed == ("dall-e-2",)
    assert error("edits", gen("yandexgpt/yandex-art"), encoding="multipart").rule == "operation"


def test_unknown_operation() -> None:
    err = error("upscale", gen("gpt-image-1.5"))
    assert err.message == "unknown operation 'upscale'; choose generations, edits or variations"
    assert err.rule == "operation"


# ---------------------------------------------------------------------------- encoding


def test_body_encoding() -> None:
    err = error("edits", gen("dall-e-2"), encoding="json", allow_retired=True)
    assert err.message == "dall-e-2 accepts edits only as multipart/form-data, not as JSON"
    assert (err.rule, err.allowed) == ("encoding", ("multipart",))
    err = error("generations", gen("gpt-image-1.5"), encoding="multipart")
    assert err.message == "gpt-image-1.5 accepts generations only as JSON, not as multipart/form-data"
    assert error("generations", gen("gpt-image-1.5"), encoding="xml").rule == "encoding"


def test_param_encoding_moderation_on_multipart_edits() -> None:
    images = [upload(png())]
    err = error("edits", gen("gpt-image-1.5", moderation="low"), images=images, encoding="multipart")
    assert err.message == (
        "moderation cannot be sent in a multipart/form-data body to gpt-image-1.5 for edits; "
        "use the JSON form of the request, or leave moderation out"
    )
    assert (err.rule, err.field, err.allowed) == ("encoding", "moderation", ("json",))
    check("edits", gen("gpt-image-1.5", moderation="low", images=[{"file_id": "f"}]), encoding="json")
    check("generations", gen("gpt-image-1.5", moderation="low"))


def test_markup_only_on_multipart() -> None:
    fields = gen("gpt-image-2.5-sunburst", markup=upload(png()), images=[{"file_id": "f"}])
    err = error("edits", fields, encoding="json")
    assert (err.rule, err.field) == ("encoding", "markup")


# ---------------------------------------------------------------------------- fields not accepted


def test_field_not_accepted() -> None:
    err = error("generations", gen("gpt-image-1.5", style="vivid"))
    assert err.message == "style is not accepted by gpt-image-1.5 for generations"
    assert (err.rule, err.field, err.model) == ("param", "style", "gpt-image-1.5")
    assert err.allowed is not None and "quality" in err.allowed
    assert error("generations", gen("gpt-image-2", response_format="url")).message == (
        "response_format is not accepted by gpt-image-2 for generations"
    )
    assert error("edits", gen("gpt-image-2", input_fidelity="low"), images=[upload(png())], **GPT_EDIT).field == (
        "input_fidelity"
    )
    assert error("generations", gen("yandexgpt/yandex-art", quality="standard")).field == "quality"
    assert error("edits", gen("gpt-image-1.5", markup=b"x"), images=[upload(png())], **GPT_EDIT).field == "markup"


def test_structural_fields_only_where_the_operation_has_them() -> None:
    check("edits", gen("gpt-image-1.5", image="ignored-here", mask=None), images=[upload(png())], **GPT_EDIT)
    err = error(
        "variations",
        {"model": "dall-e-2", "prompt": "p"},
        images=[upload(png())],
        encoding="multipart",
        allow_retired=True,
    )
    assert err.message == "prompt is not accepted by dall-e-2 for variations"
    assert error("generations", gen("gpt-image-1.5", mask={"file_id": "x"})).field == "mask"


# ---------------------------------------------------------------------------- values


def test_values_exact_message() -> None:
    err = error("generations", gen("dall-e-3", size="256x256"), allow_retired=True)
    assert err.message == "size '256x256' is not available for dall-e-3; choose 1024x1024, 1792x1024 or 1024x1792"
    assert (err.rule, err.field, err.allowed, err.model) == (
        "values",
        "size",
        ("1024x1024", "1792x1024", "1024x1792"),
        "dall-e-3",
    )


@pytest.mark.parametrize(
    ("model", "operation", "fields", "message"),
    [
        (
            "gpt-image-1.5",
            "generations",
            {"quality": "hd"},
            "quality 'hd' is not available for gpt-image-1.5; choose low, medium, high or auto",
        ),
        (
            "dall-e-3",
            "generations",
            {"style": "anime"},
            "style 'anime' is not available for dall-e-3; choose vivid or natural",
        ),
        ("dall-e-2", "generations", {"quality": "hd"}, "quality 'hd' is not available for dall-e-2; choose standard"),
        (
            "gpt-image-1.5",
            "generations",
            {"output_format": "gif"},
            "output_format 'gif' is not available for gpt-image-1.5; choose png, jpeg or webp",
        ),
        (
            "gpt-image-1.5",
            "generations",
            {"size": "1792x1024"},
            "size '1792x1024' is not available for gpt-image-1.5; choose 1024x1024, 1536x1024, 1024x1536 or auto",
        ),
        (
            "yandexgpt/yandex-art",
            "generations",
            {"size": "512x512"},
            "size '512x512' is not available for yandexgpt/yandex-art; choose 1024x1024",
        ),
        (
            "gpt-image-1.5",
            "generations",
            {"stream": "yes"},
            "stream 'yes' is not available for gpt-image-1.5; choose true or false",
        ),
        (
            "gpt-image-1.5",
            "generations",
            {"stream": 1},
            "stream '1' is not available for gpt-image-1.5; choose true or false",
        ),
    ],
)
def test_values(model: str, operation: str, fields: dict[str, object], message: str) -> None:
    err = error(operation, gen(model, **fields), allow_retired=True)
    assert err.message == message
    assert err.rule == "values"


def test_values_per_model_differ() -> None:
    images = [upload(png())]
    err = error("edits", gen("gpt-image-1-mini", input_fidelity="high"), images=images, **GPT_EDIT)
    assert err.message == "input_fidelity 'high' is not available for gpt-image-1-mini; choose low"
    check("edits", gen("gpt-image-1.5", input_fidelity="high"), images=images, **GPT_EDIT)
    check("generations", gen("gpt-image-2.5-sunburst", quality="xhigh", output_format="svg"))
    assert error("generations", gen("gpt-image-2", quality="xhigh")).rule == "values"


class Quality(str, enum.Enum):  # noqa: UP042 - the shape openapi-python-client generates
    HIGH = "high"
    HD = "hd"


def test_enum_members_are_their_values() -> None:
    check("generations", gen("gpt-image-1.5", quality=Quality.HIGH))
    assert error("generations", gen("gpt-image-1.5", quality=Quality.HD)).message.startswith("quality 'hd' is not")


def test_booleans() -> None:
    check("generations", gen("gpt-image-1.5", stream=True, partial_images=2))
    check("generations", gen("gpt-image-1.5", stream=False))
    assert error("generations", gen("dall-e-3", stream=True), allow_retired=True).rule == "param"


# ---------------------------------------------------------------------------- ranges


def test_n_out_of_range() -> None:
    err = error("generations", gen("dall-e-3", n=3), allow_retired=True)
    assert err.message == "n 3 is out of range for dall-e-3; only 1 is allowed"
    assert (err.rule, err.field, err.allowed) == ("n", "n", ("1",))
    err = error("generations", gen("gpt-image-1.5", n=11))
    assert err.message == "n 11 is out of range for gpt-image-1.5; choose 1 to 10"
    assert error("generations", gen("gpt-image-1.5", n=0)).rule == "n"
    check("generations", gen("gpt-image-1.5", n=10))


def test_other_ranges() -> None:
    err = error("generations", gen("gpt-image-1.5", partial_images=4, stream=True))
    assert err.message == "partial_images 4 is out of range for gpt-image-1.5; choose 0 to 3"
    assert err.rule == "range"
    err = error("generations", gen("gpt-image-1.5", output_compression=101, output_format="jpeg"))
    assert (err.rule, err.allowed) == ("range", None)  # 0..100: too many to list


@pytest.mark.parametrize("bad", ["2", 2.0, True, [2]])
def test_range_needs_a_whole_number(bad: object) -> None:
    err = error("generations", gen("gpt-image-1.5", n=bad))
    assert err.rule == "n"
    assert err.message.startswith("n must be a whole number, not ")


# ---------------------------------------------------------------------------- size rule (gpt-image-2)


@pytest.mark.parametrize(
    "size", ["auto", "1024x1024", "3840x2160", "2160x3840", "1536x512", "512x1536", "16x16", "3840x1280"]
)
def test_free_sizes_accepted(size: str) -> None:
    check("generations", gen("gpt-image-2", size=size))
    check("edits", gen("gpt-image-2-2026-04-21", size=size), images=[upload(png())], **GPT_EDIT)


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ("1000x1024", "width and height must be multiples of 16; the width 1000 is not"),
        ("1024x1000", "width and height must be multiples of 16; the height 1000 is not"),
        ("4096x1024", "each side must be at most 3840 pixels; the width is 4096"),
        ("3840x2400", "it may have at most 8,294,400 pixels; 3840x2400 has 9,216,000"),
        ("3840x1024", "the aspect ratio must be between 1:3 and 3:1; 3840x1024 is 15:4"),
        ("512x1584", "the aspect ratio must be between 1:3 and 3:1; 512x1584 is 32:99"),
    ],
)
def test_free_sizes_refused(size: str, reason: str) -> None:
    err = error("generations", gen("gpt-image-2", size=size))
    assert err.message == f"size '{size}' is not available for gpt-image-2: {reason}"
    assert (err.rule, err.field, err.allowed) == ("size", "size", ("auto",))


@pytest.mark.parametrize(
    "size",
    ["big", "1024", "1024X1024", "0x1024", "01024x1024", "-16x16", "16x16x16", "\uff11\uff16x16", "", "1234567890x16"],
)
def test_sizes_that_are_not_wxh(size: str) -> None:
    err = error("generations", gen("gpt-image-2", size=size))
    assert (
        err.message
        == f"size {size!r} is not available for gpt-image-2; choose auto or a size WxH in pixels (e.g. 1024x1024)"
    )
    assert err.rule == "size"


def test_size_rule_with_every_constraint() -> None:
    rule = SizeRule(
        multiple_of=8,
        min_side=64,
        max_side=2048,
        min_pixels=64 * 128,
        max_pixels=1 << 20,
        aspect_min="1:2",
        aspect_max="2:1",
    )
    assert size_problem(64, 64, rule) == "it must have at least 8,192 pixels; 64x64 has 4,096"
    assert size_problem(32, 512, rule) == "each side must be at least 64 pixels; the width is 32"
    assert size_problem(2048, 1024, rule) == "it may have at most 1,048,576 pixels; 2048x1024 has 2,097,152"
    assert size_problem(1024, 256, rule) == "the aspect ratio must be between 1:2 and 2:1; 1024x256 is 4:1"
    assert size_problem(128, 64, rule) is None
    assert size_problem(0, 64, rule) == "width and height must be positive"
    assert size_problem(100, 50, SizeRule(aspect_min="1:1")) == None  # noqa: E711
    assert size_problem(50, 100, SizeRule(aspect_min="1:1")) == "the aspect ratio must be at least 1:1; 50x100 is 1:2"


def _ratio(text: str) -> Fraction:
    w, h = text.split(":")
    return Fraction(int(w), int(h))


GPT2_RULE = MODELS["gpt-image-2"].operations["generations"].params["size"].rule


def _satisfies(width: int, height: int, rule: SizeRule) -> bool:
    return (
        width >= 1
        and height >= 1
        and (rule.multiple_of is None or (width % rule.multiple_of == 0 and height % rule.multiple_of == 0))
        and (rule.min_side is None or min(width, height) >= rule.min_side)
        and (rule.max_side is None or max(width, height) <= rule.max_side)
        and (rule.min_pixels is None or width * height >= rule.min_pixels)
        and (rule.max_pixels is None or width * height <= rule.max_pixels)
        and (rule.aspect_min is None or Fraction(width, height) >= _ratio(rule.aspect_min))
        and (rule.aspect_max is None or Fraction(width, height) <= _ratio(rule.aspect_max))
    )


def test_gpt_image_2_rule_is_the_documented_one() -> None:
    documented = SizeRule(
        multiple_of=16,
        max_side=3840,
        max_pixels=8294400,
        aspect_min="1:3",
        aspect_max="3:1",
        experimental_above_pixels=3686400,
    )
    assert documented == GPT2_RULE


def _accepted(size: str, model: str = "gpt-image-2") -> bool:
    try:
        check("generations", gen(model, size=size))
    except CheckError as err:
        assert err.rule == "size"
        return False
    return True


@settings(max_examples=400)
@given(st.integers(1, 5000), st.integers(1, 5000))
def test_property_accepted_iff_every_constraint_holds(width: int, height: int) -> None:
    assert GPT2_RULE is not None
    assert _accepted(f"{width}x{height}") == _satisfies(width, height, GPT2_RULE)


@settings(max_examples=300)
@given(st.integers(1, 240).map(lambda k: 16 * k), st.integers(1, 240).map(lambda k: 16 * k))
def test_property_multiples_of_16(width: int, height: int) -> None:
    # the interesting region: every size here passes the multiple rule, so the others decide
    assert GPT2_RULE is not None
    accepted = _accepted(f"{width}x{height}")
    assert accepted == _satisfies(width, height, GPT2_RULE)
    if accepted:
        assert width % 16 == 0 and height % 16 == 0
        assert max(width, height) <= 3840 and width * height <= 3840 * 2160
        assert Fraction(1, 3) <= Fraction(width, height) <= 3


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=20),
        st.from_regex(r"\A[0-9]{0,12}x[0-9]{0,12}\Z"),
        st.integers(),
        st.none(),
        st.binary(max_size=8),
    )
)
def test_property_garbage_sizes_never_crash(size: object) -> None:
    try:
        check("generations", gen("gpt-image-2", size=size))
    except CheckError as err:
        assert err.rule == "size" and err.field == "size"
        assert err.message.startswith("size ")


@st.composite
def size_rules(draw: st.DrawFn) -> SizeRule:
    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        return draw(st.one_of(st.none(), strategy))

    low = draw(st.integers(1, 4))
    high = draw(st.integers(1, 4))
    aspect = maybe(st.just((f"1:{low}", f"{high}:1")))
    return SizeRule(
        multiple_of=maybe(st.integers(1, 64)),
        min_side=maybe(st.integers(1, 512)),
        max_side=maybe(st.integers(256, 4096)),
        min_pixels=maybe(st.integers(1, 1 << 18)),
        max_pixels=maybe(st.integers(1 << 16, 1 << 24)),
        aspect_min=aspect[0] if aspect else None,
        aspect_max=aspect[1] if aspect else None,
    )


@settings(max_examples=300)
@given(size_rules(), st.integers(1, 5000), st.integers(1, 5000))
def test_property_any_rule(rule: SizeRule, width: int, height: int) -> None:
    models = {
        "free": Model(
            "free",
            "Free",
            "openai",
            Lifecycle("live"),
            {"generations": OperationRules(params={"size": Param(values=("auto",), rule=rule)}, defaults={})},
        )
    }
    try:
        check("generations", {"model": "free", "size": f"{width}x{height}"}, models=models)
        accepted = True
    except CheckError as err:
        assert err.rule == "size"
        accepted = False
    assert accepted == _satisfies(width, height, rule)
    assert accepted == (size_problem(width, height, rule) is None)


# ---------------------------------------------------------------------------- combination rules


def test_transparent_needs_alpha_format() -> None:
    err = error("generations", gen("gpt-image-1.5", background="transparent", output_format="jpeg"))
    assert err.message == "a transparent background needs output_format png or webp (output_format is 'jpeg')"
    assert (err.rule, err.field, err.allowed) == (
        "rule:transparent-needs-alpha-format",
        "output_format",
        ("png", "webp"),
    )
    check("generations", gen("gpt-image-1.5", background="transparent"))  # default png
    check("generations", gen("gpt-image-1.5", background="transparent", output_format="webp"))
    check("generations", gen("gpt-image-1.5", background="opaque", output_format="jpeg"))
    err = error("generations", gen("gpt-image-2.5-flare", background="transparent", output_format="svg"))
    assert err.rule == "rule:transparent-needs-alpha-format"


def test_compression_needs_lossy_format_uses_the_default() -> None:
    err = error("generations", gen("gpt-image-1.5", output_compression=80))
    assert err.message == (
        "output_compression applies to output_format jpeg or webp only "
        "(output_format is not set and gpt-image-1.5 defaults to png)"
    )
    assert err.rule == "rule:compression-needs-lossy-format"
    check("generations", gen("gpt-image-1.5", output_compression=80, output_format="webp"))
    check("edits", gen("gpt-image-2", output_compression=0, output_format="jpeg"), images=[upload(png())], **GPT_EDIT)


def test_rule_with_unknown_default_is_left_to_the_server() -> None:
    rules = MODELS["gpt-image-1.5"].operations["generations"]
    models = {"m": MODELS["gpt-image-1.5"]._replace(id="m", operations={"generations": rules._replace(defaults={})})}
    check("generations", {"model": "m", "output_compression": 50}, models=models)


def test_markup_excludes_mask() -> None:
    image, mask = upload(png(16, 16)), upload(png(16, 16), "mask")
    fields = gen("gpt-image-2.5-sunburst", markup=upload(png(16, 16), "markup"))
    err = error("edits", fields, images=[image], mask=mask, **GPT_EDIT)
    assert err.message == "markup cannot be sent together with mask"
    assert (err.rule, err.field) == ("rule:markup-excludes-mask", "mask")
    check("edits", fields, images=[image], **GPT_EDIT)
    check("edits", gen("gpt-image-2.5-sunburst"), images=[image], mask=mask, **GPT_EDIT)


# ---------------------------------------------------------------------------- prompt


def test_prompt_length() -> None:
    err = error("generations", {"model": "dall-e-3", "prompt": "x" * 4001}, allow_retired=True)
    assert err.message == "prompt is 4,001 characters long; dall-e-3 takes at most 4,000"
    assert (err.rule, err.field) == ("prompt", "prompt")
    check("generations", {"model": "dall-e-3", "prompt": "x" * 4000}, allow_retired=True)
    assert error("generations", {"model": "gpt-image-1.5", "prompt": "é" * 32001}).rule == "prompt"
    check("generations", {"model": "yandexgpt/yandex-art", "prompt": "x" * 100_000})  # limit unknown


# ---------------------------------------------------------------------------- images


def dalle2_edit(**kwargs: Any) -> CheckError:
    return error("edits", gen("dall-e-2"), encoding="multipart", allow_retired=True, **kwargs)


def test_dalle2_edit_ok() -> None:
    check(
        "edits",
        gen("dall-e-2", size="512x512"),
        images=[upload(png(64, 64))],
        mask=upload(png(64, 64), "mask"),
        encoding="multipart",
        allow_retired=True,
    )


def test_image_count() -> None:
    err = dalle2_edit(images=[upload(png()), upload(png())])
    assert err.message == "dall-e-2 takes exactly 1 image for edits; got 2"
    assert (err.rule, err.field) == ("images", "image")
    assert dalle2_edit().message == "dall-e-2 takes exactly 1 image for edits; got none"
    err = error("edits", gen("gpt-image-1.5"), images=[upload(png())] * 17, **GPT_EDIT)
    assert err.message == "gpt-image-1.5 takes 1 to 16 images for edits; got 17"
    check("edits", gen("gpt-image-1.5"), images=[upload(png())] * 16, **GPT_EDIT)


def test_image_references_are_counted() -> None:
    refs = [{"file_id": f"f{i}"} for i in range(17)]
    err = error("edits", gen("gpt-image-1.5", images=refs))
    assert (err.rule, err.field, err.message) == (
        "images",
        "images",
        "gpt-image-1.5 takes 1 to 16 images for edits; got 17",
    )
    check("edits", gen("gpt-image-1.5", images=refs[:3], mask={"image_url": "https://x/m.png"}))


def test_image_format() -> None:
    err = dalle2_edit(images=[upload(jpeg())])
    assert err.message == "image 'image.jpg' is a JPEG; dall-e-2 takes PNG only for edits"
    assert err.allowed == ("png",)
    err = error("edits", gen("gpt-image-1.5"), images=[upload(png()), upload(gif())], **GPT_EDIT)
    assert err.message == "image 2 of 2 ('image.gif') is a GIF; gpt-image-1.5 takes PNG, WebP or JPEG for edits"
    odd = Upload("x.avif", b"....ftypavif", "image/avif", None)
    assert "is not a recognised image" in error("edits", gen("gpt-image-1.5"), images=[odd], **GPT_EDIT).message


def test_image_bytes() -> None:
    big = upload(png(pad=4 * 1024 * 1024))
    err = dalle2_edit(images=[big])
    assert (
        err.message
        == f"image 'image.png' is {len(big.data):,} bytes; dall-e-2 takes at most 4,194,304 bytes (4 MiB) per image"
    )
    exact = Upload("e.png", png(8, 8) + bytes(4194304 - len(png(8, 8))), "image/png", upload(png(8, 8)).info)
    check("edits", gen("dall-e-2"), images=[exact], encoding="multipart", allow_retired=True)  # inclusive limit


def test_image_square() -> None:
    err = dalle2_edit(images=[upload(png(64, 32))])
    assert err.message == "image 'image.png' is 64x32 pixels; dall-e-2 needs a square image for edits"
    err = error(
        "variations", {"model": "dall-e-2"}, images=[upload(png(10, 20))], encoding="multipart", allow_retired=True
    )
    assert err.rule == "images" and "square" in err.message
    check("edits", gen("gpt-image-1.5"), images=[upload(png(64, 32))], **GPT_EDIT)
    unknown = Upload("u.png", b"\x89PNG\r\n\x1a\n", "image/png", upload(png()).info._replace(width=None, height=None))
    check("edits", gen("dall-e-2"), images=[unknown], encoding="multipart", allow_retired=True)  # cannot tell: pass


def test_generations_take_no_images() -> None:
    err = error("generations", gen("gpt-image-1.5"), images=[upload(png())])
    assert (err.rule, err.message) == ("images", "gpt-image-1.5 takes no input images for generations")


# ---------------------------------------------------------------------------- mask


def test_mask_format_size_and_dimensions() -> None:
    image = [upload(png(32, 32))]
    err = dalle2_edit(images=image, mask=upload(jpeg(32, 32), "mask"))
    assert err.message == "mask 'mask.jpg' is a JPEG; dall-e-2 takes PNG only as a mask"
    assert (err.rule, err.field) == ("mask", "mask")
    err = dalle2_edit(images=image, mask=upload(png(16, 16), "mask"))
    assert err.message == "mask 'mask.png' is 16x16 pixels but the first image is 32x32; they must be the same size"
    big = upload(png(32, 32, pad=4 * 1024 * 1024), "mask")
    assert "takes at most 4,194,304 bytes (4 MiB) as a mask" in dalle2_edit(images=image, mask=big).message
    err = error(
        "edits",
        gen("gpt-image-1.5"),
        images=[upload(png(32, 32)), upload(png(8, 8))],
        mask=upload(png(8, 8), "mask"),
        **GPT_EDIT,
    )
    assert err.rule == "mask"  # compared with the FIRST image


def test_model_without_mask() -> None:
    models = _custom("live", operations={"edits": OperationRules(params={}, defaults={}, images=Files(), mask=None)})
    err = error(
        "edits", {"model": "m"}, models=models, images=[upload(png())], mask=upload(png(), "mask"), encoding="multipart"
    )
    assert err.message == "m takes no mask for edits"
    models = _custom(
        "live",
        operations={"edits": OperationRules(params={}, defaults={}, images=Files(), mask=Mask(formats=("png",)))},
    )
    check(
        "edits", {"model": "m"}, models=models, images=[upload(png())], mask=upload(png(), "mask"), encoding="multipart"
    )


# ---------------------------------------------------------------------------- order and determinism


def test_order_of_checks() -> None:
    # lifecycle before values
    assert error("generations", gen("dall-e-3", size="1x1")).rule == "lifecycle"
    # fields alphabetically: quality before style
    err = error("generations", gen("gpt-image-1.5", style="vivid", quality="hd"))
    assert err.field == "quality"
    # fields before rules, rules before prompt, prompt before images
    assert error("generations", gen("gpt-image-1.5", n=99, background="transparent", output_format="jpeg")).field == "n"
    fields = {"model": "gpt-image-1.5", "prompt": "x" * 40000, "background": "transparent", "output_format": "jpeg"}
    assert error("generations", fields).rule.startswith("rule:")
    assert error("edits", {"model": "gpt-image-1.5", "prompt": "x" * 40000}, **GPT_EDIT).rule == "prompt"
    # images before mask
    assert dalle2_edit(images=[upload(jpeg())], mask=upload(jpeg(), "mask")).rule == "images"


def test_insertion_order_does_not_matter() -> None:
    fields = {"style": "vivid", "quality": "hd", "n": 50, "model": "gpt-image-1.5", "prompt": "p"}
    first = error("generations", fields)
    second = error("generations", dict(reversed(list(fields.items()))))
    assert (first.message, first.rule, first.field) == (second.message, second.rule, second.field)


def test_none_values_are_not_set() -> None:
    check("generations", gen("gpt-image-1.5", style=None, response_format=None, size=None))


# ---------------------------------------------------------------------------- the whole catalog


def test_every_listed_value_and_default_passes() -> None:
    image = upload(png(16, 16))
    for model_id, model in MODELS.items():
        for operation, rules in model.operations.items():
            encoding = (
                "multipart" if "multipart" in (rules.encodings or ("json",)) or operation == "variations" else "json"
            )
            images = [image] if rules.images else []
            base: dict[str, object] = {"model": model_id}
            if operation != "variations":
                base["prompt"] = "p"
            for name, param in rules.params.items():
                if param.encodings and encoding not in param.encodings:
                    continue
                candidates: list[object] = list(param.values or ())
                candidates += [v for v in (param.min, param.max) if v is not None]
                if name in rules.defaults:
                    candidates.append(rules.defaults[name])
                for value in candidates:
                    fields = {**base, name: value}
                    for rule in rules.rules:  # satisfy what the value brings with it (compression -> jpeg)
                        triggered = rule.if_field in fields and (
                            rule.if_in is None or fields[rule.if_field] in rule.if_in
                        )
                        if triggered and rule.then_in and rule.then_field != name:
                            fields.setdefault(rule.then_field, rule.then_in[0])
                    check(operation, fields, images=images, encoding=encoding, allow_retired=True)


def test_allowed_values() -> None:
    assert allowed_values("dall-e-3", "generations", "size") == ("1024x1024", "1792x1024", "1024x1792")
    assert allowed_values("gpt-image-1.5", "generations", "stream") == ("true", "false")
    assert allowed_values("gpt-image-2", "edits", "size") == ("auto",)
    assert allowed_values("gpt-image-1.5", "generations", "n") is None  # a range
    assert allowed_values("gpt-image-1.5", "generations", "user") is None  # free text
    assert allowed_values("gpt-image-1.5", "generations", "style") is None  # not accepted
    assert allowed_values("dall-e-3", "edits", "size") is None
    assert allowed_values("nope", "generations", "size") is None


def test_check_error_is_a_value_error() -> None:
    err = error("generations", {"prompt": "x"})
    assert isinstance(err, ValueError)
    assert "CheckError(" in repr(err)
