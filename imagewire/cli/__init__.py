"""The ``imagewire`` command: one entry point, each subcommand living in the package that does the work.

Subcommand modules are imported only when called, so ``imagewire regen`` on unchanged inputs stays fast.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

__all__ = ["COMMANDS", "main"]

#: name -> (module with a ``main(argv) -> int``, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "regen": ("imagewire.generator.cli", "compile spec/ into generated_client/ (--check: fail on drift)"),
    "summary": ("imagewire.cli.summary", "print the generated API: operations and models with their status"),
    "providers": ("imagewire.cli.providers", "the provider x model x operation matrix (--json)"),
    "generate": ("imagewire.cli.images", "generate images from a prompt and save them"),
    "edit": ("imagewire.cli.images", "edit one or more images with a prompt (and a mask)"),
    "vary": ("imagewire.cli.images", "make variations of an image"),
    "serve": ("imagewire.server", "run the reference provider on this machine"),
    "check": ("imagewire.check.command", "judge a provider against the contract (--replay recordings, --live probes)"),
    "record": ("imagewire.record.command", "record traffic to a provider as scrubbed cassettes"),
    "drift": ("imagewire.drift.command", "compare spec/ with the openai SDK's types and official OpenAPI documents"),
    "batch": ("imagewire.cli.batch", "send a manifest of requests, journaled and resumable (status, fetch)"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: imagewire COMMAND [ARGS]...", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`imagewire COMMAND --help` for the options of one command."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"imagewire: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    entry: Callable[[Sequence[str]], int] = getattr(module, f"main_{name}", None) or module.main
    return entry(rest)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
