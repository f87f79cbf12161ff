"""``imagewire record``: one call through the generated client with a recording transport, written as a
scrubbed cassette.

``imagewire record OUT [--operation generations|edits|variations] [--provider NAME] [--base-url URL]
[--api-key KEY] [--prompt TEXT] [--image FILE]... [--model M] [--size S] [--format url|b64_json] [--stream]
[REQUEST FIELD OPTIONS] [--append] [--resource R --deployment D --api-version V ...]``. The request-field
options are those of ``imagewire generate``/``edit``/``vary``, made the same way from the generated client
(:func:`imagewire.cli.fields.option`): every field any operation takes, spelled as there; one the
operation does not take is a usage problem. Exit status
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
from imagewire.cli.common import option_name
from imagewire.cli.fields import (
    URL_SCHEMES,
    Field,
    fold_old_spellings,
    json_object,
    operations,
    option,
    reference,
    request_fields,
)
from imagewire.cli.options import AllowRetiredOpt, Connection, NoValidateOpt, extend, with_connection
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


#: the prompt of an operation that takes one, when --prompt is not given
DEFAULT_PROMPT = "A red circle on a white background"


def _fields() -> dict[str, Field]:
    """Every request field of any operation, in the client's order; a file field that takes several files in
    one operation takes several here (``--image`` is repeatable: the images of an edit)."""
    out: dict[str, Field] = {}
    for operation in operations():
        for name, field in request_fields(operation).items():
            known = out.get(name)
            if known is None or (known.kind == "file" and field.kind == "files"):
                out[name] = field._replace(required=False)
    return out


def _request(values: dict[str, Any]) -> dict[str, Any]:
    """The request-field options' values -> ``request``: the fields given (the others left out)."""
    fold_old_spellings(values)
    request = {}
    for name in _fields():
        value = values.pop(name, None)
        if value is not None and value is not False and value != []:
            request[name] = value
    return {**values, "request": request}


def record(
    connection: Connection,
    out: Annotated[
        str, typer.Argument(metavar="OUT", help="the cassette to write (.yaml); a folder gets a timestamped name")
    ],
    request: dict[str, Any],
    operation: Annotated[
        str,
        typer.Option("--operation", metavar="NAME", help="generations, edits or variations", callback=_operations),
    ] = "generations",
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

    fields = request_fields(operation)
    request = dict(request)
    api_key = connection.key()
    redact = Redactor(api_key)

    def say(text: str, *, err: bool = False) -> None:
        print(redact(cli_words(text)), file=sys.stderr if err else sys.stdout, flush=True)

    unknown = [option_name(name) for name in request if name not in fields]
    if unknown:
        say(f"imagewire record: {operation} takes no {', '.join(unknown)}", err=True)
        return exits.USAGE
    if "prompt" in fields:
        request.setdefault("prompt", DEFAULT_PROMPT)
    images = [Path(file) for file in request.pop("image", ())]
    if "image" in fields and not images:
        say(f"imagewire record: {operation} needs --image FILE", err=True)
        return exits.USAGE
    if "image" in fields and fields["image"].kind == "file" and len(images) > 1:
        say(f"imagewire record: {operation} takes one --image", err=True)
        return exits.USAGE
    try:
        request = _values(fields, request)
    except typer.BadParameter as problem:
        say(f"imagewire record: {problem.format_message()}", err=True)
        return exits.USAGE
    for file in [*images, *(value for value in request.values() if isinstance(value, Path))]:
        if not file.is_file():
            say(f"imagewire record: no such file: {file}", err=True)
            return exits.USAGE
    if images:
        request["image"] = images[0] if fields["image"].kind == "file" or len(images) == 1 else images
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

    model = request.get("model")
    say(f"{operation} {model or '(no model)'} at {client.base_url}")

    if "stream" in fields and "partial_images" in request:  # partial images come only in a stream
        request["stream"] = True
    streamed = bool(request.get("stream"))
    calls: Any = client.images
    method = {"generations": calls.generate, "edits": calls.edit, "variations": calls.create_variation}[operation]
    code = exits.OK
    try:
        estimate = calls.estimate(
            model=model,
            size=request.get("size"),
            quality=request.get("quality"),
            n=request.get("n") or 1,
            operation=operation,
        )  # checks the values first, as the call does
        say(f"estimate: {estimate}")
        result = method(**request)
        say(f"answer: {consume(result, streamed)}")
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


def _values(fields: dict[str, Field], request: dict[str, Any]) -> dict[str, Any]:
    """The options' values as the client method takes them: references and JSON objects read, files as paths."""
    out: dict[str, Any] = {}
    for name, value in request.items():
        kind = fields[name].kind
        if kind == "file":
            by_url = fields[name].by_reference and str(value).startswith(URL_SCHEMES)
            out[name] = reference(str(value)) if by_url else Path(value)
        elif kind == "reference":
            out[name] = reference(value)
        elif kind == "references":
            out[name] = [reference(v) for v in value]
        elif kind == "object":
            out[name] = json_object(name, value)
        else:
            out[name] = value
    return out


app = typer.Typer(add_completion=False)
app.command(
    "record",
    help="Make one call through the generated client and record it as a scrubbed VCR cassette (errors are recorded "
    "too).",
    epilog="Exit codes: 0 images; 2 nothing sent (usage, model rule, no key); 3 error status or no answer (recorded); "
    "4 an answer that breaks the contract (recorded). `imagewire providers` lists the models.",
)(with_connection()(extend(record, [p for f in _fields().values() for p in option(f)], _request, drop=("request",))))


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
