"""``imagewire generate``, ``edit`` and ``vary``: the generated client from the command line.

    imagewire generate "A yellow alpaca" --model gpt-image-1.5 --size 1024x1536 --out pictures/
    imagewire generate --provider bothub --model dall-e-3 --descr "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"
    imagewire edit "Put them in a basket" a.png b.jpg --mask mask.png --model gpt-image-1.5
    imagewire vary cat.png --model dall-e-2 --allow-retired --provider local --base-url http://127.0.0.1:8765/v1

The prompt is the first argument; the input images follow it (``edit``) or are the only argument
(``vary``). Every other request field of the operation is an option made from the generated client
(:mod:`imagewire.cli.fields`): ``--model``, ``--size``, ``--quality``, ``--format`` (the response
format), ``--output-format``, ``--mask``, ... with the values the spec admits as their choices, so a field
added to the spec is an option here once the client is regenerated. Which model takes which value is the
client's check, run before anything is sent. The provider options are :mod:`imagewire.cli.options`'.

Exit codes (:mod:`imagewire.exits`): 0 images saved (or, with ``--dry-run``, the request shown); 1 a bug
in this program (the message says what); 2 a problem on this side, nothing was sent: a usage error, a model
rule the request breaks (the message names the rule and the allowed values), a bad ``--descr``, an input
image that is missing, not an image or too large, an output folder that cannot be written (probed before
sending), no API key; 3 the provider answered an error status or not at all; 4 it answered 2xx with
something that breaks the contract; 130 interrupted.

An output folder that fails while saving after a successful call (disk full, a folder that turned
read-only) also exits 2, after removing every file and folder the run made; the images may have been
billed. The API key comes from ``--api-key`` or the provider's key variable (``OPENAI_API_KEY``,
``BOTHUB_API_KEY``, ...) and is never printed: every line of output passes through a redactor that
knows it by value.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from imagewire import exits
from imagewire.cli import waits
from imagewire.cli.common import Redactor, UsageProblem, cli_words, option_name
from imagewire.cli.descr import merge, parse
from imagewire.cli.fields import (
    URL_SCHEMES,
    Field,
    fold_old_spellings,
    json_object,
    keyword,
    option,
    reference,
    request_fields,
)
from imagewire.cli.files import Input, OutputFolder, read_input
from imagewire.cli.options import (
    AllowRetiredOpt,
    Connection,
    NoValidateOpt,
    extend,
    key_optional,
    key_variables,
    with_connection,
)
from imagewire.cli.wire import Captured, CaptureTransport, describe
from imagewire_client import (
    DEFAULT_MAX_RETRIES,
    APIConnectionError,
    APIStatusError,
    Client,
    Estimate,
    ImagesResponse,
    ImagewireError,
    ResponseContractError,
    ValidationError,
    default_timeout,
)
from imagewire_client.catalog import MODELS, UnknownProviderError
from imagewire_client.media import sniff

__all__ = [
    "DEFAULT_OUT",
    "TRANSPORT",
    "Call",
    "edit_app",
    "generate_app",
    "report_usage_error",
    "run",
    "vary_app",
]

DEFAULT_OUT = Path("imagewire-output")

#: A seam for tests: when set, every request goes through this transport (e.g. ``httpx.MockTransport``).
TRANSPORT: httpx.BaseTransport | None = None

_PARTIAL = "partial_image"
_REQUEST = "Request"
_RUN = "Run"

#: the request fields given as arguments: what to draw, then the images to work on
_PROMPT = "prompt"
_IMAGE = "image"


# ---------------------------------------------------------------- options (made from the generated client)


HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        metavar="'NAME: VALUE'",
        help="an extra request header (repeatable); credential headers are never printed",
        rich_help_panel=_RUN,
        show_default=False,
    ),
]
DescrOpt = Annotated[
    str | None,
    typer.Option(
        "--descr",
        help="request fields as JSON, a path to a .json file, or {'prompt':'Yellow alpaca','n':1} "
        "(OpenIntegrations' form); explicit options win",
        rich_help_panel=_REQUEST,
        show_default=False,
    ),
]
OutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", metavar="DIR", help="folder for the images (made if missing)", rich_help_panel=_RUN),
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="show the request that would be sent, and its cost; send nothing", rich_help_panel=_RUN
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document instead of text", rich_help_panel=_RUN)]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        min=0,
        help="retries after connection failures, rate limits and 5xx (default: the client's, 2)",
        rich_help_panel=_RUN,
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", help="do not show retries and waits on stderr", rich_help_panel=_RUN),
]


def _argument(field: Field, fields: dict[str, Field]) -> inspect.Parameter:
    """The prompt and the input images are arguments: ``PROMPT``, then ``IMAGE...`` (or the one ``IMAGE``)."""
    if field.name == _PROMPT:
        what = "what to change" if _IMAGE in fields else "what to draw"
        info = typer.Argument(metavar="PROMPT", help=f"{what} (or 'prompt' in --descr)", show_default=False)
        return keyword(field.name, Annotated[str | None, info])
    if field.kind == "files":
        info = typer.Argument(metavar="IMAGE...", help="the input images (PNG, JPEG, WebP)", show_default=False)
        return keyword(field.name, Annotated[list[Path] | None, info])
    info = typer.Argument(metavar="IMAGE", help=escape(field.help) or "the input image", show_default=False)
    return keyword(field.name, Annotated[Path, info], inspect.Parameter.empty)


@dataclass
class Call:
    """One command line, parsed: the operation, the explicit request fields and how to run it."""

    operation: str
    explicit: dict[str, Any]
    connection: Connection = field(default_factory=Connection)
    images: list[Path] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)  # the other file fields: mask, markup, ...
    out: Path = DEFAULT_OUT
    descr: str | None = None
    stream: bool = False
    dry_run: bool = False
    as_json: bool = False
    validate: bool = True
    allow_retired: bool = False
    max_retries: int | None = None
    headers: list[str] = field(default_factory=list)
    quiet: bool = False


def _request_values(operation: str, values: dict[str, Any]) -> dict[str, Any]:
    """The request-field options' values -> ``images``, ``files`` and the explicit fields of a :class:`Call`."""
    fields = request_fields(operation)
    fold_old_spellings(values)
    images: list[Path] = []
    prompt_option = values.pop("prompt_option", None)
    if prompt_option is not None:  # the old `edit IMAGE... --prompt TEXT`: every argument is an image
        given = values.pop(_PROMPT, None)
        values[_PROMPT] = prompt_option
        values[_IMAGE] = [Path(given), *(values.get(_IMAGE) or ())] if given is not None else values.get(_IMAGE)
    explicit: dict[str, Any] = {}
    files: dict[str, Path] = {}
    stream = False
    for name, item in fields.items():
        value = values.pop(name, None)
        if name == "stream":
            stream = bool(value)
        elif item.kind in ("file", "files") and name == _IMAGE:
            images = [Path(v) for v in value] if isinstance(value, list) else ([Path(value)] if value else [])
        elif item.kind == "file":
            if value is None:
                continue
            if item.by_reference and str(value).startswith(URL_SCHEMES):
                explicit[name] = reference(str(value))
            else:
                files[name] = Path(value)
        elif item.kind == "reference":
            explicit[name] = reference(value) if value is not None else None
        elif item.kind == "references":
            explicit[name] = [reference(v) for v in value] if value else None
        elif item.kind == "object" and value is not None:
            explicit[name] = json_object(name, value)
        else:
            explicit[name] = value
    return {**values, "explicit": explicit, "images": images, "files": files, "stream": stream}


def _command(operation: str, name: str) -> Callable[..., int]:
    """The command function of ``operation``: run options written here, request fields made from the client."""

    def command(
        connection: Connection,
        explicit: dict[str, Any],
        images: list[Path],
        files: dict[str, Path],
        stream: bool,
        header: HeaderOpt = None,
        descr: DescrOpt = None,
        out: OutOpt = DEFAULT_OUT,
        dry_run: DryRunOpt = False,
        as_json: JsonOpt = False,
        no_validate: NoValidateOpt = False,
        allow_retired: AllowRetiredOpt = False,
        max_retries: RetriesOpt = None,
        quiet: QuietOpt = False,
    ) -> int:
        return run(
            Call(
                operation,
                explicit,
                connection=connection,
                images=images,
                files=files,
                out=out,
                descr=descr,
                stream=stream,
                dry_run=dry_run,
                as_json=as_json,
                validate=not no_validate,
                allow_retired=allow_retired,
                max_retries=max_retries,
                headers=list(header or ()),
                quiet=quiet,
            )
        )

    fields = request_fields(operation)
    arguments = [_argument(f, fields) for f in fields.values() if f.name in (_PROMPT, _IMAGE)]
    options = [
        p for f in fields.values() if f.name not in {a.name for a in arguments} for p in option(f, panel=_REQUEST)
    ]
    if _PROMPT in fields and _IMAGE in fields:  # `edit IMAGE... --prompt TEXT`, as earlier versions took it
        options.append(keyword("prompt_option", Annotated[str | None, typer.Option("--prompt", "-p", hidden=True)]))
    command.__name__ = name
    with_fields = extend(
        command,
        [*arguments, *options],
        lambda values: _request_values(operation, values),
        drop=("explicit", "images", "files", "stream"),
    )
    return with_connection()(with_fields)


def _epilog(operation: str) -> str:
    offering = [model.id for model in MODELS.values() if operation in model.operations]
    return escape(f"Models for {operation}: {', '.join(offering)}.\n\n{exits.SUMMARY}")


def _app(operation: str, name: str, help_: str) -> typer.Typer:
    app = typer.Typer(add_completion=False, rich_markup_mode="rich")
    app.command(name, help=help_, epilog=_epilog(operation))(_command(operation, name))
    return app


generate_app = _app("generations", "generate", "Generate images from a prompt and save them.")
edit_app = _app(
    "edits", "edit", "Edit one or more images with a prompt (and a mask); save the results. PROMPT comes first."
)
vary_app = _app("variations", "vary", "Make variations of an image (dall-e-2) and save them.")


# ---------------------------------------------------------------- output


class _Output:
    """Where results and problems go: text (rich, no hard wrapping) or one JSON document; always redacted."""

    def __init__(self, *, as_json: bool, redact: Redactor) -> None:
        self.as_json = as_json
        self.redact = redact
        self.out = Console(file=sys.stdout, soft_wrap=True, highlight=False, markup=False, emoji=False)
        self.err = Console(file=sys.stderr, soft_wrap=True, highlight=False, markup=False, emoji=False)

    def say(self, text: str, style: str | None = None) -> None:
        self.out.print(self.redact(text), style=style)

    def note(self, text: str, style: str | None = None) -> None:
        self.err.print(self.redact(text), style=style)

    def document(self, doc: dict[str, Any]) -> None:
        sys.stdout.write(self.redact(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n")
        sys.stdout.flush()

    def fail(
        self,
        code: int,
        kind: str,
        message: str,
        *,
        rule: str | None = None,
        field: str | None = None,
        allowed: Any = None,
        details: dict[str, Any] | None = None,
        sent: bool = False,
    ) -> int:
        """Report a problem on stderr (and as the JSON document with --json); return the exit code.

        The client's messages are turned into command-line words here (``--no-validate``, not ``validate=False``).
        """
        message = cli_words(message)
        details = {
            name: cli_words(value) if isinstance(value, str) else value for name, value in (details or {}).items()
        }
        allowed_text = _allowed(allowed)
        self.note(f"error: {message}", style="bold red")
        if rule:
            where = f" (field {field})" if field else ""
            self.note(f"  rule: {rule}{where}")
        if allowed_text:
            self.note(f"  allowed: {allowed_text}")
        for name, value in (details or {}).items():
            if value not in (None, ""):
                self.note(f"  {name}: {value}")
        if not sent:
            self.note("  nothing was sent.")
        if self.as_json:
            error: dict[str, Any] = {"kind": kind, "message": message, "exit_code": code, "sent": sent}
            if rule:
                error.update(rule=rule, field=field, allowed=_allowed_list(allowed))
            error.update({k: v for k, v in (details or {}).items() if v not in (None, "")})
            self.document({"ok": False, "error": error})
        return code


def _allowed_list(allowed: Any) -> list[str] | str | None:
    if allowed is None:
        return None
    if isinstance(allowed, (list, tuple, set, frozenset)):
        return [str(item) for item in allowed]
    return str(allowed)


def _allowed(allowed: Any) -> str:
    listed = _allowed_list(allowed)
    if listed is None:
        return ""
    return ", ".join(listed) if isinstance(listed, list) else listed


def _estimate(estimate: Estimate) -> dict[str, Any]:
    return {
        "usd": estimate.usd,
        "per_image": estimate.per_image,
        "n": estimate.n,
        "provider": estimate.provider,
        "model": estimate.model,
        "size": estimate.size,
        "quality": estimate.quality,
        "text": _cost_text(estimate),
    }


def _cost_text(estimate: Estimate) -> str:
    return str(estimate).replace("(Client(provider=...))", "(--provider)")


@contextlib.contextmanager
def _quiet_client_log() -> Iterator[None]:
    """The client logs contract deviations; here they are printed with the results instead."""
    logger = logging.getLogger("imagewire_client")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


class _Progress:
    """A rich progress display on stderr (only on a terminal): a request, then images fetched or streamed."""

    def __init__(self, console: Console, *, what: str) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.progress.add_task(what, total=None)

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, description: str, *, total: int | None = None, completed: int | None = None) -> None:
        self.progress.update(self.task, description=description, total=total, completed=completed)

    def advance(self) -> None:
        self.progress.advance(self.task)

    def on_response(self, response: httpx.Response) -> None:
        """httpx response hook: every successful GET is an image downloaded."""
        if response.request.method == "GET" and response.is_success:
            self.advance()


# ---------------------------------------------------------------- running a call


def _redactor(call: Call) -> Redactor:
    """Knows the key given and the value of every key variable of the catalog that is set."""
    return Redactor(call.connection.api_key, *(os.environ.get(name) for name in key_variables()))


def run(call: Call) -> int:
    """Perform one parsed command line; the exit code (see the module documentation)."""
    out = _Output(as_json=call.as_json, redact=_redactor(call))
    with _quiet_client_log(), waits.shown(quiet=call.quiet, redact=out.redact):
        try:
            return _perform(call, out)
        except UsageProblem as problem:
            return out.fail(
                exits.USAGE, "usage", problem.message, rule=problem.rule, field=problem.field, allowed=problem.allowed
            )
        except ValidationError as err:
            return out.fail(
                exits.USAGE,
                "validation",
                err.message,
                rule=err.rule,
                field=err.field,
                allowed=err.allowed,
                details={"model": err.model, "hint": "--no-validate sends the request unchecked"},
            )
        except ResponseContractError as err:
            return out.fail(
                exits.CONTRACT,
                "contract",
                f"the answer breaks the contract: {err}",
                details={"status": err.status_code, "pointer": err.pointer, "request_id": err.request_id},
                sent=True,
            )
        except APIStatusError as err:
            return out.fail(
                exits.PROVIDER,
                "provider",
                f"the provider answered {err}",
                details={"status": err.status_code, "code": err.code, "type": type(err).__name__},
                sent=True,
            )
        except APIConnectionError as err:
            return out.fail(
                exits.PROVIDER,
                "connection",
                f"no answer from the provider: {err}",
                details={"type": type(err).__name__, "outcome": err.outcome},
                sent=err.outcome != "unsent",
            )
        except (ImagewireError, UnknownProviderError) as err:  # configuration: no key, no address, ...
            return out.fail(exits.USAGE, "configuration", str(err), rule="configuration")
        except OSError as err:  # saving failed after the answer arrived; what was written is gone again
            return out.fail(
                exits.USAGE,
                "output",
                f"the images could not be saved to {str(call.out)!r}: {err.strerror or err}; nothing was kept "
                "(the provider answered; the images may have been billed)",
                rule="output",
                field="out",
                sent=True,
            )


def _http(transport: httpx.BaseTransport | None, progress: _Progress | None) -> httpx.Client:
    """The HTTP client the commands use. API calls do not follow redirects (a relay could send the request,
    with its credentials, to another host); image downloads ask to follow them, and carry no credentials."""
    hooks = {"response": [progress.on_response]} if progress is not None else {}
    return httpx.Client(transport=transport, timeout=default_timeout(), follow_redirects=False, event_hooks=hooks)


def _client(call: Call, http: httpx.Client, *, api_key: str | None) -> Client:
    return Client(
        **{**call.connection.client_options(), "api_key": api_key},
        max_retries=DEFAULT_MAX_RETRIES if call.max_retries is None else call.max_retries,
        http_client=http,
        validate=call.validate,
        allow_retired=call.allow_retired,
    )


def _request(call: Call) -> tuple[dict[str, Any], dict[str, Any], bool, list[Input], dict[str, Input]]:
    """Fields to send, unknown --descr keys, whether to stream, the input images and other files: checked locally."""
    _headers(call.headers)
    known = request_fields(call.operation)
    descr = parse(call.descr) if call.descr is not None else {}
    fields, extra = merge(call.operation, descr, call.explicit, validate=call.validate)
    stream = bool(fields.pop("stream", False)) or call.stream
    if "partial_images" in known and fields.get("partial_images") is not None:
        stream = True
    if _PROMPT in known and not fields.get(_PROMPT):
        raise UsageProblem(
            "a prompt is required: give it as the first argument (PROMPT) or as 'prompt' in --descr",
            rule="prompt",
            field=_PROMPT,
        )
    by_reference = any(known[name].kind == "references" and value for name, value in fields.items() if name in known)
    if _IMAGE in known and not call.images and not by_reference:
        also = [option_name(f.name) for f in known.values() if f.kind == "references"]
        where = f"IMAGE arguments after the prompt (or {', '.join(also)} for references)" if also else "IMAGE"
        raise UsageProblem(f"{call.operation} needs an input image: give {where}", rule="image", field=_IMAGE)
    images = [read_input(path, field=_IMAGE, operation=call.operation, limit=call.validate) for path in call.images]
    files = {
        name: read_input(path, field=name, operation=call.operation, limit=call.validate)
        for name, path in call.files.items()
    }
    return fields, extra, stream, images, files


def _headers(items: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or any(c in item for c in "\r\n"):
            raise UsageProblem(f"--header must be 'NAME: VALUE', not {item!r}", rule="header", field="--header")
        headers[name.strip()] = value.strip()
    return headers


def _perform(call: Call, out: _Output) -> int:
    fields, extra, stream, images, files = _request(call)
    folder = OutputFolder(call.out)
    if not call.dry_run:
        folder.probe()
    kwargs: dict[str, Any] = {**fields, "extra_body": extra or None, "extra_headers": _headers(call.headers) or None}
    if images:
        many = request_fields(call.operation)[_IMAGE].kind == "files"
        kwargs[_IMAGE] = [item.part for item in images] if many else images[0].part
    kwargs.update({name: item.part for name, item in files.items()})

    connection = call.connection
    key_env = connection.key_env
    api_key = connection.api_key
    keyless = connection.key() is None and not key_optional(connection.provider)
    if call.dry_run:
        return _dry_run(call, out, kwargs, stream, api_key="" if keyless else api_key, keyless=keyless, key_env=key_env)

    what = f"{call.operation}: {fields.get('n') or 1} x {fields.get('model') or 'default model'}"
    with _Progress(out.err, what=what) as progress, _http(TRANSPORT, progress) as http:
        client = _client(call, http, api_key=api_key)
        estimate = _estimate_for(client, call.operation, fields)
        if not call.as_json:
            out.note(f"estimate: {_cost_text(estimate)}")  # before anything is paid for
        started = time.perf_counter()
        if stream:
            result, partials, events = _streamed(client, call.operation, kwargs, progress)
        else:
            result = _method(client, call.operation)(**kwargs)
            partials, events = None, 0
            inline = sum(1 for image in result.data if image.b64_json or not image.url)
            progress.update("fetching images", total=len(result.data), completed=inline)
        groups = [(result, "image")] + ([(partials, "partial")] if partials is not None and partials.data else [])
        saved = folder.save(groups)
        elapsed = time.perf_counter() - started
    _report(call, out, fields, result, saved, estimate, elapsed=elapsed, events=events)
    return exits.OK


def _method(client: Client, operation: str) -> Any:
    return {
        "generations": client.images.generate,
        "edits": client.images.edit,
        "variations": client.images.create_variation,
    }[operation]


def _estimate_for(client: Client, operation: str, fields: dict[str, Any]) -> Estimate:
    n = fields.get("n")
    return client.images.estimate(
        model=fields.get("model"),
        size=fields.get("size"),
        quality=fields.get("quality"),
        n=n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1,
        operation=operation,
    )


def _streamed(
    client: Client, operation: str, kwargs: dict[str, Any], progress: _Progress
) -> tuple[ImagesResponse, ImagesResponse, int]:
    """Iterate a stream; its final and partial images as two ``ImagesResponse`` (so both save alike)."""
    expected = (kwargs.get("partial_images") or 0) + 1
    progress.update("streaming: 0 partial images", total=expected * (kwargs.get("n") or 1), completed=0)
    finals: list[Any] = []
    partials: list[Any] = []
    events = 0
    for event in _method(client, operation)(**kwargs, stream=True):
        events += 1
        kind = str(getattr(event, "type", ""))
        (partials if kind.endswith(_PARTIAL) else finals).append(event)
        progress.advance()
        progress.update(f"streaming: {len(partials)} partial, {len(finals)} final")
    created = next((e.created_at for e in finals if getattr(e, "created_at", None)), None)
    result = ImagesResponse.from_dict({"created": created, "data": [{"b64_json": e.b64_json} for e in finals]})
    ordered = sorted(partials, key=lambda e: getattr(e, "partial_image_index", 0) or 0)
    partial = ImagesResponse.from_dict({"created": created, "data": [{"b64_json": e.b64_json} for e in ordered]})
    usage = next((e.usage for e in finals if getattr(e, "usage", None) is not None), None)
    result.usage = usage
    result.warnings = [w for e in (*finals, *partials) for w in e.warnings]
    result.quirks = sorted({q for e in (*finals, *partials) for q in e.quirks})
    for name in ("size", "quality", "background", "output_format"):
        value = next((getattr(e, name) for e in finals if getattr(e, name, None)), None)
        setattr(result, name, value)
    return result, partial, events


def _dry_run(
    call: Call, out: _Output, kwargs: dict[str, Any], stream: bool, *, api_key: str | None, keyless: bool, key_env: str
) -> int:
    transport = CaptureTransport()
    with _http(transport, None) as http:
        client = _client(call, http, api_key=api_key)
        estimate = _estimate_for(client, call.operation, kwargs)
        try:
            if stream:
                _method(client, call.operation)(**kwargs, stream=True)
            else:
                _method(client, call.operation)(**kwargs)
        except Captured:
            pass
    if not transport.requests:  # pragma: no cover - the client always sends its request
        raise RuntimeError("the client sent no request to show")
    request = describe(transport.requests[0], out.redact)
    note = f"no API key is set ({key_env} or --api-key): the real call would stop before sending" if keyless else ""
    if call.as_json:
        doc: dict[str, Any] = {
            "ok": True,
            "dry_run": True,
            "sent": False,
            "request": request,
            "cost": _estimate(estimate),
        }
        if note:
            doc["note"] = note
        out.document(doc)
        return exits.OK
    out.say("dry run: this request would be sent (nothing was)", style="bold")
    out.say(f"{request['method']} {request['url']}")
    for name, value in request["headers"].items():
        out.say(f"{name}: {value}")
    out.say("")
    body = request["body"]
    if isinstance(body, dict) and "multipart" in body:
        out.say(f"multipart/form-data, {body['bytes']:,} bytes:")
        for part in body["multipart"]:
            if "filename" in part:
                out.say(f"  {part['name']}: file {part['filename']!r}, {part['content_type']}, {part['bytes']:,} bytes")
            else:
                out.say(f"  {part['name']}: {part['value']}")
    else:
        out.say(json.dumps(body, indent=2, ensure_ascii=False))
    out.say("")
    out.say(f"cost: {_cost_text(estimate)}")
    if note:
        out.note(f"note: {note}", style="yellow")
    return exits.OK


def _report(
    call: Call,
    out: _Output,
    fields: dict[str, Any],
    result: ImagesResponse,
    saved: list[list[Path]],
    estimate: Estimate,
    *,
    elapsed: float,
    events: int,
) -> None:
    paths = saved[0]
    partial_paths = saved[1] if len(saved) > 1 else []
    images = []
    for path, image in zip(paths, result.data, strict=False):
        info = sniff(path.read_bytes())
        images.append(
            {
                "path": str(path),
                "revised_prompt": getattr(image, "revised_prompt", None),
                "format": info.format if info else None,
                "width": info.width if info else None,
                "height": info.height if info else None,
            }
        )
    model = fields.get("model")
    first = images[0] if images else None
    shown = f"{first['width']}x{first['height']}" if first and first["width"] and first["height"] else None
    size = result.size or fields.get("size") or estimate.size or shown
    if call.as_json:
        doc: dict[str, Any] = {
            "ok": True,
            "operation": call.operation,
            "provider": call.connection.provider,
            "model": model,
            "size": size,
            "images": images,
            "cost": _estimate(estimate),
            "actual_usd": getattr(result, "cost", None),
            "usage": result.usage.to_dict() if result.usage is not None else None,
            "warnings": list(result.warnings),
            "quirks": list(result.quirks),
            "seconds": round(elapsed, 3),
        }
        if events:
            doc["stream"] = {"events": events, "partials": [str(p) for p in partial_paths]}
        out.document(doc)
        return
    count = f"{len(images)} image{'s' if len(images) != 1 else ''}"
    out.say(f"saved {count} to {call.out}", style="bold green")
    for entry in images:
        dims = f"{entry['width']}x{entry['height']} " if entry["width"] else ""
        out.say(f"  {entry['path']}  ({dims}{entry['format'] or 'unknown format'})")
        if entry["revised_prompt"]:
            out.say(f"    revised prompt: {entry['revised_prompt']}")
    if partial_paths:
        out.say(f"partial images ({len(partial_paths)} of {events} stream events):")
        for path in partial_paths:
            out.say(f"  {path}")
    facts = [f"model {model or '(default)'}", f"size {size or '(default)'}"]
    if call.connection.provider:
        facts.append(f"provider {call.connection.provider}")
    out.say(" · ".join(facts) + f" · {elapsed:.2f} s")
    actual = getattr(result, "cost", None)
    out.say(f"cost: ${actual:.4f} (actual)" if actual is not None else f"cost: {_cost_text(estimate)}")
    deviations = set(getattr(result, "deviations", result.warnings))
    for warning in result.warnings:
        what = "the answer deviates from the contract: " if warning in deviations else ""
        out.note(f"warning: {what}{warning}", style="yellow")
    if result.quirks:
        out.note(f"declared quirks of {call.connection.provider} seen: {', '.join(result.quirks)}")


# ---------------------------------------------------------------- usage errors


def report_usage_error(err: typer.TyperException, args: Sequence[str]) -> int:
    """A usage error (exit 2): the usage line, the message, and for a choice the rule and allowed values."""
    from imagewire.cli import given_keys

    redact = Redactor(*given_keys(args))
    ctx = getattr(err, "ctx", None)
    param = getattr(err, "param", None)
    allowed = getattr(getattr(param, "type", None), "choices", None)
    out = _Output(as_json="--json" in args, redact=redact)
    if ctx is not None:
        out.note(ctx.get_usage())
        out.note(f"Try '{ctx.command_path} --help' for help.")
    opts = "/".join(getattr(param, "opts", ()) or ())
    code = int(getattr(err, "exit_code", exits.USAGE) or exits.USAGE)
    return out.fail(
        code,
        "usage",
        err.format_message(),
        rule="values" if allowed else "usage",
        field=opts or None,
        allowed=list(allowed) if allowed else None,
    )
