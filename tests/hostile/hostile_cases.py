"""The hostile cases, one function each, run in a child process by ``hostile_harness.run_case``.

``python hostile_cases.py CASE`` runs one case in the current folder with the environment the harness sets:
``HOSTILE_INPUT`` (a crafted file or folder), ``HOSTILE_PORT`` / ``HOSTILE_OTHER_PORT`` (hostile servers),
``HOSTILE_LIMIT`` (the limit configured for the case, in bytes) and ``HOSTILE_DEADLINE`` (seconds). Options
the code under test does not know are left out, so the same case also runs against older checkouts (the
"before" column of the table in README.md). The last line printed is ``HOSTILE-RESULT {json}``: the error
the case ended with (an exception's qualified name, or the typed refusal it observed) and facts it checked.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULT = "HOSTILE-RESULT "
Case = Callable[[], "tuple[str | None, str, dict[str, Any]]"]
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__.replace("_", "-")] = function
    return function


def _input() -> Path:
    return Path(os.environ["HOSTILE_INPUT"])


def _limit() -> int:
    return int(os.environ.get("HOSTILE_LIMIT", str(8 * 1024 * 1024)))


def known(target: Callable[..., Any], **options: Any) -> dict[str, Any]:
    """The options ``target`` accepts (older code lacks some; the case then runs with its defaults)."""
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return options
    return {name: value for name, value in options.items() if name in parameters}


# ------------------------------------------------------------------ recordings and specs


def _recording() -> tuple[str | None, str, dict[str, Any]]:
    from imagewire.record import recordings

    limits: dict[str, Any] = {}
    if hasattr(recordings, "Limits"):
        limit = _limit()
        limits["limits"] = recordings.Limits(file_bytes=limit, decoded_bytes=limit, interactions=1000)
    recording = recordings.load(_input(), **known(recordings.load, **limits))
    refused = [error for error in recording.errors if getattr(error, "limit", None)]
    if refused:
        return f"LoadError[{refused[0].limit}]", str(refused[0]), {}
    total = 0
    for interaction in recording.interactions:  # what check --replay does with every interaction
        total += len(interaction.response_content()) + len(interaction.reason)
    return None, f"{len(recording.interactions)} interactions, {total:,} bytes read", {}


for _name in ("cassette-alias-bomb", "cassette-alias-list", "cassette-gzip-body", "recording-too-large"):
    CASES[_name] = _recording


@case
def spec_alias_bomb() -> tuple[str | None, str, dict[str, Any]]:
    from imagewire.generator import load

    options = {"max_bytes": _limit()} if hasattr(load, "MAX_BYTES") else {}
    found = load.load(_input(), "openapi.yaml", **options)
    if isinstance(found, load.Problem):
        return f"Problem[{found.rule}]", str(found), {}
    return None, "loaded", {}


@case
def regen_similar_enum() -> tuple[str | None, str, dict[str, Any]]:
    import contextlib
    import io

    from imagewire.generator import cli

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = cli.main(["--spec", str(_input() / "openapi.yaml"), "--out", "out"])
        except BaseException as exc:
            return type(exc).__qualname__, str(exc)[:300], {"traceback": True}
    text = err.getvalue()
    lines = [line for line in text.splitlines() if line.strip()]
    return (f"exit {code}" if code else None), " / ".join(lines[:3])[:300], {}


# ------------------------------------------------------------------ the reference provider


@case
def serve() -> tuple[str | None, str, dict[str, Any]]:
    """Run the reference provider on 127.0.0.1 (a free port, printed) until SIGTERM; the attack is the
    harness's. ``HOSTILE_SERVER`` holds ``make_app`` options as JSON."""
    import socket

    import uvicorn

    from imagewire.server import make_app

    options = json.loads(os.environ.get("HOSTILE_SERVER", "{}"))
    app = make_app("local", **known(make_app, **options))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(app, lifespan="off", log_level="critical", access_log=False, timeout_graceful_shutdown=1)
    print(f"HOSTILE-PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    return None, "stopped", {}


def main() -> None:
    name = sys.argv[1]
    facts: dict[str, Any] = {}
    try:
        error, detail, facts = CASES[name]()
    except BaseException as exc:
        kind = type(exc)
        error = f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__qualname__
        detail = str(exc)
    from hostile_harness import vm_hwm_kb

    result = {"error": error, "detail": detail[:300], "facts": facts, "vm_hwm_kb": vm_hwm_kb()}
    print(RESULT + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
