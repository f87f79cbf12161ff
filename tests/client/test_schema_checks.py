"""The spec's own schema constraints (enum, minimum/maximum, minLength/maxLength, pattern, minItems/maxItems),
checked before sending whatever the model catalog says: through ``check_schema`` on small tables, and through
the client on an open provider, whose models the catalog does not check."""

from __future__ import annotations

import tracemalloc
from typing import Any

import httpx
import pytest
from support.client import Server, images_body, json_response

from imagewire_client._checks import CheckError, check_schema, text_bounds
from imagewire_client._facts import SCHEMA

SEED = {"generations": {"json": {"seed": ({"type": "integer", "minimum": 0, "maximum": 2**32 - 1},)}}}
SIZE = SCHEMA["generations"]["json"]["size"]


def _refused(fields: dict[str, Any], schema: Any = SCHEMA, operation: str = "generations") -> CheckError:
    with pytest.raises(CheckError) as caught:
        check_schema(operation, "json", fields, schema=schema)
    return caught.value


def test_the_generated_table_holds_the_specs_constraints() -> None:
    assert SCHEMA["generations"]["json"]["n"] == ({"type": "integer", "minimum": 1, "maximum": 10},)
    assert SCHEMA["generations"]["json"]["prompt"] == ({"type": "string", "maxLength": 32000},)
    assert {"enum", "pattern"} <= {key for alt in SIZE for key in alt}
    assert SCHEMA["edits"]["json"]["images"] == ({"type": "array", "minItems": 1, "maxItems": 16},)
    assert "model" not in SCHEMA["generations"]["json"]  # an open string states no constraint


def test_text_bounds_stand_for_the_check_only_where_length_is_all_the_schema_says() -> None:
    assert text_bounds("generations", "json", "prompt") == (0, 32000)
    assert text_bounds("edits", "json", "prompt") == (1, 32000)
    assert text_bounds("generations", "json", "size") is None  # an enum or a pattern
    assert text_bounds("generations", "json", "n") is None and text_bounds("generations", "json", "nope") is None
    low, high = text_bounds("edits", "json", "prompt") or (0, 0)
    for length in (low - 1, low, high, high + 1):
        passes = low <= length <= high
        if length >= 0:
            try:
                check_schema("edits", "json", {"prompt": "x" * length})
            except CheckError:
                assert not passes
            else:
                assert passes


def test_a_wide_range_is_compared_by_its_bounds_and_never_built() -> None:
    tracemalloc.start()
    try:
        err = _refused({"seed": -1}, SEED)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.message == "seed -1 is out of range; the spec allows 0 to 4294967295"
    assert (err.rule, err.field, err.allowed) == ("schema:minimum", "seed", None)
    assert peak < 1_000_000
    assert _refused({"seed": 2**32}, SEED).rule == "schema:maximum"
    check_schema("generations", "json", {"seed": 0}, schema=SEED)
    check_schema("generations", "json", {"seed": 2**32 - 1}, schema=SEED)


def test_each_keyword_is_named_with_what_it_allows() -> None:
    err = _refused({"quality": "ultra"})
    assert (err.rule, err.field) == ("schema:enum", "quality")
    assert err.allowed == ("standard", "hd", "low", "medium", "high", "auto", "xhigh", "max")
    assert err.message.startswith("quality 'ultra' is not one of the spec's values: standard, hd, low")
    err = _refused({"prompt": "x" * 32001})
    assert (err.rule, err.message) == (
        "schema:maxLength",
        "prompt has 32,001 characters; the spec allows at most 32,000",
    )
    err = _refused({"prompt": ""}, operation="edits")
    assert (err.rule, err.message) == ("schema:minLength", "prompt has 0 characters; the spec asks for at least 1")
    err = _refused({"images": [{"file_id": str(i)} for i in range(17)]}, operation="edits")
    assert (err.rule, err.message) == ("schema:maxItems", "images has 17 items; the spec allows at most 16")
    assert _refused({"images": []}, operation="edits").rule == "schema:minItems"
    assert _refused({"n": 0}).message == "n 0 is out of range; the spec allows 1 to 10"


def test_a_value_passes_when_one_alternative_of_its_kind_accepts_it() -> None:
    check_schema("generations", "json", {"size": "1024x1024"})  # listed
    check_schema("generations", "json", {"size": "2048x1152"})  # matches the WxH pattern
    err = _refused({"size": "big"})
    assert err.rule == "schema:enum|pattern"
    assert err.message == (
        "size 'big' is not accepted by the spec, which takes one of 256x256, 512x512, 1024x1024, 1792x1024, "
        "1024x1792, 1536x1024, 1024x1536 or auto or text matching ^[0-9]+x[0-9]+$"
    )
    assert err.allowed is not None and "auto" in err.allowed


def test_values_of_a_kind_the_schema_does_not_constrain_are_left_alone() -> None:
    check_schema("generations", "json", {"n": "two", "quality": 3, "model": "anything"})
    check_schema("generations", "json", {"quality": None, "n": None})
    check_schema("nowhere", "json", {"n": 99})


def test_a_long_value_is_shown_shortened() -> None:
    err = _refused({"quality": "q" * 10_000})
    assert len(err.message) < 300 and "…" in err.message


# ---------------------------------------------------------------- through the client


def _client(server: Server) -> Any:
    from imagewire_client import Client

    return Client(
        provider="generic",
        base_url="https://relay.example/v1",
        api_key="sk-test-schema",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(server)),
    )


def test_an_open_provider_model_is_still_held_to_the_schema_and_nothing_is_sent() -> None:
    from imagewire_client import ValidationError

    server = Server(json_response(images_body({"url": "https://files.example/a.png"})))
    client = _client(server)
    with pytest.raises(ValidationError) as caught:
        client.images.generate(model="relay-model", prompt="a fox", quality="ultra")  # type: ignore[arg-type]
    assert caught.value.rule == "schema:enum" and caught.value.field == "quality"
    with pytest.raises(ValidationError) as caught:
        client.images.generate(model="relay-model", prompt="a fox", n=11)
    assert str(caught.value).startswith("n 11 is out of range; the spec allows 1 to 10")
    assert server.count == 0
    client.images.generate(model="relay-model", prompt="a fox", quality="high", n=2)
    assert server.count == 1 and server.json()["quality"] == "high"
    client.images.generate(model="relay-model", prompt="a fox", quality="ultra", validate=False)  # type: ignore[arg-type]
    assert server.json()["quality"] == "ultra"


def test_a_call_shape_that_passed_still_has_its_prompt_held_to_the_schema() -> None:
    from imagewire_client import ValidationError

    server = Server(json_response(images_body({"url": "https://files.example/a.png"})))
    client = _client(server)
    client.images.generate(model="relay-model", prompt="a fox", n=2)
    client.images.generate(model="relay-model", prompt="x" * 32000, n=2)
    with pytest.raises(ValidationError) as caught:  # the model has no limit of its own: the spec's holds
        client.images.generate(model="relay-model", prompt="x" * 32001, n=2)
    assert caught.value.rule == "schema:maxLength" and caught.value.field == "prompt"
    with pytest.raises(ValidationError) as caught:
        client.images.generate(model="relay-model", prompt=7, n=2)  # type: ignore[arg-type]
    assert caught.value.field == "prompt"
    assert server.count == 2
