"""``imagewire serve``: run the reference provider until SIGTERM or SIGINT (0 on a clean stop)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Annotated

import typer

from imagewire import exits
from imagewire.cli.options import SpecOpt, provider_choice, spec_path
from imagewire.server import _BANNER

__all__ = ["app", "serve"]


def _faults_help() -> str:
    from imagewire.server.faults import FAULTS

    return "faults: " + "; ".join(f"{name} ({what})" for name, what in FAULTS.items())


app = typer.Typer(add_completion=False)


@app.command(
    "serve",
    help="Run the reference provider: an OpenAI-style Images API with deterministic images.",
    epilog=_faults_help(),
)
def serve(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port (0: a free port)")] = 8765,
    provider: Annotated[
        str, typer.Option("--provider", metavar="NAME", help="which provider to play (its URL shape, auth, models)")
    ] = "local",
    persona: Annotated[str | None, typer.Option("--persona", hidden=True)] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", metavar="KEY", help="the key clients must send (default: no auth)", show_default=False
        ),
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option("--api-key-env", metavar="VAR", help="read that key from this variable")
    ] = None,
    latency: Annotated[int, typer.Option("--latency", metavar="MS", min=0, help="delay every answer by MS")] = 0,
    faults: Annotated[
        str, typer.Option("--faults", metavar="LIST", help="comma-separated faults for every request")
    ] = "",
    url_ttl: Annotated[int, typer.Option("--url-ttl", metavar="SECONDS", help="lifetime of image URLs")] = 3600,
    rate_limit: Annotated[
        float | None,
        typer.Option(
            "--rate-limit", metavar="N", help="allow N image requests a second (429 beyond)", show_default=False
        ),
    ] = None,
    max_body: Annotated[
        int | None, typer.Option("--max-body", metavar="BYTES", help="largest request body (413)", show_default=False)
    ] = None,
    max_concurrent: Annotated[
        int | None,
        typer.Option(
            "--max-concurrent", metavar="N", help="requests handled at once (429 past it)", show_default=False
        ),
    ] = None,
    body_timeout: Annotated[
        float | None,
        typer.Option("--body-timeout", metavar="SECONDS", help="time to send a request body (408)", show_default=False),
    ] = None,
    spec: SpecOpt = None,
) -> int:
    """``imagewire serve``: run until SIGTERM or SIGINT; 0 on a clean stop."""
    import socket

    from imagewire.server.faults import parse_list

    persona = persona or provider
    provider_choice(persona)
    try:
        fault_list = parse_list(faults)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="'--faults'") from None
    document = str(spec_path(spec)) if spec is not None else None
    if api_key is None and api_key_env:
        api_key = os.environ.get(api_key_env) or None

    # Signals during start-up end the process quietly; uvicorn installs its own while serving and, after a
    # graceful shutdown, hands the signal back to these handlers (so the exit status stays 0).
    stop_requested = threading.Event()

    def note(signum: int, frame: object) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, note)
    signal.signal(signal.SIGINT, note)

    import uvicorn

    from imagewire.server.app import make_app

    application = make_app(
        persona,
        api_key=api_key,
        latency_ms=latency,
        faults=fault_list,
        url_ttl=url_ttl,
        max_body_bytes=max_body,
        max_concurrent=max_concurrent,
        body_timeout=body_timeout,
        spec_path=document,
        rate_limit=rate_limit,
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        print(f"imagewire serve: cannot listen on {host}:{port}: {err.strerror}", file=sys.stderr)
        sock.close()
        return exits.FAILED
    sock.listen(128)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    origin = f"http://{shown}:{port}"
    from imagewire.server.personas import persona as find_persona

    print(f"{_BANNER}{find_persona(persona).base_url(origin)} (persona {persona})", flush=True)
    if stop_requested.is_set():
        sock.close()
        return exits.OK
    _quiet_drops()
    _warm_up()
    config = uvicorn.Config(
        application,
        lifespan="off",
        log_level="warning",
        # loop and http stay "auto": uvloop and httptools (declared dependencies) where they install
        access_log=False,
        timeout_graceful_shutdown=3,
        server_header=False,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    sock.close()
    return exits.OK


def _warm_up() -> None:
    """Load the font and the encoders once, so the first answer is as fast as the others."""
    from imagewire.server import render

    image = render.render(render.Picture(seed=b"imagewire", width=64, height=64, prompt="warm up", caption="."))
    for fmt in ("png", "jpeg", "webp"):
        render.encode(image, fmt)


def _quiet_drops() -> None:
    """The ``drop`` fault leaves responses incomplete on purpose: do not log that as an error."""
    import logging

    class DropFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "returned without completing response" not in record.getMessage()

    logging.getLogger("uvicorn.error").addFilter(DropFilter())
