"""Record traffic to a provider as scrubbed cassettes: a recording httpx transport and ``imagewire record``.

:class:`RecordingTransport` (and :class:`AsyncRecordingTransport`) wrap the transport that really sends
(``httpx.HTTPTransport()`` by default) and keep every request and its response as an
:class:`~imagewire.record.recordings.Interaction`. The request body is read before it is forwarded; the
response body is captured *as the caller reads it* (a streamed ``text/event-stream`` answer included),
so the caller sees no difference. An answer that is cut off (the connection drops mid-body, or the
caller closes it early) is kept with the bytes that did arrive and a ``X-Imagewire-Recorder`` response
header saying so; a request that got no answer at all is kept in :attr:`Recorder.failures`.

:meth:`Recorder.save` writes a VCR cassette (the format ``imagewire check --replay``, vcrpy and
pytest-recording read) **scrubbed** by :func:`imagewire.record.scrub.scrub`: credentials, signed-URL
values, JWTs, API keys and images (replaced by tiny images with their sha256 kept). Known secrets (the
API key in use, of any shape) are also replaced wherever they appear. ``scrub=False`` writes the
traffic as it was: it exists for tests of this module, warns (:class:`UnscrubbedCassetteWarning`) and
marks the file.

The same scrubber serves vcrpy / pytest-recording: :func:`vcr_before_record_request` and
:func:`vcr_before_record_response` are ``before_record_request`` / ``before_record_response`` hooks.

``imagewire record OUT [--provider P] [--base-url URL] [--api-key KEY] [--model M] [--prompt TEXT]
[--size S] [--operation generations|edits|variations] [--image FILE...] [--mask FILE] [--stream]
[--append] [--setting NAME=VALUE...]`` makes one call through the generated client with a recording
transport and writes the cassette. Exit status: 0 the provider answered with images; 2 nothing was
sent (a usage problem, a model rule the request breaks, no key); 3 the provider answered an error
status or not at all (recorded: recording failures is the point); 4 it answered 2xx with something
that breaks the contract (recorded).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from imagewire.record.recordings import Headers, Interaction, load, write_cassette
from imagewire.record.scrub import REDACTED
from imagewire.record.scrub import scrub as scrub_interaction

__all__ = [
    "INCOMPLETE_HEADER",
    "AsyncRecordingTransport",
    "Failure",
    "Recorder",
    "RecordingTransport",
    "UnscrubbedCassetteWarning",
    "consume",
    "main",
    "parse_settings",
    "redact_values",
    "vcr_before_record_request",
    "vcr_before_record_response",
]

#: the response header the recorder adds to an answer whose body did not arrive whole
INCOMPLETE_HEADER = "X-Imagewire-Recorder"

#: exit statuses of ``imagewire record`` (as ``imagewire generate``)
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PROVIDER = 3
EXIT_CONTRACT = 4

#: A seam for tests: when set, ``imagewire record`` sends through this transport instead of the network.
TRANSPORT: httpx.BaseTransport | None = None

SCRUBBED_NOTE = "scrubbed: credentials, signed-URL values, JWTs and API keys replaced; images replaced by tiny ones"
UNSCRUBBED_NOTE = (
    "UNSCRUBBED - written with scrub=False, for tests only: this file may hold credentials and whole images. "
    "Never commit it."
)


class UnscrubbedCassetteWarning(UserWarning):
    """A cassette was written without scrubbing (``scrub=False``)."""


@dataclass(frozen=True)
class Failure:
    """A request that got no answer (connection refused, timeout before the headers, ...)."""

    index: int
    method: str
    url: str
    error: str

    def __str__(self) -> str:
        return f"{self.method} {self.url}: no answer ({self.error})"


# ---------------------------------------------------------------- capturing


def _raw_headers(headers: httpx.Headers) -> Headers:
    return tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw)


def _reason(response: httpx.Response) -> str:
    phrase = response.extensions.get("reason_phrase")
    if isinstance(phrase, bytes) and phrase:
        return phrase.decode("latin-1")
    return response.reason_phrase


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


@dataclass
class _Entry:
    index: int
    method: str
    url: str
    request_headers: Headers
    request_body: bytes
    status: int | None = None
    reason: str = ""
    response_headers: Headers = ()
    chunks: list[bytes] = field(default_factory=list)
    #: None while the body is being read; "" when it was read to its end; else why it is incomplete
    ending: str | None = None
    error: str | None = None  # no answer at all

    def interaction(self, source: str) -> Interaction | None:
        if self.status is None:
            return None
        headers = self.response_headers
        ending = self.ending if self.ending is not None else "the body was not read to its end"
        if ending:
            headers = (*headers, (INCOMPLETE_HEADER, f"incomplete; {ending}"))
        return Interaction(
            source=source,
            index=self.index,
            method=self.method,
            url=self.url,
            request_headers=self.request_headers,
            request_body=self.request_body,
            status=self.status,
            reason=self.reason,
            response_headers=headers,
            response_body=b"".join(self.chunks),
        )


class Recorder:
    """Every request a recording transport forwarded, with its response as far as it was read.

    One recorder may serve several transports (sync and async, several clients); it is thread-safe.
    ``secrets`` are values (the API key in use) replaced by ``REDACTED`` wherever they appear when saving.
    """

    def __init__(self, source: str = "live", *, secrets: Iterable[str | None] = ()) -> None:
        self.source = source
        self._entries: list[_Entry] = []
        self._lock = threading.Lock()
        self.secrets: list[str] = []
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str | None) -> None:
        """A value to replace wherever it appears when saving (keys of any shape; at least 4 characters)."""
        if secret and len(secret) >= 4 and secret not in self.secrets:
            self.secrets.append(secret)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    # -- what the transports call

    def begin(self, request: httpx.Request, body: bytes) -> _Entry:
        with self._lock:
            entry = _Entry(len(self._entries), request.method, str(request.url), _raw_headers(request.headers), body)
            self._entries.append(entry)
        return entry

    def answered(self, entry: _Entry, response: httpx.Response) -> None:
        with self._lock:
            entry.status = response.status_code
            entry.reason = _reason(response)
            entry.response_headers = _raw_headers(response.headers)

    def failed(self, entry: _Entry, err: BaseException) -> None:
        with self._lock:
            entry.error = _describe(err)

    def chunk(self, entry: _Entry, data: bytes) -> None:
        with self._lock:
            entry.chunks.append(bytes(data))

    def end(self, entry: _Entry, why: str = "") -> None:
        """The body ended: read whole (``why == ""``) or cut off (``why`` says how). The first ending counts."""
        with self._lock:
            if entry.ending is None:
                entry.ending = why

    # -- what callers read

    def interactions(self, start: int = 0) -> list[Interaction]:
        """The interactions recorded so far (from index ``start``), in the order the requests were sent."""
        with self._lock:
            entries = list(self._entries[start:])
            return [item for entry in entries if (item := entry.interaction(self.source)) is not None]

    @property
    def failures(self) -> list[Failure]:
        """Requests that got no answer."""
        with self._lock:
            return [Failure(e.index, e.method, e.url, e.error) for e in self._entries if e.error is not None]

    def failures_since(self, start: int) -> list[Failure]:
        return [f for f in self.failures if f.index >= start]

    def scrubbed(self, interactions: Iterable[Interaction] | None = None) -> list[Interaction]:
        """Interactions (by default all of them) as :meth:`save` writes them."""
        items = self.interactions() if interactions is None else list(interactions)
        return [scrub_interaction(item, extra=self._extra) for item in items]

    def _extra(self, item: Interaction) -> Interaction:
        return redact_values(item, self.secrets) if self.secrets else item

    def save(
        self,
        path: str | os.PathLike[str],
        *,
        scrub: bool = True,
        append: bool = False,
        header: str = "",
        source: str | None = None,
    ) -> Path:
        """Write every interaction as a cassette at ``path``, scrubbed (see the module doc).

        ``append``: keep the interactions already in the file (it must be a readable cassette) and add
        these after them. ``scrub=False`` writes the traffic as it was, for tests only: it warns and says
        so in the file. The interactions written are returned by :meth:`scrubbed` (with ``source``).
        """
        target = Path(path)
        items = self.interactions()
        previous: list[Interaction] = []
        if append and target.exists():
            existing = load(target)
            if existing.errors or existing.format != "cassette":
                problems = "; ".join(str(e) for e in existing.errors) or f"a {existing.format} file, not a cassette"
                raise ValueError(f"cannot append to {target}: {problems}")
            previous = existing.interactions
        if scrub:
            items = self.scrubbed(items)
            note = SCRUBBED_NOTE
        else:
            warnings.warn(
                f"writing {target} WITHOUT scrubbing: it may hold credentials and whole images (tests only)",
                UnscrubbedCassetteWarning,
                stacklevel=2,
            )
            note = UNSCRUBBED_NOTE
        name = source if source is not None else str(target)
        written = [replace(item, source=name, index=i) for i, item in enumerate([*previous, *items])]
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [f"Recorded by imagewire on {stamp} ({note})."]
        if header:
            lines += header.splitlines()
        return write_cassette(target, written, header="\n".join(lines))


def redact_values(item: Interaction, secrets: Sequence[str]) -> Interaction:
    """``item`` with every occurrence of each secret (by value) replaced by ``REDACTED``."""

    def text(value: str) -> str:
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value

    def data(value: bytes) -> bytes:
        for secret in secrets:
            value = value.replace(secret.encode("utf-8"), REDACTED.encode())
        return value

    def headers(pairs: Headers) -> Headers:
        return tuple((name, text(value)) for name, value in pairs)

    return replace(
        item,
        url=text(item.url),
        request_headers=headers(item.request_headers),
        request_body=data(item.request_body),
        response_headers=headers(item.response_headers),
        response_body=data(item.response_body),
    )


def _already_read(response: httpx.Response, recorder: Recorder, entry: _Entry) -> bool:
    """Record a response that arrived with its body already read (``httpx.MockTransport`` with ``content=``)."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return False
    stream = response.stream
    raw = b"".join(stream) if isinstance(stream, httpx.ByteStream) else content  # the bytes as sent (encoded)
    recorder.chunk(entry, raw)
    recorder.end(entry)
    return True


class _Capture:
    """What a recorded body does as it is read, sync or async alike: keep each chunk, note how it ended."""

    def __init__(self, recorder: Recorder, entry: _Entry) -> None:
        self._recorder = recorder
        self._entry = entry

    def _chunk(self, chunk: bytes) -> bytes:
        self._recorder.chunk(self._entry, chunk)
        return chunk

    def _stopped(self, err: BaseException) -> None:
        """The reading loop ended early: the caller stopped (``GeneratorExit``) or the connection failed."""
        if isinstance(err, GeneratorExit):
            self._recorder.end(self._entry, "the caller stopped reading")
        else:
            self._recorder.end(self._entry, f"the connection failed: {_describe(err)}")

    def _finished(self) -> None:
        self._recorder.end(self._entry)

    def _closed(self) -> None:
        self._recorder.end(self._entry, "the caller closed the answer before its end")


class _RecordingStream(_Capture, httpx.SyncByteStream):
    """The response body, passed through to the caller and kept as it goes."""

    def __init__(self, inner: httpx.SyncByteStream, recorder: Recorder, entry: _Entry) -> None:
        super().__init__(recorder, entry)
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                yield self._chunk(chunk)
        except BaseException as err:
            self._stopped(err)
            raise
        self._finished()

    def close(self) -> None:
        self._closed()
        self._inner.close()


class _AsyncRecordingStream(_Capture, httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, recorder: Recorder, entry: _Entry) -> None:
        super().__init__(recorder, entry)
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield self._chunk(chunk)
        except BaseException as err:
            self._stopped(err)
            raise
        self._finished()

    async def aclose(self) -> None:
        self._closed()
        await self._inner.aclose()


class _Recording:
    """What the sync and async recording transports share: the recorder, and what is kept around each send."""

    def __init__(self, recorder: Recorder | None, source: str, secrets: Iterable[str | None]) -> None:
        self.recorder = recorder if recorder is not None else Recorder(source)
        for secret in secrets:
            self.recorder.add_secret(secret)

    def _sent(self, entry: _Entry, response: httpx.Response, *, asynchronous: bool) -> httpx.Response:
        """Note the answer and pass its body on through a stream that records it as the caller reads."""
        self.recorder.answered(entry, response)
        if _already_read(response, self.recorder, entry):
            return response
        stream = response.stream
        if asynchronous and isinstance(stream, httpx.AsyncByteStream):
            response.stream = _AsyncRecordingStream(stream, self.recorder, entry)
        elif not asynchronous and isinstance(stream, httpx.SyncByteStream):
            response.stream = _RecordingStream(stream, self.recorder, entry)
        else:  # pragma: no cover - transports return the byte streams of their kind
            self.recorder.end(entry, "the transport gave an unreadable body")
        return response

    def interactions(self) -> list[Interaction]:
        return self.recorder.interactions()

    def save(self, path: str | os.PathLike[str], **options: Any) -> Path:
        return self.recorder.save(path, **options)


class RecordingTransport(_Recording, httpx.BaseTransport):
    """Forward to ``transport`` (a new ``httpx.HTTPTransport()`` by default) and record everything."""

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        recorder: Recorder | None = None,
        source: str = "live",
        secrets: Iterable[str | None] = (),
    ) -> None:
        super().__init__(recorder, source, secrets)
        self.transport = transport if transport is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        entry = self.recorder.begin(request, request.read())
        try:
            response = self.transport.handle_request(request)
        except BaseException as err:
            self.recorder.failed(entry, err)
            raise
        return self._sent(entry, response, asynchronous=False)

    def close(self) -> None:
        self.transport.close()


class AsyncRecordingTransport(_Recording, httpx.AsyncBaseTransport):
    """The async twin of :class:`RecordingTransport` (``httpx.AsyncHTTPTransport()`` by default)."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        recorder: Recorder | None = None,
        source: str = "live",
        secrets: Iterable[str | None] = (),
    ) -> None:
        super().__init__(recorder, source, secrets)
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        entry = self.recorder.begin(request, await request.aread())
        try:
            response = await self.transport.handle_async_request(request)
        except BaseException as err:
            self.recorder.failed(entry, err)
            raise
        return self._sent(entry, response, asynchronous=True)

    async def aclose(self) -> None:
        await self.transport.aclose()


# ---------------------------------------------------------------- vcrpy / pytest-recording hooks


def _vcr_body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8", errors="surrogateescape")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):
        return b"".join(p.encode() if isinstance(p, str) else bytes(p) for p in body)
    return str(body).encode()


def vcr_before_record_request(request: Any) -> Any:
    """vcrpy ``before_record_request`` hook: the request scrubbed as :func:`imagewire.record.scrub.scrub` does."""
    raw = getattr(request, "body_bytes", None)
    body = _vcr_body(raw if raw is not None else request.body)
    headers: Headers = tuple((str(k), str(v)) for k, v in request.headers.items())
    item = Interaction("vcr", 0, str(request.method), str(request.uri), headers, body, 200, "", (), b"")
    clean = scrub_interaction(item)
    request.uri = clean.url
    request.headers = dict(clean.request_headers)
    if body:
        request.body = clean.request_body
    return request


def vcr_before_record_response(response: Any) -> Any:
    """vcrpy ``before_record_response`` hook: the response (a dict) scrubbed as :func:`~imagewire.record.scrub.scrub`."""
    if not isinstance(response, dict):
        return response
    status = response.get("status") or {}
    headers_in = response.get("headers") or {}
    pairs: list[tuple[str, str]] = []
    for name, values in headers_in.items():
        for value in values if isinstance(values, list) else [values]:
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            pairs.append((str(name), text))
    body_in = (response.get("body") or {}).get("string")
    body = _vcr_body(body_in)
    code = status.get("code", 200) if isinstance(status, dict) else 200
    item = Interaction("vcr", 0, "GET", "http://vcr.invalid/", (), b"", int(code), "", tuple(pairs), body)
    clean = scrub_interaction(item)
    out: dict[str, list[str]] = {}
    for name, value in clean.response_headers:
        out.setdefault(name, []).append(value)
    response["headers"] = out
    response["body"] = {"string": clean.response_body}
    return response


# ---------------------------------------------------------------- imagewire record


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


def _key_env(provider: str | None) -> str:
    from imagewire_client._providers import PROVIDERS

    if provider is not None and provider in PROVIDERS:
        return PROVIDERS[provider].key_env or "OPENAI_API_KEY"
    return "OPENAI_API_KEY"


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
    warnings_ = list(getattr(result, "warnings", []) or [])
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
    )

    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    api_key = args.api_key if args.api_key is not None else (os.environ.get(_key_env(args.provider)) or None)
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
    estimate = client.images.estimate(
        model=args.model, size=size, quality=args.quality, n=args.n or 1, operation=args.operation
    )
    say(f"{args.operation} {args.model or '(no model)'} at {client.base_url}")
    say(f"estimate: {estimate}")

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
