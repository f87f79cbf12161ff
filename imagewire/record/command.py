"""``imagewire record``: one call through the generated client with a recording transport, written as a
scrubbed cassette.

``imagewire record OUT [--provider NAME] [--base-url URL] [--api-key KEY] [--model M] [--prompt TEXT]
[--size S] [--format url|b64_json] [--operation generations|edits|variations] [--image FILE]...
[--mask FILE] [--stream] [--append] [--resource R --deployment D --api-version V ...]``. Exit status
(:mod:`imagewire.exits`): 0 the provider answered with images; 2 nothing was sent (a usage problem, a
model rule the request breaks, no key); 3 the provider answered an error status or not at all (recorded:
recording failures is the point); 4 it answered 2xx with something that breaks the contract (recorded).
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from imagewire import exits
from imagewire.cli.options import AllowRetiredOpt, Connection, NoValidateOpt, with_connection
from imagewire.record.recordings import load
from imagewire.record.transport import Recorder, RecordingTransport

__all__ = ["TRANSPORT", "app", "consume", "main", "record"]

#: A seam for tests: when set, ``imagewire record`` sends through this transport instead of the network.
TRANSPORT: httpx.BaseTransport | None = None


def _operations(value: str) -> str:
    """``--operation``: an operation of the spec."""
    from imagewire_client.catalog import OPERATIONS

    if value not in OPERATIONS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(OPERATIONS)}")
    return value


app = typer.Typer(add_completion=False)


@app.command(
    "record",
    help="Make one call through the generated client and record it as a scrubbed VCR cassette (errors are recorded "
    "too).",
    epilog="Exit codes: 0 images; 2 nothing sent (usage, model rule, no key); 3 error status or no answer (recorded); "
    "4 an answer that breaks the contract (recorded).",
)
@with_connection()
def record(
    connection: Connection,
    out: Annotated[
        str, typer.Argument(metavar="OUT", help="the cassette to write (.yaml); a folder gets a timestamped name")
    ],
    operation: Annotated[
        str,
        typer.Option("--operation", metavar="NAME", help="generations, edits or variations", callback=_operations),
    ] = "generations",
    model: Annotated[str | None, typer.Option("--model", "-m", metavar="MODEL", help="model id")] = None,
    prompt: Annotated[str, typer.Option("--prompt", metavar="TEXT", help="the prompt")] = (
        "A red circle on a white background"
    ),
    size: Annotated[str | None, typer.Option("--size", "-s", help="size, e.g. 1024x1024")] = None,
    n: Annotated[int | None, typer.Option("-n", "--n", help="number of images")] = None,
    quality: Annotated[str | None, typer.Option("--quality", "-q", help="quality (low, standard, ...)")] = None,
    response_format: Annotated[
        str | None, typer.Option("--format", metavar="FORMAT", help="response_format: url or b64_json (DALL·E models)")
    ] = None,
    response_format_alias: Annotated[str | None, typer.Option("--response-format", hidden=True)] = None,
    image: Annotated[
        list[Path] | None,
        typer.Option("--image", metavar="FILE", help="an input image (edits, variations); repeatable"),
    ] = None,
    mask: Annotated[Path | None, typer.Option("--mask", metavar="FILE", help="mask image (edits)")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="stream the answer (GPT image models)")] = False,
    partial_images: Annotated[
        int | None, typer.Option("--partial-images", metavar="N", help="partial images of a stream (0-3)")
    ] = None,
    append: Annotated[bool, typer.Option("--append", help="add to OUT instead of replacing it")] = False,
    no_validate: NoValidateOpt = False,
    allow_retired: AllowRetiredOpt = False,
    timeout: Annotated[float, typer.Option("--timeout", metavar="SECONDS", help="read timeout")] = 300.0,
) -> int:
    """``imagewire record``: one call, recorded; the exit status says how it went (see the module doc)."""
    from imagewire.cli.common import Redactor, cli_words
    from imagewire_client import (
        APIConnectionError,
        APIStatusError,
        Client,
        ImagewireError,
        ResponseContractError,
        ValidationError,
    )

    images = list(image or ())
    response_format = response_format or response_format_alias
    api_key = connection.key()
    redact = Redactor(api_key)

    def say(text: str, *, err: bool = False) -> None:
        print(redact(cli_words(text)), file=sys.stderr if err else sys.stdout, flush=True)

    if operation in ("edits", "variations") and not images:
        say(f"imagewire record: {operation} needs --image FILE", err=True)
        return exits.USAGE
    if operation == "variations" and len(images) > 1:
        say("imagewire record: variations take one --image", err=True)
        return exits.USAGE
    for file in [*images, *([mask] if mask else [])]:
        if not Path(file).is_file():
            say(f"imagewire record: no such file: {file}", err=True)
            return exits.USAGE
    target = _target(out, operation)
    if append and target.exists():
        existing = load(target)
        if existing.errors or existing.format != "cassette":
            say(f"imagewire record: cannot append to {target}: not a readable cassette", err=True)
            return exits.USAGE

    recorder = Recorder(str(target), secrets=[api_key])
    inner = TRANSPORT if TRANSPORT is not None else httpx.HTTPTransport()
    transport = RecordingTransport(inner, recorder=recorder)
    http = httpx.Client(transport=transport, timeout=httpx.Timeout(timeout, connect=10.0))
    try:
        client = Client(
            **{**connection.client_options(), "api_key": api_key},
            http_client=http,
            max_retries=0,
            validate=not no_validate,
            allow_retired=allow_retired,
        )
    except ImagewireError as problem:
        http.close()
        say(f"imagewire record: {problem}", err=True)
        return exits.USAGE

    say(f"{operation} {model or '(no model)'} at {client.base_url}")

    fields: dict[str, Any] = {"model": model, "n": n, "size": size}
    if quality:
        fields["quality"] = quality
    if response_format:
        fields["response_format"] = response_format
    streamed = bool(stream or partial_images is not None)
    if streamed and operation != "variations":
        fields["stream"] = True
        if partial_images is not None:
            fields["partial_images"] = partial_images
    calls: Any = client.images
    code = exits.OK
    try:
        estimate = calls.estimate(
            model=model, size=size, quality=quality, n=n or 1, operation=operation
        )  # checks the values first, as the call does
        say(f"estimate: {estimate}")
        if operation == "generations":
            result = calls.generate(prompt=prompt, **fields)
        elif operation == "edits":
            files: Any = images if len(images) > 1 else images[0]
            result = calls.edit(prompt=prompt, image=files, mask=mask, **fields)
        else:
            fields.pop("stream", None)
            result = calls.create_variation(image=images[0], **fields)
        say(f"answer: {consume(result, streamed and operation != 'variations')}")
    except ValidationError as problem:
        say(f"imagewire record: not sent: {problem}", err=True)
        code = exits.USAGE
    except ResponseContractError as problem:
        say(f"the answer breaks the contract: {problem}", err=True)
        code = exits.CONTRACT
    except APIStatusError as problem:
        say(f"the provider answered {problem.status_code}: {problem}", err=True)
        code = exits.PROVIDER
    except APIConnectionError as problem:
        say(f"no answer: {problem}", err=True)
        code = exits.PROVIDER
    except ImagewireError as problem:
        say(f"imagewire record: {problem}", err=True)
        code = exits.USAGE if len(recorder) == 0 else exits.PROVIDER
    finally:
        http.close()

    for failure in recorder.failures:
        say(f"no answer to {failure}", err=True)
    if not recorder.interactions():
        say("nothing was recorded; no cassette written", err=True)
        return code if code != exits.OK else exits.PROVIDER
    try:
        path = recorder.save(target, append=append, header=f"imagewire record --operation {operation}")
    except (OSError, ValueError) as problem:
        say(f"imagewire record: cannot write {target}: {problem}", err=True)
        return exits.USAGE
    count = len(recorder.interactions())
    verb = "appended" if append else "recorded"
    say(f"{verb} {count} interaction(s) to {path} (scrubbed)")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """``imagewire record ARGV...`` (for scripts): the exit status."""
    from imagewire.cli import run

    return run("record", argv)


def _target(out: str, operation: str) -> Path:
    path = Path(out)
    if path.is_dir() or out.endswith(("/", os.sep)):
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return path / f"{stamp}-{operation}.yaml"
    return path


def consume(result: Any, stream: bool) -> str:
    """Read the answer as a caller would (every event of a stream); a one-line description of what came."""
    if stream:
        events = images = 0
        for event in result:
            events += 1
            if str(getattr(event, "type", "")).endswith(".completed"):
                images += 1
        return f"{events} event(s), {images} image(s)"
    data = list(getattr(result, "data", []) or [])
    warnings_ = list(getattr(result, "deviations", []) or [])
    extra = f"; {len(warnings_)} deviation(s) from the contract" if warnings_ else ""
    return f"{len(data)} image(s){extra}"
