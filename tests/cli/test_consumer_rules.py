"""Arguments that break a rule exit 2, name the rule and the allowed values, and send nothing."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from support.cli import LOCAL, Wire, mock_provider, run

from imagewire import cli
from imagewire_client import _params
from imagewire_client.catalog import MODELS, PROVIDERS


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Wire:
    return mock_provider(monkeypatch, tmp_path)


@pytest.mark.parametrize(
    ("option", "alias"),
    [
        ("--quality", _params.ImageQuality),
        ("--style", _params.ImageStyle),
        ("--format", _params.ImageResponseFormat),
        ("--output-format", _params.ImageOutputFormat),
        ("--background", _params.ImageBackground),
        ("--moderation", _params.ImageModeration),
    ],
)
def test_a_value_the_spec_does_not_admit_is_a_usage_error_listing_the_spec_values(
    option: str, alias: object, wire: Wire, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "generate", "x", *LOCAL, "--model", "gpt-image-1.5", option, "nonsense")
    assert ran.code == 2
    assert wire.requests == []
    assert "rule: values" in ran.err
    allowed = typing.get_args(alias)
    assert f"allowed: {', '.join(allowed)}" in ran.err
    assert option in ran.err
    assert "nothing was sent" in ran.err


def _choices(command: str, name: str) -> tuple[str, ...]:
    param = next(p for p in cli.load(command).params if p.name == name)
    return tuple(param.type.choices)


def test_option_choices_are_the_generated_clients_literals() -> None:
    """The options' choices are the client's aliases, so they cannot drift from the spec."""
    for name, alias in (
        ("quality", _params.ImageQuality),
        ("style", _params.ImageStyle),
        ("response_format", _params.ImageResponseFormat),
        ("output_format", _params.ImageOutputFormat),
        ("background", _params.ImageBackground),
    ):
        assert _choices("generate", name) == typing.get_args(alias)
    assert _choices("edit", "input_fidelity") == typing.get_args(_params.ImageInputFidelity)


@pytest.mark.parametrize(
    ("argv", "rule", "allowed"),
    [
        # a value the spec admits, but not for this model
        (["--model", "gpt-image-1.5", "--quality", "hd"], "values", "low, medium, high, auto"),
        (["--model", "dall-e-3", "--allow-retired", "--size", "256x256"], "values", "1024x1024, 1792x1024, 1024x1792"),
        (["--model", "dall-e-3", "--allow-retired", "-n", "2"], "n", "1"),
        (["--model", "gpt-image-1.5", "--style", "vivid"], "param", "quality"),
        (["--model", "gpt-image-2", "--size", "1000x1000"], "size", None),
        (["--model", "dall-e-3", "--allow-retired", "--stream"], "param", "style"),
    ],
)
def test_a_model_rule_is_checked_before_sending(
    argv: list[str], rule: str, allowed: str | None, wire: Wire, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "generate", "a prompt", *LOCAL, *argv)
    assert ran.code == 2, ran.err
    assert wire.requests == []
    assert f"rule: {rule}" in ran.err
    if allowed is not None:
        assert allowed in ran.err
    assert "nothing was sent" in ran.err


def test_an_unknown_model_lists_the_catalog_models(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    openai = ("--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k" * 12)
    ran = run(capsys, "generate", "x", *openai, "--model", "gpt-image-9000")  # a known table
    assert ran.code == 2
    assert wire.requests == []
    assert "rule: model" in ran.err
    assert "gpt-image-1.5" in ran.err and "gpt-image-2" in ran.err
    # the client's message says validate=False; the command line speaks its own words
    assert "pass --no-validate" in ran.err and "validate=False" not in ran.err


def test_client_messages_speak_command_line_words(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    openai = ("--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k" * 12)
    ran = run(capsys, "generate", "x", *openai, "--model", "gpt-image-9000", "--json")
    assert "--no-validate" in ran.json()["error"]["message"] and "validate=False" not in ran.out
    ran = run(capsys, "generate", "x", "--provider", "azure", "--api-key", "k" * 12, "-m", "gpt-image-1.5")
    assert ran.code == 2
    assert "needs --resource ..." in ran.err and "resource=..." not in ran.err
    ran = run(capsys, "generate", "x", "--provider", "openai", "-m", "gpt-image-1.5")
    assert "pass --api-key" in ran.err and "api_key argument" not in ran.err


def test_an_unknown_model_is_sent_to_an_open_provider_with_a_warning(
    wire: Wire, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "generate", "x", *LOCAL, "--model", "gpt-image-9000")
    assert ran.code == 0, ran.err
    assert len(wire.api_calls) == 1
    assert "'gpt-image-9000' is not in the catalog" in ran.err + ran.out


def test_an_unknown_model_is_sent_with_no_validate(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", "x", *LOCAL, "--model", "gpt-image-9000", "--no-validate")
    assert ran.code == 0, ran.err
    assert len(wire.api_calls) == 1


def test_a_retired_model_names_the_lifecycle_rule(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    openai = ("--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k" * 12)
    ran = run(capsys, "generate", "x", *openai, "--model", "dall-e-3")  # generic would send it, with a warning
    assert ran.code == 2
    assert wire.requests == []
    assert "rule: lifecycle" in ran.err
    assert "retired" in ran.err


def test_a_provider_that_does_not_serve_the_model_says_who_does(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", "x", "--provider", "bothub", "--api-key", "k" * 12, "--model", "gpt-image-1.5")
    assert ran.code == 2
    assert wire.requests == []
    assert "rule: provider" in ran.err
    assert "allowed: dall-e-3" in ran.err


def test_an_unknown_provider_lists_the_catalog_providers(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", "x", "--provider", "nowhere", "--model", "gpt-image-1.5")
    assert ran.code == 2
    assert wire.requests == []
    for name in PROVIDERS:
        assert name in ran.err


def test_the_model_list_in_the_help_comes_from_the_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.run("vary", ["--help"])
    out = capsys.readouterr().out
    assert code == 0
    offering = [m.id for m in MODELS.values() if "variations" in m.operations]
    assert offering and all(model in out for model in offering)


@pytest.mark.parametrize(
    ("command", "argv", "needle"),
    [
        ("generate", ["--model", "gpt-image-1.5"], "a prompt is required"),
        ("edit", ["x", "--model", "gpt-image-1.5"], "edits needs an input image"),
        ("generate", ["x", "-n", "many"], "'many' is not a valid int"),
        ("generate", ["x", "--no-such-option"], "No such option"),
        ("generate", ["x", "--model", "gpt-image-1.5", "-H", "no colon"], "--header must be 'NAME: VALUE'"),
    ],
)
def test_usage_errors_exit_2(
    command: str,
    argv: list[str],
    needle: str,
    wire: Wire,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran = run(capsys, command, *LOCAL, *argv)
    assert ran.code == 2
    assert needle in ran.err
    assert wire.requests == []


def test_no_key_for_a_provider_that_needs_one_is_a_usage_error(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", "x", "--provider", "openai", "--model", "gpt-image-1.5")
    assert ran.code == 2
    assert "OPENAI_API_KEY" in ran.err
    assert wire.requests == []


def test_json_mode_reports_a_rule_error_as_a_document(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", "x", *LOCAL, "--model", "gpt-image-1.5", "--quality", "hd", "--json")
    assert ran.code == 2
    doc = ran.json()
    assert doc["ok"] is False
    assert doc["error"]["rule"] == "values"
    assert doc["error"]["allowed"] == ["low", "medium", "high", "auto"]
    assert doc["error"]["sent"] is False
    assert wire.requests == []
