"""``imagewire generate``, ``edit`` and ``vary``: the generated client from the command line.

    imagewire generate "A yellow alpaca" --model gpt-image-1.5 --size 1024x1536 --out pictures/
    imagewire generate --provider bothub --model dall-e-3 --descr "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"
    imagewire edit a.png b.jpg --prompt "Put them in a basket" --mask mask.png --model gpt-image-1.5
    imagewire vary cat.png --model dall-e-2 --allow-retired --provider local --base-url http://127.0.0.1:8765/v1

Every choice an option offers comes from the generated client: the ``Literal`` aliases of
the client's parameter types (``--quality``, ``--format``, ...), the model ids of
``imagewire_client.catalog.MODELS`` and the providers of ``imagewire_client.catalog.PROVIDERS``.
Which model takes which value is the client's check, run before anything is sent.

Exit codes:

====  ==========================================================================================
0     images saved (or, with ``--dry-run``, the request shown)
1     an unexpected failure of this program (a bug; the message says what)
2     a problem on this side; nothing was sent: a usage error, a model rule the request breaks
      (``ValidationError``: the message names the rule and the allowed values), a bad ``--descr``,
      an input image that is missing, not an image or too large, an output folder that cannot be
      written (probed before sending), no API key
3     the provider: an error status (``APIStatusError``) or no answer (``APIConnectionError``)
4     the provider answered 2xx with something that breaks the contract (``ResponseContractError``)
130   interrupted
====  ==========================================================================================

An output folder that fails while saving after a successful call (disk full, a folder that turned
read-only) also exits 2, after removing every file and folder the run made; the images may have been
billed. The API key comes from ``--api-key`` or the provider's key variable (``OPENAI_API_KEY``,
``BOTHUB_API_KEY``, ...) and is never printed: every line of output passes through a redactor that
knows it by value.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from imagewire.cli import waits
from imagewire.cli.common import Redactor, UsageProblem, words
from imagewire.cli.descr import choices, merge, parse
from imagewire.cli.files import Input, OutputFolder, read_input
from imagewire.cli.wire import Captured, CaptureTransport, describe
from imagewire_client import (
    DEFAULT_MAX_RETRIES,
    APIConnectionError,
    APIStatusError,
    Client,
    Estimate,
    ImageBackground,
    ImageInputFidelity,
    ImageModeration,
    ImageOutputFormat,
    ImageQuality,
    ImageResponseFormat,
    ImageSize,
    ImagesResponse,
    ImageStyle,
    ImagewireError,
    ResponseContractError,
    ValidationError,
    default_timeout,
)
from imagewire_client.catalog import MODELS, PROVIDERS, UnknownProviderError, key_variable, key_variables
from imagewire_client.media import sniff

__all__ = [
    "DEFAULT_OUT",
    "EXIT_CONTRACT",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_PROVIDER",
    "EXIT_USAGE",
    "main",
    "main_edit",
    "main_generate",
    "main_vary",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_PROVIDER = 3
EXIT_CONTRACT = 4
EXIT_INTERRUPTED = 130

DEFAULT_OUT = Path("imagewire-output")

#: A seam for tests: when set, every request goes through this transport (e.g. ``httpx.MockTransport``).
TRANSPORT: httpx.BaseTransport | None = None

_OPERATION_OF = {"generate": "generations", "edit": "edits", "vary": "variations"}
_PARTIAL = "partial_image"


# ---------------------------------------------------------------- options (choices from the generated client)


def _check_provider(value: str | None) -> str | None:
    if value is not None and value not in PROVIDERS:
        raise typer.BadParameter(f"unknown provider {value!r}; choose {words(PROVIDERS)}")
    return value


def _complete_models(incomplete: str) -> list[str]:
    return [model for model in MODELS if model.startswith(incomplete)]


_CONNECTION = "Provider"
_REQUEST = "Request"
_RUN = "Run"

ProviderOpt = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help=f"provider preset ({', '.join(PROVIDERS)}): address, auth, key variable, model table, prices. "
        "Without it: the plain client (OPENAI_BASE_URL or api.openai.com, OPENAI_API_KEY).",
        callback=_check_provider,
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url", "--url", help="the API's base URL (overrides the preset's)", rich_help_panel=_CONNECTION
    ),
]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        "--token",
        help="the API key; prefer the provider's key variable (a command line is visible to other users). "
        "Never printed.",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
HeaderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--header",
        "-H",
        metavar="'NAME: VALUE'",
        help="an extra request header (repeatable); credential headers are never printed",
        rich_help_panel=_CONNECTION,
        show_default=False,
    ),
]
ResourceOpt = Annotated[
    str | None, typer.Option("--resource", help="Azure: the resource name", rich_help_panel=_CONNECTION)
]
DeploymentOpt = Annotated[
    str | None, typer.Option("--deployment", help="Azure: the deployment", rich_help_panel=_CONNECTION)
]
ApiVersionOpt = Annotated[
    str | None, typer.Option("--api-version", help="Azure: the API version", rich_help_panel=_CONNECTION)
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="MODEL",
        help="model id (the models below; another id needs --no-validate)",
        autocompletion=_complete_models,
        rich_help_panel=_REQUEST,
    ),
]
SizeOpt = Annotated[
    str | None,
    typer.Option(
        "--size",
        "-s",
        help=f"{', '.join(choices(ImageSize))}, or WxH for models with free sizes (gpt-image-2 and later)",
        rich_help_panel=_REQUEST,
    ),
]
CountOpt = Annotated[int | None, typer.Option("-n", "--n", help="number of images", rich_help_panel=_REQUEST)]
QualityOpt = Annotated[ImageQuality | None, typer.Option("--quality", "-q", rich_help_panel=_REQUEST)]
StyleOpt = Annotated[ImageStyle | None, typer.Option("--style", help="dall-e-3 only", rich_help_panel=_REQUEST)]
FormatOpt = Annotated[
    ImageResponseFormat | None,
    typer.Option(
        "--format", help="response_format (DALL·E models; GPT image models answer b64_json)", rich_help_panel=_REQUEST
    ),
]
OutputFormatOpt = Annotated[ImageOutputFormat | None, typer.Option("--output-format", rich_help_panel=_REQUEST)]
CompressionOpt = Annotated[
    int | None, typer.Option("--output-compression", help="0-100, jpeg or webp only", rich_help_panel=_REQUEST)
]
BackgroundOpt = Annotated[ImageBackground | None, typer.Option("--background", rich_help_panel=_REQUEST)]
ModerationOpt = Annotated[ImageModeration | None, typer.Option("--moderation", rich_help_panel=_REQUEST)]
FidelityOpt = Annotated[ImageInputFidelity | None, typer.Option("--input-fidelity", rich_help_panel=_REQUEST)]
StreamOpt = Annotated[
    bool, typer.Option("--stream", help="stream the answer (GPT image models)", rich_help_panel=_REQUEST)
]
PartialOpt = Annotated[
    int | None,
    typer.Option(
        "--partial-images", help="partial images before the final one (0-3); implies --stream", rich_help_panel=_REQUEST
    ),
]
DescrOpt = Annotated[
    str | None,
    typer.Option(
        "--descr",
        help="request fields as JSON, a path to a .json file, or {'prompt':'Yellow alpaca','n':1} "
        "(OpenIntegrations' form); explicit options win",
        rich_help_panel=_REQUEST,
    ),
]
OutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", help="folder for the images (made if missing)", rich_help_panel=_RUN),
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="show the request that would be sent, and its cost; send nothing", rich_help_panel=_RUN
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON document instead of text", rich_help_panel=_RUN)]
NoValidateOpt = Annotated[
    bool,
    typer.Option("--no-validate", help="skip the model checks and send anyway", rich_help_panel=_RUN),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        min=0,
        help="retries after connection failures, rate limits and 5xx (default: the client's, 2)",
        rich_help_panel=_RUN,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", help="do not show retries and waits on stderr", rich_help_panel=_RUN),
]
AllowRetiredOpt = Annotated[
    bool,
    typer.Option(
        "--allow-retired",
        help="accept models retired at their vendor (providers still serve some)",
        rich_help_panel=_RUN,
    ),
]

_EXIT_CODES = (
    "Exit codes: 0 ok; 2 usage or rule error, input or output file problem (nothing sent); "
    "3 provider error or no answer; 4 answer breaks the contract."
)


def _epilog(operation: str) -> str:
    offering = [model.id for model in MODELS.values() if operation in model.operations]
    return f"Models for {operation}: {', '.join(offering)}.\n\n{_EXIT_CODES}"


@dataclass
class Call:
    """One command line, parsed: the operation, the explicit request fields and how to run it."""

    operation: str
    explicit: dict[str, Any]
    images: list[Path] = field(default_factory=list)
    mask: Path | None = None
    provider: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    settings: dict[str, str | None] = field(default_factory=dict)
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


generate_app = typer.Typer(add_completion=False, rich_markup_mode="rich")
edit_app = typer.Typer(add_completion=False, rich_markup_mode="rich")
vary_app = typer.Typer(add_completion=False, rich_markup_mode="rich")


@generate_app.command(help="Generate images from a prompt and save them.", epilog=_epilog("generations"))
def generate(
    prompt: Annotated[
        str | None, typer.Argument(metavar="PROMPT", help="what to draw (or 'prompt' in --descr)", show_default=False)
    ] = None,
    provider: ProviderOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    header: HeaderOpt = None,
    resource: ResourceOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    model: ModelOpt = None,
    size: SizeOpt = None,
    n: CountOpt = None,
    quality: QualityOpt = None,
    style: StyleOpt = None,
    response_format: FormatOpt = None,
    output_format: OutputFormatOpt = None,
    output_compression: CompressionOpt = None,
    background: BackgroundOpt = None,
    moderation: ModerationOpt = None,
    stream: StreamOpt = False,
    partial_images: PartialOpt = None,
    descr: DescrOpt = None,
    out: OutOpt = DEFAULT_OUT,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    no_validate: NoValidateOpt = False,
    allow_retired: AllowRetiredOpt = False,
    max_retries: RetriesOpt = None,
    quiet: QuietOpt = False,
) -> int:
    explicit = {
        "prompt": prompt,
        "model": model,
        "n": n,
        "size": size,
        "quality": quality,
        "style": style,
        "response_format": response_format,
        "output_format": output_format,
        "output_compression": output_compression,
        "background": background,
        "moderation": moderation,
        "partial_images": partial_images,
    }
    return run(
        Call(
            "generations",
            explicit,
            provider=provider,
            base_url=base_url,
            api_key=api_key,
            settings={"resource": resource, "deployment": deployment, "api_version": api_version},
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


@edit_app.command(help="Edit one or more images with a prompt (and a mask); save the results.", epilog=_epilog("edits"))
def edit(
    image: Annotated[
        list[Path], typer.Argument(metavar="IMAGE...", help="input images (PNG, JPEG, WebP)", show_default=False)
    ],
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", "-p", help="what to change (or 'prompt' in --descr)", rich_help_panel=_REQUEST),
    ] = None,
    mask: Annotated[
        Path | None, typer.Option("--mask", help="mask image: transparent where to edit", rich_help_panel=_REQUEST)
    ] = None,
    provider: ProviderOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    header: HeaderOpt = None,
    resource: ResourceOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    model: ModelOpt = None,
    size: SizeOpt = None,
    n: CountOpt = None,
    quality: QualityOpt = None,
    response_format: FormatOpt = None,
    output_format: OutputFormatOpt = None,
    output_compression: CompressionOpt = None,
    background: BackgroundOpt = None,
    input_fidelity: FidelityOpt = None,
    stream: StreamOpt = False,
    partial_images: PartialOpt = None,
    descr: DescrOpt = None,
    out: OutOpt = DEFAULT_OUT,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    no_validate: NoValidateOpt = False,
    allow_retired: AllowRetiredOpt = False,
    max_retries: RetriesOpt = None,
    quiet: QuietOpt = False,
) -> int:
    explicit = {
        "prompt": prompt,
        "model": model,
        "n": n,
        "size": size,
        "quality": quality,
        "response_format": response_format,
        "output_format": output_format,
        "output_compression": output_compression,
        "background": background,
        "input_fidelity": input_fidelity,
        "partial_images": partial_images,
    }
    return run(
        Call(
            "edits",
            explicit,
            images=list(image),
            mask=mask,
            provider=provider,
            base_url=base_url,
            api_key=api_key,
            settings={"resource": resource, "deployment": deployment, "api_version": api_version},
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


@vary_app.command(help="Make variations of an image (dall-e-2) and save them.", epilog=_epilog("variations"))
def vary(
    image: Annotated[
        Path, typer.Argument(metavar="IMAGE", help="the image to vary (a square PNG)", show_default=False)
    ],
    provider: ProviderOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    header: HeaderOpt = None,
    resource: ResourceOpt = None,
    deployment: DeploymentOpt = None,
    api_version: ApiVersionOpt = None,
    model: ModelOpt = None,
    size: SizeOpt = None,
    n: CountOpt = None,
    response_format: FormatOpt = None,
    descr: DescrOpt = None,
    out: OutOpt = DEFAULT_OUT,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
    no_validate: NoValidateOpt = False,
    allow_retired: AllowRetiredOpt = False,
    max_retries: RetriesOpt = None,
    quiet: QuietOpt = False,
) -> int:
    explicit = {"model": model, "n": n, "size": size, "response_format": response_format}
    return run(
        Call(
            "variations",
            explicit,
            images=[image],
            provider=provider,
            base_url=base_url,
            api_key=api_key,
            settings={"resource": resource, "deployment": deployment, "api_version": api_version},
            out=out,
            descr=descr,
            dry_run=dry_run,
            as_json=as_json,
            validate=not no_validate,
            allow_retired=allow_retired,
            max_retries=max_retries,
            headers=list(header or ()),
            quiet=quiet,
        )
    )


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
        """Report a problem on stderr (and as the JSON document with --json); return the exit code."""
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
    return Redactor(call.api_key, *(os.environ.get(name) for name in sorted(key_variables())))


def run(call: Call) -> int:
    """Perform one parsed command line; the exit code (see the module documentation)."""
    out = _Output(as_json=call.as_json, redact=_redactor(call))
    with _quiet_client_log(), waits.shown(quiet=call.quiet, redact=out.redact):
        try:
            return _perform(call, out)
        except UsageProblem as problem:
            return out.fail(
                EXIT_USAGE, "usage", problem.message, rule=problem.rule, field=problem.field, allowed=problem.allowed
            )
        except ValidationError as err:
            return out.fail(
                EXIT_USAGE,
                "validation",
                err.message,
                rule=err.rule,
                field=err.field,
                allowed=err.allowed,
                details={"model": err.model, "hint": "--no-validate sends the request unchecked"},
            )
        except ResponseContractError as err:
            return out.fail(
                EXIT_CONTRACT,
                "contract",
                f"the answer breaks the contract: {err}",
                details={"status": err.status_code, "pointer": err.pointer, "request_id": err.request_id},
                sent=True,
            )
        except APIStatusError as err:
            return out.fail(
                EXIT_PROVIDER,
                "provider",
                f"the provider answered {err}",
                details={"status": err.status_code, "code": err.code, "type": type(err).__name__},
                sent=True,
            )
        except APIConnectionError as err:
            return out.fail(
                EXIT_PROVIDER,
                "connection",
                f"no answer from the provider: {err}",
                details={"type": type(err).__name__, "outcome": err.outcome},
                sent=err.outcome != "unsent",
            )
        except (ImagewireError, UnknownProviderError) as err:  # configuration: no key, no address, ...
            return out.fail(EXIT_USAGE, "configuration", str(err), rule="configuration")
        except OSError as err:  # saving failed after the answer arrived; what was written is gone again
            return out.fail(
                EXIT_USAGE,
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
        max_retries=DEFAULT_MAX_RETRIES if call.max_retries is None else call.max_retries,
        provider=call.provider,
        base_url=call.base_url,
        api_key=api_key,
        http_client=http,
        validate=call.validate,
        allow_retired=call.allow_retired,
        resource=call.settings.get("resource"),
        deployment=call.settings.get("deployment"),
        api_version=call.settings.get("api_version"),
    )


def _request(call: Call) -> tuple[dict[str, Any], dict[str, Any], bool, list[Input], Input | None]:
    """Fields to send, unknown --descr keys, whether to stream, and the input images: all checked locally."""
    _headers(call.headers)
    descr = parse(call.descr) if call.descr is not None else {}
    fields, extra = merge(call.operation, descr, call.explicit, validate=call.validate)
    stream = bool(fields.pop("stream", False)) or call.stream
    if call.operation != "variations" and fields.get("partial_images") is not None:
        stream = True
    if call.operation != "variations" and not fields.get("prompt"):
        where = "a PROMPT argument" if call.operation == "generations" else "--prompt"
        raise UsageProblem(f"a prompt is required: give {where} or 'prompt' in --descr", rule="prompt", field="prompt")
    images = [read_input(path, field="image", operation=call.operation, limit=call.validate) for path in call.images]
    mask = read_input(call.mask, field="mask", operation=call.operation, limit=call.validate) if call.mask else None
    return fields, extra, stream, images, mask


def _headers(items: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or any(c in item for c in "\r\n"):
            raise UsageProblem(f"--header must be 'NAME: VALUE', not {item!r}", rule="header", field="--header")
        headers[name.strip()] = value.strip()
    return headers


def _perform(call: Call, out: _Output) -> int:
    fields, extra, stream, images, mask = _request(call)
    folder = OutputFolder(call.out)
    if not call.dry_run:
        folder.probe()
    kwargs: dict[str, Any] = {**fields, "extra_body": extra or None, "extra_headers": _headers(call.headers) or None}
    if call.operation == "edits":
        kwargs["image"] = [item.part for item in images]
        if mask is not None:
            kwargs["mask"] = mask.part
    elif call.operation == "variations":
        kwargs["image"] = images[0].part

    preset = PROVIDERS.get(call.provider) if call.provider is not None else None
    key_env = key_variable(preset)
    api_key = call.api_key
    keyless = api_key is None and not os.environ.get(key_env) and not (preset is not None and not preset.key_required)
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
    return EXIT_OK


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
        return EXIT_OK
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
    return EXIT_OK


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
            "provider": call.provider,
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
    if call.provider:
        facts.append(f"provider {call.provider}")
    out.say(" · ".join(facts) + f" · {elapsed:.2f} s")
    actual = getattr(result, "cost", None)
    out.say(f"cost: ${actual:.4f} (actual)" if actual is not None else f"cost: {_cost_text(estimate)}")
    deviations = set(getattr(result, "deviations", result.warnings))
    for warning in result.warnings:
        what = "the answer deviates from the contract: " if warning in deviations else ""
        out.note(f"warning: {what}{warning}", style="yellow")
    if result.quirks:
        out.note(f"declared quirks of {call.provider} seen: {', '.join(result.quirks)}")


# ---------------------------------------------------------------- entry points


def _invoke(app: typer.Typer, name: str, argv: Sequence[str]) -> int:
    args = list(argv)
    command = typer.main.get_command(app)
    try:
        code = command.main(args=args, prog_name=f"imagewire {name}", standalone_mode=False)
    except typer.TyperException as err:  # usage errors: bad option, bad choice, missing argument
        return _usage_error(err, args)
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # a bug: say what, without a traceback full of locals (the key is one of them)
        if os.environ.get("IMAGEWIRE_DEBUG"):
            raise
        redact = _redactor(Call(_OPERATION_OF[name], {}, api_key=_given_key(args)))
        print(redact(f"imagewire {name}: internal error: {type(err).__name__}: {err}"), file=sys.stderr)
        return EXIT_INTERNAL
    return code if isinstance(code, int) else EXIT_OK


def _given_key(args: Sequence[str]) -> str | None:
    for index, arg in enumerate(args):
        for option in ("--api-key", "--token"):
            if arg == option and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(option + "="):
                return arg.partition("=")[2]
    return None


def _usage_error(err: typer.TyperException, args: Sequence[str]) -> int:
    """A usage error (exit 2): the usage line, the message, and for a choice the rule and allowed values."""
    redact = Redactor(_given_key(args))
    ctx = getattr(err, "ctx", None)
    param = getattr(err, "param", None)
    allowed = getattr(getattr(param, "type", None), "choices", None)
    out = _Output(as_json="--json" in args, redact=redact)
    if ctx is not None:
        out.note(ctx.get_usage())
        out.note(f"Try '{ctx.command_path} --help' for help.")
    opts = "/".join(getattr(param, "opts", ()) or ())
    code = int(getattr(err, "exit_code", EXIT_USAGE) or EXIT_USAGE)
    return out.fail(
        code,
        "usage",
        err.format_message(),
        rule="values" if allowed else "usage",
        field=opts or None,
        allowed=list(allowed) if allowed else None,
    )


def main_generate(argv: Sequence[str] | None = None) -> int:
    return _invoke(generate_app, "generate", sys.argv[1:] if argv is None else argv)


def main_edit(argv: Sequence[str] | None = None) -> int:
    return _invoke(edit_app, "edit", sys.argv[1:] if argv is None else argv)


def main_vary(argv: Sequence[str] | None = None) -> int:
    return _invoke(vary_app, "vary", sys.argv[1:] if argv is None else argv)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m imagewire.cli.images generate|edit|vary ...``."""
    args = list(sys.argv[1:] if argv is None else argv)
    entries = {"generate": main_generate, "edit": main_edit, "vary": main_vary}
    if not args or args[0] not in entries:
        print("usage: python -m imagewire.cli.images generate|edit|vary [ARGS]...", file=sys.stderr)
        return EXIT_USAGE
    return entries[args[0]](args[1:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
