"""The ``imagewire`` command: one typer application, each subcommand living in the package that does the work.

Subcommand modules are imported only when their command runs (``imagewire --help`` lists them from the
table below without importing any), so ``imagewire regen`` on unchanged inputs stays fast. Every command
ends here: usage errors are reported once, in one shape; an unexpected error is one line, its secrets
redacted (``IMAGEWIRE_DEBUG=1`` shows the traceback); the exit statuses are :mod:`imagewire.exits`'.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from imagewire import exits

__all__ = ["COMMANDS", "Command", "given_keys", "load", "main", "print_usage_error", "run"]


class Command(NamedTuple):
    """Where a subcommand lives: ``module.attribute`` is a ``typer.Typer`` holding that one command (or a
    ``main(argv) -> int`` for a command that parses its own arguments with typer)."""

    module: str
    attribute: str
    help: str


COMMANDS: dict[str, Command] = {
    "regen": Command("imagewire.cli.regen", "app", "compile spec/ into generated_client/ (--check: fail on drift)"),
    "summary": Command(
        "imagewire.cli.summary", "app", "print the generated API: operations and models with their status"
    ),
    "providers": Command("imagewire.cli.providers", "app", "the provider x model x operation matrix (--json)"),
    "generate": Command("imagewire.cli.images", "generate_app", "generate images from a prompt and save them"),
    "edit": Command("imagewire.cli.images", "edit_app", "edit one or more images with a prompt (and a mask)"),
    "vary": Command("imagewire.cli.images", "vary_app", "make variations of an image"),
    "serve": Command("imagewire.server.command", "app", "run the reference provider on this machine"),
    "check": Command(
        "imagewire.check.command", "app", "judge a provider against the contract (--replay recordings, --live probes)"
    ),
    "record": Command("imagewire.record.command", "app", "record traffic to a provider as scrubbed cassettes"),
    "drift": Command(
        "imagewire.drift.command", "app", "compare spec/ with the openai SDK's types and official OpenAPI documents"
    ),
    # `batch` dispatches its own sub-commands (`batch MANIFEST`, `batch status|fetch|cancel DIR`)
    "batch": Command(
        "imagewire.cli.batch", "main", "send a manifest of requests, journaled and resumable (status, fetch, cancel)"
    ),
}

_HELP = "imagewire: the spec-driven Images API client, its generator, and the kit around it."


class _Commands(TyperGroup):
    """The command group: loads a subcommand's module when it runs, never to list it."""

    def __init__(self) -> None:
        stubs: dict[str, Any] = {name: TyperCommand(name, help=entry.help) for name, entry in COMMANDS.items()}
        super().__init__(
            name="imagewire",
            commands=stubs,
            help=_HELP,
            epilog="`imagewire COMMAND --help` for the options of one command. " + exits.SUMMARY,
            context_settings={"help_option_names": ["-h", "--help"]},
        )
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if self._listing:
            return self.commands[cmd_name]
        return load(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


class _Passthrough(TyperCommand):
    """A command that hands its arguments, unparsed, to a ``main(argv) -> int`` (which parses them with typer)."""

    def __init__(self, name: str, help_: str, entry: Any) -> None:
        settings = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
        super().__init__(name, help=help_, context_settings=settings, add_help_option=False)
        self.entry = entry

    def invoke(self, ctx: Any) -> Any:
        return self.entry(list(ctx.args))


_LOADED: dict[str, Any] = {}


def load(name: str) -> Any:
    """The click command of ``name``, its module imported on first use."""
    command = _LOADED.get(name)
    if command is None:
        entry = COMMANDS[name]
        module = importlib.import_module(entry.module)
        app = getattr(module, entry.attribute)
        command = typer.main.get_command(app) if isinstance(app, typer.Typer) else _Passthrough(name, entry.help, app)
        command.name = name
        # a module may report its own usage errors (the image commands add the rule and a JSON document)
        command.report_usage_error = getattr(module, "report_usage_error", None)  # type: ignore[attr-defined]
        _LOADED[name] = command
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """``imagewire [COMMAND] [ARGS]...``: the exit status (see :mod:`imagewire.exits`); never raises SystemExit."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] == "help":  # `imagewire`, `imagewire help [COMMAND]`: the help
        args = [*args[1:2], "--help"]
    try:
        code = _Commands().main(args=args, prog_name="imagewire", standalone_mode=False)
    except typer.TyperException as err:  # a usage error: bad option, bad value, missing argument
        return _usage_error(err, args)
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except Exception as err:  # a bug: say what, without a traceback full of locals (a key may be one of them)
        if os.environ.get("IMAGEWIRE_DEBUG"):
            raise
        from imagewire.cli.common import Redactor

        redact = Redactor(*given_keys(args), *_key_values())
        name = args[0] if args and args[0] in COMMANDS else ""
        print(
            redact(f"imagewire {name}: internal error: {type(err).__name__}: {err}".replace("  ", " ")), file=sys.stderr
        )
        return exits.FAILED
    return code if isinstance(code, int) else exits.OK


def run(name: str, argv: Sequence[str] | None = None) -> int:
    """``imagewire NAME ARGV...``: one command, as the ``imagewire`` command runs it (for ``python -m`` and tests)."""
    return main([name, *(sys.argv[1:] if argv is None else argv)])


def given_keys(args: Sequence[str]) -> list[str]:
    """The values of ``--api-key``/``--token`` on a command line (to redact them)."""
    keys = []
    for index, arg in enumerate(args):
        for option in ("--api-key", "--token"):
            if arg == option and index + 1 < len(args):
                keys.append(args[index + 1])
            elif arg.startswith(option + "="):
                keys.append(arg.partition("=")[2])
    return keys


def _key_values() -> list[str]:
    from imagewire.cli.options import key_variables

    return [value for name in key_variables() if (value := os.environ.get(name))]


def _usage_error(err: typer.TyperException, args: Sequence[str]) -> int:
    """Exit 2 with the usage line and the message (a command's module may report its own: the image commands
    add the rule and a JSON document, check names the new spelling of an old option)."""
    ctx = getattr(err, "ctx", None)
    command = getattr(ctx, "command", None)
    if command is None and args and args[0] in _LOADED:  # an error raised without its context (--flag=value)
        command = _LOADED[args[0]]
    report = getattr(command, "report_usage_error", None)
    if callable(report):
        code: int = report(err, args)
        return code
    return print_usage_error(err, args)


def print_usage_error(err: typer.TyperException, args: Sequence[str]) -> int:
    """The usage line and the message on stderr, any key on the command line redacted; the exit status."""
    ctx = getattr(err, "ctx", None)
    from imagewire.cli.common import Redactor

    redact = Redactor(*given_keys(args), *_key_values())  # as every other line: a key is never echoed
    if ctx is not None:
        print(redact(ctx.get_usage()), file=sys.stderr)
        print(f"Try '{ctx.command_path} --help' for help.", file=sys.stderr)
    print(redact(f"error: {err.format_message()}"), file=sys.stderr)
    return int(getattr(err, "exit_code", exits.USAGE) or exits.USAGE)
