"""The gpt-image-2.5 fields end to end: the generated client sends them, the reference provider checks and answers.

complexity, frame_count / frame_duration_ms (gif), svg (JSON object; multipart ``svg[model]`` parts), the
safety_identifier echo and svg_usage in answers and completed events, and the gif/svg combination rules.
"""

from __future__ import annotations

import httpx
import pytest
from starlette.testclient import TestClient
from support.server import KEY, picture

from imagewire.server import make_app
from imagewire_client import Client, ValidationError
from imagewire_client.media import sniff

MODEL = "gpt-image-2.5-sunburst"
AUTH = {"Authorization": f"Bearer {KEY}"}  # the request log is behind the key


@pytest.fixture
def http() -> TestClient:
    return TestClient(make_app("local", api_key=KEY))


def client(http: httpx.Client, *, validate: bool = True) -> Client:
    return Client(provider="local", base_url="http://testserver/v1", api_key=KEY, http_client=http, validate=validate)


def test_gif_with_frames_and_complexity(http: TestClient) -> None:
    c = client(http)
    result = c.images.generate(
        model=MODEL, prompt="a cat", output_format="gif", frame_count=4, frame_duration_ms=100, complexity="low"
    )
    assert sniff(result.data[0].content()).format == "gif"  # type: ignore[union-attr]
    sent = http.get("/_imagewire/requests", headers=AUTH).json()["requests"][-1]
    assert sent["status"] == 200


def test_svg_answer_carries_svg_usage_and_the_safety_identifier(http: TestClient) -> None:
    c = client(http)
    result = c.images.generate(
        model=MODEL,
        prompt="a logo",
        output_format="svg",
        svg={"model": "author-1", "reasoning": {"effort": "low"}},
        safety_identifier="user-hash",
    )
    assert result.safety_identifier == "user-hash"
    assert result.svg_usage is not None and result.svg_usage.model == "author-1"
    assert (result.svg_usage.total_tokens or 0) >= (result.svg_usage.output_tokens or 0)


def test_multipart_edit_sends_svg_as_bracketed_parts(http: TestClient) -> None:
    c = client(http)
    result = c.images.edit(
        model=MODEL,
        prompt="vectorise",
        image=picture(),
        output_format="svg",
        svg={"model": "author-2", "reasoning": {"effort": "high"}},
    )
    assert result.svg_usage is not None and result.svg_usage.model == "author-2"


def test_completed_events_carry_the_safety_identifier(http: TestClient) -> None:
    c = client(http)
    events = list(c.images.generate(model=MODEL, prompt="x", stream=True, user="u-1"))
    assert events[-1].type == "image_generation.completed"
    assert events[-1].safety_identifier == "u-1"  # type: ignore[union-attr]  # user stands in for a missing safety_identifier


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"frame_count": 4}, "frame-count-needs-gif"),
        ({"output_format": "gif", "stream": True}, "gif-cannot-stream"),
        ({"output_format": "svg", "n": 2}, "svg-one-image"),
        ({"svg": {"model": "m"}, "output_format": "png"}, "svg-options-need-svg"),
        ({"frame_count": 17, "output_format": "gif"}, "range"),
    ],
)
def test_combination_rules_are_checked_before_sending_and_by_the_server(
    http: TestClient, fields: dict[str, object], rule: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        client(http).images.generate(model=MODEL, prompt="p", **fields)  # type: ignore[call-overload]
    assert caught.value.rule.removeprefix("rule:") == rule
    assert http.get("/_imagewire/requests", headers=AUTH).json()["requests"] == []
    answer = http.post(
        "/v1/images/generations",
        json={"model": MODEL, "prompt": "p", **fields},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert answer.status_code == 400, answer.text


def test_an_image_reference_has_exactly_one_source(http: TestClient) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    for images in ([{"image_url": "https://x/a.png", "file_id": "file-1"}], [{"file_id": "f", "x": 1}], []):
        answer = http.post("/v1/images/edits", json={"model": MODEL, "prompt": "p", "images": images}, headers=headers)
        assert answer.status_code == 400, images
        assert answer.json()["error"]["param"] == "images"
    missing = http.post("/v1/images/edits", json={"model": MODEL, "prompt": "p"}, headers=headers)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "missing_required_parameter"
