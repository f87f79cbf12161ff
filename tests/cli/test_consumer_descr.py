"""``--descr``: JSON, a .json file, or OpenIntegrations' single-quoted form; explicit options win."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import LOCAL, Wire, mock_provider, run

from imagewire.cli import descr as _cli_descr
from imagewire.cli.common import UsageProblem

#: seed 000/001: oint openai GetImages --descr "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"
SEED = "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Wire:
    return mock_provider(monkeypatch, tmp_path)


def _sent(wire: Wire) -> dict[str, object]:
    assert len(wire.api_calls) == 1
    body: dict[str, object] = json.loads(wire.api_calls[0].content)
    return body


DALLE3 = ("--model", "dall-e-3", "--allow-retired")


def test_the_openintegrations_seed_form_is_read(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", *LOCAL, *DALLE3, "--descr", SEED)
    assert ran.code == 0, ran.err
    assert _sent(wire) == {"prompt": "Yellow alpaca", "n": 1, "size": "1024x1024", "model": "dall-e-3"}


def test_json_text_is_read(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    descr = json.dumps({"prompt": "Yellow alpaca", "size": "1792x1024", "quality": "hd", "style": "natural"})
    ran = run(capsys, "generate", *LOCAL, *DALLE3, "--descr", descr)
    assert ran.code == 0, ran.err
    assert _sent(wire) == {
        "prompt": "Yellow alpaca",
        "model": "dall-e-3",
        "size": "1792x1024",
        "quality": "hd",
        "style": "natural",
    }


def test_a_json_file_is_read(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "descr.json"
    path.write_text(json.dumps({"prompt": "from a file", "n": 1, "response_format": "url"}), encoding="utf-8")
    ran = run(capsys, "generate", *LOCAL, *DALLE3, "--descr", str(path))
    assert ran.code == 0, ran.err
    assert _sent(wire)["prompt"] == "from a file"
    assert _sent(wire)["response_format"] == "url"


def test_explicit_options_override_descr_keys(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", "explicit prompt", *LOCAL, *DALLE3, "--size", "1024x1792", "--descr", SEED)
    assert ran.code == 0, ran.err
    sent = _sent(wire)
    assert sent["prompt"] == "explicit prompt"
    assert sent["size"] == "1024x1792"
    assert sent["n"] == 1


def test_a_model_in_descr_is_used(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", *LOCAL, "--descr", "{'prompt':'x','model':'gpt-image-1.5','quality':'low'}")
    assert ran.code == 0, ran.err
    assert _sent(wire) == {"prompt": "x", "model": "gpt-image-1.5", "quality": "low"}


def test_json_literals_are_accepted_in_the_quoted_form(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    descr = "{'prompt':'it''s','model':'gpt-image-1.5','stream':true,'partial_images':1,'user':null}"
    ran = run(capsys, "generate", *LOCAL, "--descr", descr, "--json")
    assert ran.code == 0, ran.err
    assert _sent(wire) == {"prompt": "its", "model": "gpt-image-1.5", "partial_images": 1, "stream": True}
    assert ran.json()["stream"]["events"] == 2


@pytest.mark.parametrize(
    ("descr", "needle", "rule"),
    [
        ("{'prompt':'x','colour':'red'}", "--descr key 'colour' is not a field of generations", "descr"),
        ("{'prompt':'x','quality':'ultra'}", "'ultra' is not a value the spec admits", "values"),
        ("{'prompt':'x','n':'two'}", "--descr 'n' must be a whole number", "descr"),
        ("{'prompt':'x','n':true}", "--descr 'n' must be a whole number", "descr"),
        ("{'prompt': __import__('os').system('true')}", "only literal values are allowed", "descr"),
        ("{'prompt':'x',", "--descr: '{' at column 1 is not closed with '}'", "descr"),
        ("{'prompt':'x", "--descr: the string opened at column 11 is not closed", "descr"),
        ('{"prompt": ["x"}', "--descr: '}' at column 16 does not close '[' at column 12", "descr"),
        ("{'prompt':'x' 'n':1}", "--descr: unexpected text at column 18", "descr"),
        ("['x']", "must be an object", "descr"),
        ("no-such-file.json", "neither an object", "descr"),
    ],
)
def test_a_bad_descr_exits_2_and_sends_nothing(
    descr: str, needle: str, rule: str, wire: Wire, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "generate", *LOCAL, *DALLE3, "--descr", descr)
    assert ran.code == 2
    assert needle in ran.err
    assert f"rule: {rule}" in ran.err
    assert wire.requests == []
    message = [line for line in ran.err.splitlines() if line.startswith("error:")]
    assert len(message) == 1, ran.err  # one line says what is wrong
    assert "Error" not in ran.err and "Traceback" not in ran.err and "tokenize" not in ran.err


def test_an_unknown_descr_key_lists_the_fields_of_the_operation(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "vary", "missing.png", *LOCAL, "--descr", "{'prompt':'x'}")
    assert ran.code == 2
    assert "not a field of variations" in ran.err
    assert "allowed: model, n, size, response_format, user" in ran.err


def test_unknown_descr_keys_are_sent_with_no_validate(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", *LOCAL, *DALLE3, "--no-validate", "--descr", "{'prompt':'x','seed':42}")
    assert ran.code == 0, ran.err
    assert _sent(wire)["seed"] == 42


def test_the_descr_fields_are_the_client_method_parameters() -> None:
    import inspect

    from imagewire_client import Images

    fields = _cli_descr.body_fields("generations")
    params = inspect.signature(Images.generate).parameters
    assert set(fields) <= set(params)
    assert {"prompt", "model", "n", "size", "quality", "style", "response_format", "stream"} <= set(fields)
    assert "image" not in _cli_descr.body_fields("edits") and "mask" not in _cli_descr.body_fields("edits")
    assert fields["quality"].choices is not None and "hd" in fields["quality"].choices
    assert fields["size"].choices is None  # free WxH sizes exist: the model rule decides


def test_parse_refuses_huge_input() -> None:
    with pytest.raises(UsageProblem):
        _cli_descr.parse("{'prompt':'" + "x" * 1_000_001 + "'}")
