"""The ``imagewire`` command: one typer application listing every command, loading each only when it runs,
one usage-error shape and exit status, and the request fields of the spec as options of the image commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from imagewire import cli, exits

ROOT = Path(__file__).resolve().parents[2]
#: operation (the last segment of its path) -> the command that performs it
IMAGE_COMMANDS = {"generations": "generate", "edits": "edit", "variations": "vary"}


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"], ["help"]])
def test_no_arguments_or_help_lists_every_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "Usage: imagewire [OPTIONS] COMMAND [ARGS]..." in out
    listed = [line.split()[1] for line in out.splitlines() if line.startswith("│ ") and line.split()[1] in cli.COMMANDS]
    assert listed == list(cli.COMMANDS)
    for entry in cli.COMMANDS.values():
        assert " ".join(entry.help.split()[:4]) in out


def test_help_of_one_command_through_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["help", "regen"]) == 0
    assert "Usage: imagewire regen [OPTIONS]" in capsys.readouterr().out


def test_listing_the_commands_imports_none_of_them() -> None:
    """``imagewire --help`` stays fast: no command module (nor the client) is imported to list them."""
    code = (
        "import sys, contextlib, io\n"
        "from imagewire import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert cli.main(['--help']) == 0\n"
        "modules = {entry.module for entry in cli.COMMANDS.values()} | {'imagewire_client', 'httpx'}\n"
        "print(sorted(modules & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_unknown_command_exits_2_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate", "--x"]) == exits.USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert "Usage: imagewire [OPTIONS] COMMAND [ARGS]..." in err
    assert "error: No such command 'frobnicate'." in err


def test_regen_help_shows_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["regen", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--check", "--spec", "--out", "--force"):
        assert option in out


def test_a_bad_option_exits_2_in_one_shape(capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("regen", "summary", "providers", "serve", "check", "record"):
        assert cli.main([name, "--no-such-option"]) == exits.USAGE, name
        err = capsys.readouterr().err
        assert f"Usage: imagewire {name} [OPTIONS]" in err
        assert "error: No such option: --no-such-option" in err


def test_every_command_loads_as_a_typer_command() -> None:
    for name in cli.COMMANDS:
        command = cli.load(name)
        assert command.name == name
        if name == "batch":  # parses its own sub-commands (batch MANIFEST, batch status, batch fetch)
            continue
        assert command.callback is not None
        assert bool(command.params) == (name != "summary"), name


def test_batch_reaches_its_own_sub_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["batch", "status", "--help"]) == 0
    assert "the --out folder of a batch" in capsys.readouterr().out
    assert cli.main(["batch", "--help"]) == 0
    assert "--concurrency" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["generate", "edit", "vary", "check", "record"])
def test_the_provider_options_are_the_same_everywhere(name: str) -> None:
    options = {opt for param in cli.load(name).params for opt in param.opts}
    assert {"--provider", "--base-url", "--api-key", "--resource", "--deployment", "--api-version"} <= options
    hidden = {opt for param in cli.load(name).params if getattr(param, "hidden", False) for opt in param.opts}
    assert {"--url", "--token", "--setting"} <= hidden


@pytest.mark.parametrize("name", ["regen", "check", "serve"])
def test_every_command_reading_a_spec_takes_spec_dir(name: str) -> None:
    param = next(p for p in cli.load(name).params if "--spec" in p.opts)
    assert param.metavar == "DIR"


def test_an_unexpected_error_is_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from imagewire.cli import summary

    secret = "planted-" + "k" * 20

    def broken() -> str:
        raise RuntimeError(f"boom with {secret}")

    monkeypatch.setattr(summary, "render", broken)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.delenv("IMAGEWIRE_DEBUG", raising=False)
    assert cli.main(["summary"]) == exits.FAILED
    err = capsys.readouterr().err
    assert err.startswith("imagewire summary: internal error: RuntimeError: boom with")
    assert secret not in err and "Traceback" not in err


def test_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("imagewire")
    for command in ([str(script)], [sys.executable, "-m", "imagewire"]):
        listed = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=60)
        assert listed.returncode == 0, listed.stderr
        assert all(name in listed.stdout for name in cli.COMMANDS)
        unknown = subprocess.run([*command, "nope"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
        assert unknown.returncode == exits.USAGE
        assert "No such command 'nope'" in unknown.stderr


# ---------------------------------------------------------------- request fields from the spec


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _request_fields(document: dict[str, Any]) -> dict[str, set[str]]:
    """Every request field of every operation of the spec, by operation (all encodings together)."""
    found: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        for operation in item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            names = found.setdefault(path.rsplit("/", 1)[-1], set())
            for media in _resolve(document, operation["requestBody"])["content"].values():
                schema = _resolve(document, media["schema"])
                for part in [schema, *schema.get("allOf", []), *schema.get("oneOf", []), *schema.get("anyOf", [])]:
                    names |= set(_resolve(document, part).get("properties", {}))
    return found


def test_every_request_field_of_the_spec_is_an_option_or_argument() -> None:
    """The image commands' options are made from the generated client, so each field of spec/openapi.yaml is one."""
    document = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text(encoding="utf-8"))
    fields = _request_fields(document)
    assert set(fields) == set(IMAGE_COMMANDS)
    for operation, names in fields.items():
        params = {param.name: param for param in cli.load(IMAGE_COMMANDS[operation]).params}
        missing = sorted(name for name in names if name not in params)
        assert not missing, f"{operation}: no option for {missing}"
        for name in names:
            param = params[name]
            visible = param.param_type_name == "argument" or not param.hidden
            assert visible, f"{operation}: {name} is hidden"


def test_a_field_option_is_spelled_from_its_name_and_takes_the_spec_values() -> None:
    params = {param.name: param for param in cli.load("generate").params}
    assert params["output_compression"].opts == ["--output-compression"]
    assert params["safety_identifier"].opts == ["--safety-identifier"]
    assert params["response_format"].opts == ["--format"]  # the one word for the response format
    assert params["prompt"].param_type_name == "argument"
    assert params["svg"].metavar == "JSON"  # an object field (a TypedDict of the client) takes a JSON object
    edit = {param.name: param for param in cli.load("edit").params}
    assert [p.name for p in cli.load("edit").params if p.param_type_name == "argument"] == ["prompt", "image"]
    assert edit["markup"].opts == ["--markup"] and edit["mask"].opts == ["--mask"]
