"""``imagewire record``: one call through the generated client with a recording transport, written as a
scrubbed cassette.

``imagewire record OUT [--provider P] [--base-url URL] [--api-key KEY] [--model M] [--prompt TEXT]
[--size S] [--operation generations|edits|variations] [--image FILE...] [--mask FILE] [--stream]
[--append] [--setting NAME=VALUE...]``. Exit status: 0 the provider answered with images; 2 nothing was
sent (a usage problem, a model rule the request breaks, no key); 3 the provider answered an error
status or not at all (recorded: recording failures is the point); 4 it answered 2xx with something
that breaks the contract (recorded).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx

from imagewire.record.recordings import load
from imagewire.record.transport import Recorder, RecordingTransport

__all__ = ["add_setting_flags", "consume", "main", "parse_settings"]

#: exit statuses of ``imagewire record`` (as ``imagewire generate``)
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PROVIDER = 3
EXIT_CONTRACT = 4

#: A seam for tests: when set, ``imagewire record`` sends through this transport instead of the network.
TRANSPORT: httpx.BaseTransport | None = None


#: --setting names (as the client takes them) -> the client's keyword
_SETTING_ALIASES = {"api-version": "api_version", "openai-organization": "organization", "openai-project": "project"}
SETTINGS = ("resource", "deployment", "api_version", "organization", "project")


def add_setting_flags(parser: Any) -> None:
    """``--resource``, ``--deployment``, ``--api-version``: shorthands for ``--setting`` (as ``generate`` has them)."""
    for name in ("resource", "deployment", "api_version"):
        flag = "--" + name.replace("_", "-")
        parser.add_argument(
            flag,
            dest="setting",
            action="append",
            metavar=name.upper(),
            type=lambda value, name=name: f"{name}={value}",
            help=f"the provider setting {name} (same as --setting {name}=...)",
        )


def parse_settings(items: Iterable[str]) -> dict[str, str]:
    """``["resource=x", "api-version=2025-04-01-preview"]`` -> the client's keywords; ``ValueError`` otherwise."""
    settings: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        key = name.strip().lower().replace(" ", "")
        key = _SETTING_ALIASES.get(key, key.replace("-", "_"))
        if not sep or not key:
            raise ValueError(f"--setting expects NAME=VALUE, got {item!r}")
        if key not in SETTINGS:
            raise ValueError(f"unknown setting {name.strip()!r}; known: {', '.join(SETTINGS)}")
        settings[key] = value.strip()
    return settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imagewire record",
        description="Make one call through the generated client and record it as a scrubbed VCR cassette "
        "(errors are recorded too).",
        epilog="Exit status: 0 images; 2 nothing sent (usage, model rule, no key); "
        "3 error status or no answer (recorded); 4 an answer that breaks the contract (recorded).",
    )
    parser.add_argument("out", metavar="OUT", help="the cassette to write (.yaml); a folder gets a timestamped name")
    parser.add_argument("--provider", metavar="P", help="provider preset (address, auth, key variable, models)")
    parser.add_argument("--base-url", "--url", metavar="URL", help="the API's base URL (overrides the preset's)")
    parser.add_argument(
        "--api-key",
        "--token",
        metavar="KEY",
        help="the key (default: the provider's key variable); never printed or written",
    )
    parser.add_argument(
        "--setting",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help=f"a provider setting ({', '.join(SETTINGS)}); repeatable, e.g. --setting api_version=2025-04-01-preview",
    )
    add_setting_flags(parser)
    parser.add_argument("--operation", choices=("generations", "edits", "variations"), default="generations")
    parser.add_argument("--model", metavar="M", help="model id")
    parser.add_argument("--prompt", metavar="TEXT", default="A red circle on a white background")
    parser.add_argument("--size", metavar="S", help="size, e.g. 1024x1024")
    parser.add_argument("--n", type=int, metavar="N", help="number of images")
    parser.add_argument("--quality", metavar="Q", help="quality (low, standard, ...)")
    parser.add_argument(
        "--response-format", "--format", choices=("url", "b64_json"), help="DALL-E models: url or b64_json"
    )
    parser.add_argument("--image", metavar="FILE", nargs="+", default=[], help="input image(s): edits, variations")
    parser.add_argument("--mask", metavar="FILE", help="mask image (edits)")
    parser.add_argument("--stream", action="store_true", help="stream the answer (GPT image models)")
    parser.add_argument("--partial-images", type=int, metavar="N", help="partial images of a stream (0-3)")
    parser.add_argument("--append", action="store_true", help="add to OUT instead of replacing it")
    parser.add_argument("--no-validate", action="store_true", help="skip the client's model checks; send anyway")
    parser.add_argument("--allow-retired", action="store_true", help="accept models retired at their vendor")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS", help="read timeout (default 300)")
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    """``imagewire record``: one call, recorded; the exit status says how it went (see the module doc)."""
    from imagewire.cli.common import Redactor
    from imagewire_client import (
        APIConnectionError,
        APIStatusError,
        Client,
        ImagewireError,
        ResponseContractError,
        ValidationError,
        catalog,
    )

    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    known = args.provider if args.provider in catalog.PROVIDERS else None
    api_key = catalog.api_key(known, args.api_key)
    redact = Redactor(api_key)

    def say(text: str, *, err: bool = False) -> None:
        print(redact(text), file=sys.stderr if err else sys.stdout, flush=True)

    try:
        settings = parse_settings(args.setting)
    except ValueError as problem:
        say(f"imagewire record: {problem}", err=True)
        return EXIT_USAGE
    if args.operation in ("edits", "variations") and not args.image:
        say(f"imagewire record: {args.operation} needs --image FILE", err=True)
        return EXIT_USAGE
    if args.operation == "variations" and len(args.image) > 1:
        say("imagewire record: variations take one --image", err=True)
        return EXIT_USAGE
    for file in [*args.image, *([args.mask] if args.mask else [])]:
        if not Path(file).is_file():
            say(f"imagewire record: no such file: {file}", err=True)
            return EXIT_USAGE
    target = _target(args.out, args.operation)
    if args.append and target.exists():
        existing = load(target)
        if existing.errors or existing.format != "cassette":
            say(f"imagewire record: cannot append to {target}: not a readable cassette", err=True)
            return EXIT_USAGE

    recorder = Recorder(str(target), secrets=[api_key])
    inner = TRANSPORT if TRANSPORT is not None else httpx.HTTPTransport()
    transport = RecordingTransport(inner, recorder=recorder)
    http = httpx.Client(transport=transport, timeout=httpx.Timeout(args.timeout, connect=10.0))
    try:
        client = Client(
            provider=args.provider,
            base_url=args.base_url,
            api_key=api_key,
            http_client=http,
            max_retries=0,
            validate=not args.no_validate,
            allow_retired=args.allow_retired,
            resource=settings.get("resource"),
            deployment=settings.get("deployment"),
            api_version=settings.get("api_version"),
            organization=settings.get("organization"),
            project=settings.get("project"),
        )
    except ImagewireError as problem:
        http.close()
        say(f"imagewire record: {problem}", err=True)
        return EXIT_USAGE

    size = args.size
    say(f"{args.operation} {args.model or '(no model)'} at {client.base_url}")
    fields: dict[str, Any] = {"model": args.model, "n": args.n, "size": size}
    if args.quality:
        fields["quality"] = args.quality
    if args.response_format:
        fields["response_format"] = args.response_format
    stream = bool(args.stream or args.partial_images is not None)
    if stream and args.operation != "variations":
        fields["stream"] = True
        if args.partial_images is not None:
            fields["partial_images"] = args.partial_images
    images: Any = client.images
    code = EXIT_OK
    try:
        estimate = images.estimate(
            model=args.model, size=size, quality=args.quality, n=args.n or 1, operation=args.operation
        )  # checks the values first, as the call does
        say(f"estimate: {estimate}")
        if args.operation == "generations":
            result = images.generate(prompt=args.prompt, **fields)
        elif args.operation == "edits":
            image: Any = [Path(p) for p in args.image] if len(args.image) > 1 else Path(args.image[0])
            mask = Path(args.mask) if args.mask else None
            result = images.edit(prompt=args.prompt, image=image, mask=mask, **fields)
        else:
            fields.pop("stream", None)
            result = images.create_variation(image=Path(args.image[0]), **fields)
        say(f"answer: {consume(result, stream and args.operation != 'variations')}")
    except ValidationError as problem:
        say(f"imagewire record: not sent: {problem}", err=True)
        code = EXIT_USAGE
    except ResponseContractError as problem:
        say(f"the answer breaks the contract: {problem}", err=True)
        code = EXIT_CONTRACT
    except APIStatusError as problem:
        say(f"the provider answered {problem.status_code}: {problem}", err=True)
        code = EXIT_PROVIDER
    except APIConnectionError as problem:
        say(f"no answer: {problem}", err=True)
        code = EXIT_PROVIDER
    except ImagewireError as problem:
        say(f"imagewire record: {problem}", err=True)
        code = EXIT_USAGE if len(recorder) == 0 else EXIT_PROVIDER
    finally:
        http.close()

    for failure in recorder.failures:
        say(f"no answer to {failure}", err=True)
    if not recorder.interactions():
        say("nothing was recorded; no cassette written", err=True)
        return code if code != EXIT_OK else EXIT_PROVIDER
    try:
        path = recorder.save(target, append=args.append, header=f"imagewire record --operation {args.operation}")
    except (OSError, ValueError) as problem:
        say(f"imagewire record: cannot write {target}: {problem}", err=True)
        return EXIT_USAGE
    count = len(recorder.interactions())
    verb = "appended" if args.append else "recorded"
    say(f"{verb} {count} interaction(s) to {path} (scrubbed)")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
