"""The reference provider's request checks: read from imagewire.check.validate's compiled spec (one validator for
the project, openapi-core underneath) and worded as OpenAI words them, first problem in the order sent."""

from __future__ import annotations

from typing import Any

import pytest

from imagewire.check.validate import validator
from imagewire.server.contract import load
from imagewire.server.errors import ApiError


def test_the_contract_is_the_kits_compiled_spec() -> None:
    contract, spec = load(), validator()
    assert load() is contract
    assert contract.paths == {key: op.path for key, op in spec.operations.items()}
    for key, bodies in contract.bodies.items():
        op = spec.operations[key]
        assert set(bodies) == set(op.fields)
        for media, body in bodies.items():
            assert body.required == op.required[media]
            assert {n: (f.types, f.enum, f.binary, f.array_part) for n, f in body.fields.items()} == {
                n: (f.types, f.enum, f.binary, f.array_part) for n, f in op.fields[media].items()
            }
    assert contract.bodies["edits"]["multipart/form-data"].files == ("image", "mask", "markup")


def _answer(operation: str, media: str, values: dict[str, Any]) -> tuple[str | None, str | None, str]:
    with pytest.raises(ApiError) as caught:
        load().bodies[operation][media].validate(values)
    return caught.value.param, caught.value.code, str(caught.value)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"prompt": "p", "images": [{"file_id": "f"}], "bogus": 1},
            ("bogus", "unknown_parameter", "Unknown parameter: 'bogus'."),
        ),
        ({"n": 1}, ("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.")),
        (
            {"prompt": "p", "images": [{"image_url": 5}], "n": "two"},
            ("images", "invalid_value", "Invalid 'images[0].image_url': 5 is not of type 'string'"),
        ),
        (
            {"prompt": "p", "n": "two", "images": [{"image_url": 5}]},
            ("n", "invalid_type", "Invalid type for 'n': expected an integer, but got a string instead."),
        ),
        ({"prompt": "p", "n": 2}, ("images", "missing_required_parameter", "Missing required parameter: 'images'.")),
        (
            {"prompt": "p", "images": [{"file_id": "f"}], "n": 11},
            ("n", "invalid_value", "Invalid 'n': 11 is greater than the maximum of 10"),
        ),
    ],
)
def test_the_first_problem_in_the_order_sent(values: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert _answer("edits", "application/json", values) == expected


def test_file_parts_are_left_to_the_server() -> None:
    body = load().bodies["edits"]["multipart/form-data"]
    body.validate({"prompt": "p", "image": True, "mask": True, "n": 2})  # files stand in as True
    assert _answer("edits", "multipart/form-data", {"prompt": "p", "image": True, "size": "huge"})[:2] == (
        "size",
        "invalid_value",
    )
