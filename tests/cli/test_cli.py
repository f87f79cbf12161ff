"""The ``imagewire`` entry point: lists its commands, refuses unknown ones with exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from imagewire import cli

ROOT = Path(__file__).resolve().parents[2]


def _listed_commands(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("commands:") + 1
    return [line.split()[0] for line in lines[start:] if line.startswith("  ") and line.strip()]


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"], ["help"]])
def test_no_arguments_or_help_lists_every_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("usage: imagewire COMMAND")
    assert _listed_commands(out) == list(cli.COMMANDS)
    assert "regen" in cli.COMMANDS
    for name, (_, help_) in cli.COMMANDS.items():
        assert f"  {name}" in out and help_ in out


def test_unknown_command_exits_2_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate", "--x"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("imagewire: unknown command 'frobnicate'")
    assert _listed_commands(err) == list(cli.COMMANDS)


def test_regen_help_shows_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["regen", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for option in ("--check", "--spec", "--out", "--force"):
        assert option in out


def test_regen_with_a_bad_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["regen", "--no-such-option"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_every_command_module_exists() -> None:
    import importlib.util

    for name, (module, _) in cli.COMMANDS.items():
        assert importlib.util.find_spec(module) is not None, f"{name}: no module {module}"


def test_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("imagewire")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "imagewire.cli"]
    listed = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert _listed_commands(listed.stdout) == list(cli.COMMANDS)
    unknown = subprocess.run([*command, "nope"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert unknown.returncode == 2
    assert "unknown command 'nope'" in unknown.stderr
