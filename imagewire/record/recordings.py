"""Recorded HTTP traffic in one shape: VCR.py cassettes (YAML or JSON) and HAR 1.2 files read into
:class:`Interaction` values; cassettes written back in the format vcrpy / pytest-recording read.

A cassette (``version: 1``)::

    interactions:
    - request: {method: POST, uri: https://..., headers: {Name: [value, ...]}, body: <str | bytes | {string: ...} | null>}
      response: {status: {code: 200, message: OK}, headers: {Name: [value]}, body: {string: <str | bytes>}}

A HAR file: ``log.entries[].request`` (``method``, ``url``, ``headers: [{name, value}]``, ``postData`` with
``text`` or ``params``) and ``.response`` (``status``, ``statusText``, ``headers``, ``content.text`` with
an optional ``encoding: base64``).

Nothing here raises on bad input: a file or entry that cannot be read becomes a :class:`LoadError`
(file and entry index) in :attr:`Recording.errors`, and every other entry is still read.

Files come from strangers, so reading is bounded (:class:`Limits`): the file's size, its size once YAML
aliases are expanded, the number of interactions and each body's size once its ``Content-Encoding`` is
undone (counted while decompressing). A refusal is a :class:`LoadError` whose ``limit`` names the limit.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from imagewire.generator.load import expanded_size

__all__ = [
    "EXTENSIONS",
    "LIMITS",
    "Headers",
    "Interaction",
    "LimitExceeded",
    "Limits",
    "LoadError",
    "Recording",
    "discover",
    "dump_cassette",
    "load",
    "load_all",
    "parse_cassette",
    "parse_har",
    "write_cassette",
]

#: file name endings read as recordings (``*.expect.yaml`` files are expectations, not recordings)
EXTENSIONS = (".yaml", ".yml", ".har", ".json")
EXPECT_SUFFIX = ".expect.yaml"

#: headers as recorded: (name, value) pairs in order, names as sent
Headers = tuple[tuple[str, str], ...]

try:  # the C loader/dumper are several times faster; fall back where libyaml is missing
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much a recording may hold before it is refused."""

    #: the file's size, and its size once YAML aliases are expanded (bytes)
    file_bytes: int = 256 * _MB
    #: one request or response body once its Content-Encoding (gzip, deflate) is undone (bytes)
    decoded_bytes: int = 64 * _MB
    #: interactions (cassette) or entries (HAR) in one file
    interactions: int = 100_000


#: the limits used when none are given
LIMITS = Limits()


class LimitExceeded(ValueError):
    """A recording, or one body in it, is larger than a :class:`Limits` field allows."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit  # the Limits field that was exceeded


@dataclass(frozen=True)
class Interaction:
    """One request and its response, from a recording (or a live probe)."""

    source: str
    index: int
    method: str
    url: str
    request_headers: Headers = ()
    request_body: bytes = b""
    status: int = 200
    reason: str = ""
    response_headers: Headers = ()
    response_body: bytes = b""
    #: the most a body may hold once decoded (see :attr:`Limits.decoded_bytes`)
    max_decoded: int = field(default=LIMITS.decoded_bytes, compare=False, repr=False)

    def request_header(self, name: str) -> str | None:
        """The first value of a request header (case-insensitive), or ``None``."""
        return _first(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        """The first value of a response header (case-insensitive), or ``None``."""
        return _first(self.response_headers, name)

    @property
    def where(self) -> str:
        """``source#N``, N counted from 1: how reports name this interaction (``index`` counts from 0)."""
        return f"{self.source}#{self.index + 1}"

    @property
    def path(self) -> str:
        try:
            return urlsplit(self.url).path
        except ValueError:
            return ""

    @property
    def host(self) -> str:
        try:
            return (urlsplit(self.url).hostname or "").lower()
        except ValueError:
            return ""

    def response_content(self) -> bytes:
        """The response body with any ``Content-Encoding`` (gzip, deflate) undone, when it is still encoded.
        Raises :class:`LimitExceeded` when it would decode to more than :attr:`max_decoded` bytes."""
        return _decoded(self.response_body, self.response_header("content-encoding"), self.max_decoded)

    def request_content(self) -> bytes:
        return _decoded(self.request_body, self.request_header("content-encoding"), self.max_decoded)


@dataclass(frozen=True)
class LoadError:
    """A recording file, or one entry of it, that could not be read. ``index`` (from 0) is ``None`` for the whole
    file; the message names the entry from 1, as reports number interactions."""

    source: str
    index: int | None
    message: str
    #: the :class:`Limits` field the file or entry exceeded, when that is why it was refused
    limit: str | None = None

    def __str__(self) -> str:
        where = self.source if self.index is None else f"{self.source}#{self.index + 1}"
        return f"{where}: {self.message}"


@dataclass
class Recording:
    """What one file held: its interactions and the problems met while reading it."""

    source: str
    format: str  # "cassette" | "har" | "unknown"
    interactions: list[Interaction] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)


def _first(headers: Headers, name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def _decoded(body: bytes, encoding: str | None, limit: int) -> bytes:
    coding = (encoding or "").strip().lower()
    if not body or not coding or coding == "identity":
        return body
    try:
        if coding in ("gzip", "x-gzip") and body[:2] == b"\x1f\x8b":
            return _inflate(body, 16 + zlib.MAX_WBITS, limit)
        if coding == "deflate":
            try:
                return _inflate(body, zlib.MAX_WBITS, limit)
            except zlib.error:
                return _inflate(body, -zlib.MAX_WBITS, limit)
    except zlib.error:
        return body
    return body  # already decoded by the recorder (vcrpy's decode_compressed_response), or unknown coding


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    """Decompress ``body`` (every gzip member), never holding more than ``limit + 1`` bytes of output."""
    out = bytearray()
    data = body
    while data:
        engine = zlib.decompressobj(wbits)
        out += engine.decompress(data, limit + 1 - len(out))
        while engine.unconsumed_tail and len(out) <= limit:
            out += engine.decompress(engine.unconsumed_tail, limit + 1 - len(out))
        if len(out) > limit:
            raise LimitExceeded(
                "decoded_bytes", f"a body decodes to more than {limit:,} bytes (the decoded_bytes limit)"
            )
        if not engine.eof:
            raise zlib.error("truncated stream")
        data = engine.unused_data.lstrip(b"\0") if wbits > 16 else b""
    return bytes(out)


# ---------------------------------------------------------------- reading


class _EntryError(Exception):
    def __init__(self, message: str, limit: str | None = None) -> None:
        super().__init__(message)
        self.limit = limit


def discover(path: str | os.PathLike[str]) -> list[Path]:
    """The recordings at ``path``: the file itself, or every ``*.yaml/*.yml/*.har/*.json`` below a folder
    (recursively, sorted, hidden folders and ``*.expect.yaml`` skipped)."""
    root = Path(path)
    if not root.is_dir():
        return [root]
    found = []
    for item in sorted(root.rglob("*")):
        rel = item.relative_to(root).parts
        if any(part.startswith(".") for part in rel) or not item.is_file():
            continue
        if item.name.endswith(EXPECT_SUFFIX) or item.suffix.lower() not in EXTENSIONS:
            continue
        found.append(item)
    return found


def _refused(name: str, err: LimitExceeded) -> Recording:
    return Recording(name, "unknown", errors=[LoadError(name, None, str(err), err.limit)])


def load(path: str | os.PathLike[str], *, source: str | None = None, limits: Limits = LIMITS) -> Recording:
    """Read one cassette or HAR file (told apart by content, not only by name), within ``limits``."""
    file = Path(path)
    name = source if source is not None else str(path)
    try:
        with file.open("rb") as handle:
            raw = handle.read(limits.file_bytes + 1)
        if len(raw) > limits.file_bytes:
            message = f"the file is larger than {limits.file_bytes:,} bytes (the file_bytes limit)"
            return _refused(name, LimitExceeded("file_bytes", message))
    except OSError as err:
        return Recording(
            name, "unknown", errors=[LoadError(name, None, f"cannot read the file: {err.strerror or err}")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return Recording(name, "unknown", errors=[LoadError(name, None, f"not UTF-8 text: {err}")])
    try:
        data = json.loads(text) if file.suffix.lower() in (".har", ".json") else _yaml(text, limits.file_bytes)
    except LimitExceeded as err:
        return _refused(name, err)
    except (ValueError, RecursionError) as err:
        return Recording(name, "unknown", errors=[LoadError(name, None, f"not valid JSON: {err}")])
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        return Recording(name, "unknown", errors=[LoadError(name, None, f"not valid YAML{where}: {problem}")])
    if isinstance(data, dict) and isinstance(data.get("log"), dict):
        return parse_har(data, name, limits=limits)
    if isinstance(data, dict) and "interactions" in data:
        return parse_cassette(data, name, limits=limits)
    return Recording(
        name,
        "unknown",
        errors=[LoadError(name, None, "neither a VCR cassette (no 'interactions') nor a HAR file (no 'log')")],
    )


def _yaml(text: str, limit: int) -> Any:
    """The YAML document in ``text``; :class:`LimitExceeded` when its aliases expand beyond ``limit`` bytes."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if expanded_size(node, limit) > limit:
            message = f"with its YAML aliases expanded the file holds over {limit:,} bytes (the file_bytes limit)"
            raise LimitExceeded("file_bytes", message)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_all(paths: Iterable[str | os.PathLike[str]], *, limits: Limits = LIMITS) -> list[Recording]:
    """Every recording under each path (a file or a folder)."""
    recordings = []
    for path in paths:
        files = discover(path)
        if not files:
            recordings.append(Recording(str(path), "unknown", errors=[LoadError(str(path), None, "no recordings")]))
        for file in files:
            recordings.append(load(file, limits=limits))
    return recordings


def _entries(recording: Recording, entries: list[Any], limits: Limits) -> bool:
    """Whether the number of entries is within the limit (else the recording says why it is refused)."""
    if len(entries) <= limits.interactions:
        return True
    message = f"{len(entries):,} interactions; the limit is {limits.interactions:,} (the interactions limit)"
    recording.errors.append(LoadError(recording.source, None, message, "interactions"))
    return False


def _bounded(interaction: Interaction, limits: Limits) -> Interaction:
    """``interaction`` once both bodies are known to decode within ``limits`` (else :class:`_EntryError`)."""
    try:
        interaction.request_content()
        interaction.response_content()
    except LimitExceeded as err:
        raise _EntryError(str(err), err.limit) from None
    return interaction


def parse_cassette(data: Any, source: str, *, limits: Limits = LIMITS) -> Recording:
    """A decoded VCR cassette as a :class:`Recording`."""
    recording = Recording(source, "cassette")
    if not isinstance(data, dict):
        recording.errors.append(LoadError(source, None, "a cassette must be a mapping"))
        return recording
    version = data.get("version", 1)
    if version not in (1, None):
        recording.errors.append(LoadError(source, None, f"unknown cassette version {version!r} (expected 1)"))
    entries = data.get("interactions")
    if entries is None:
        return recording
    if not isinstance(entries, list):
        recording.errors.append(LoadError(source, None, "'interactions' must be a list"))
        return recording
    if not _entries(recording, entries, limits):
        return recording
    for index, entry in enumerate(entries):
        try:
            recording.interactions.append(_bounded(_cassette_entry(entry, source, index, limits), limits))
        except _EntryError as err:
            recording.errors.append(LoadError(source, index, str(err), err.limit))
    return recording


def _cassette_entry(entry: Any, source: str, index: int, limits: Limits) -> Interaction:
    if not isinstance(entry, dict):
        raise _EntryError("an interaction must be a mapping with 'request' and 'response'")
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, dict):
        raise _EntryError("'request' is missing or not a mapping")
    if not isinstance(response, dict):
        raise _EntryError("'response' is missing or not a mapping")
    method = request.get("method")
    uri = request.get("uri") or request.get("url")
    if not isinstance(method, str) or not method.strip():
        raise _EntryError("request.method is missing")
    if not isinstance(uri, str) or not uri.strip():
        raise _EntryError("request.uri is missing")
    status = response.get("status")
    code: Any
    message: Any = ""
    if isinstance(status, dict):
        code, message = status.get("code"), status.get("message", "")
    else:
        code = status
    return Interaction(
        source=source,
        index=index,
        method=method.strip().upper(),
        url=uri.strip(),
        request_headers=_cassette_headers(request.get("headers"), "request.headers"),
        request_body=_cassette_body(request.get("body"), "request.body"),
        status=_status(code, "response.status.code"),
        reason=str(message or ""),
        response_headers=_cassette_headers(response.get("headers"), "response.headers"),
        response_body=_cassette_body(response.get("body"), "response.body"),
        max_decoded=limits.decoded_bytes,
    )


def _status(code: Any, what: str) -> int:
    if isinstance(code, bool):
        raise _EntryError(f"{what} must be an HTTP status, got {code!r}")
    if isinstance(code, str) and code.strip().isdigit():
        code = int(code.strip())
    if not isinstance(code, int) or not 100 <= code <= 599:
        raise _EntryError(f"{what} must be an HTTP status (100-599), got {code!r}")
    return code


def _cassette_headers(headers: Any, what: str) -> Headers:
    if headers is None:
        return ()
    if not isinstance(headers, dict):
        raise _EntryError(f"{what} must map names to lists of values")
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():
        items = values if isinstance(values, list) else [values]
        for value in items:
            if isinstance(value, (dict, list)):
                raise _EntryError(f"{what}[{name!r}] holds a {type(value).__name__}, not a header value")
            if value is None:
                continue
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            pairs.append((str(name), text))
    return tuple(pairs)


def _cassette_body(body: Any, what: str) -> bytes:
    if isinstance(body, dict):
        if "string" not in body and body:
            raise _EntryError(f"{what} is a mapping without 'string'")
        body = body.get("string")
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8", errors="surrogateescape")
    raise _EntryError(f"{what} must be text or bytes, got {type(body).__name__}")


def parse_har(data: Any, source: str, *, limits: Limits = LIMITS) -> Recording:
    """A decoded HAR document as a :class:`Recording`."""
    recording = Recording(source, "har")
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict):
        recording.errors.append(LoadError(source, None, "a HAR file must hold a 'log' object"))
        return recording
    entries = log.get("entries")
    if entries is None:
        return recording
    if not isinstance(entries, list):
        recording.errors.append(LoadError(source, None, "log.entries must be a list"))
        return recording
    if not _entries(recording, entries, limits):
        return recording
    for index, entry in enumerate(entries):
        try:
            recording.interactions.append(_bounded(_har_entry(entry, source, index, limits), limits))
        except _EntryError as err:
            recording.errors.append(LoadError(source, index, str(err), err.limit))
    return recording


def _har_entry(entry: Any, source: str, index: int, limits: Limits) -> Interaction:
    if not isinstance(entry, dict):
        raise _EntryError("an entry must be an object with 'request' and 'response'")
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, dict):
        raise _EntryError("'request' is missing or not an object")
    if not isinstance(response, dict):
        raise _EntryError("'response' is missing or not an object")
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or not method.strip():
        raise _EntryError("request.method is missing")
    if not isinstance(url, str) or not url.strip():
        raise _EntryError("request.url is missing")
    request_headers = _har_headers(request.get("headers"), "request.headers")
    body, content_type = _har_post_data(request.get("postData"))
    if content_type and not _first(request_headers, "content-type"):
        request_headers += (("Content-Type", content_type),)
    content = response.get("content")
    if content is not None and not isinstance(content, dict):
        raise _EntryError("response.content must be an object")
    return Interaction(
        source=source,
        index=index,
        method=method.strip().upper(),
        url=url.strip(),
        request_headers=request_headers,
        request_body=body,
        status=_status(response.get("status"), "response.status"),
        reason=str(response.get("statusText") or ""),
        response_headers=_har_headers(response.get("headers"), "response.headers"),
        response_body=_har_text(content or {}, "response.content"),
        max_decoded=limits.decoded_bytes,
    )


def _har_headers(headers: Any, what: str) -> Headers:
    if headers is None:
        return ()
    if not isinstance(headers, list):
        raise _EntryError(f"{what} must be a list of {{name, value}}")
    pairs = []
    for position, item in enumerate(headers):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _EntryError(f"{what}[{position}] must be an object with a name and a value")
        value = item.get("value")
        pairs.append((item["name"], "" if value is None else str(value)))
    return tuple(pairs)


def _har_text(content: Mapping[str, Any], what: str) -> bytes:
    text = content.get("text")
    if text is None:
        return b""
    if not isinstance(text, str):
        raise _EntryError(f"{what}.text must be a string")
    encoding = content.get("encoding") or content.get("_encoding")
    if isinstance(encoding, str) and encoding.lower() == "base64":
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as err:
            raise _EntryError(f"{what}.text is marked base64 but is not: {err}") from None
    return text.encode("utf-8", errors="surrogateescape")


def _har_post_data(post: Any) -> tuple[bytes, str]:
    if post is None:
        return b"", ""
    if not isinstance(post, dict):
        raise _EntryError("request.postData must be an object")
    mime = post.get("mimeType") or ""
    if not isinstance(mime, str):
        raise _EntryError("request.postData.mimeType must be a string")
    if post.get("text") is not None:
        return _har_text(post, "request.postData"), mime
    params = post.get("params")
    if not params:
        return b"", mime
    if not isinstance(params, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in params):
        raise _EntryError("request.postData.params must be a list of {name, value}")
    if mime.lower().startswith("multipart/"):
        boundary = _boundary(mime) or f"imagewire-{uuid.uuid4().hex}"
        if not _boundary(mime):
            mime = f"{mime}; boundary={boundary}"
        return _multipart(params, boundary), mime
    pairs = [f"{quote(p['name'], safe='')}={quote(str(p.get('value') or ''), safe='')}" for p in params]
    return "&".join(pairs).encode(), mime or "application/x-www-form-urlencoded"


def _boundary(content_type: str) -> str | None:
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"')
    return None


def _multipart(params: Sequence[Mapping[str, Any]], boundary: str) -> bytes:
    out = bytearray()
    for param in params:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{param["name"]}"'
        if param.get("fileName"):
            disposition += f'; filename="{param["fileName"]}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if param.get("contentType"):
            out += f"Content-Type: {param['contentType']}\r\n".encode()
        out += b"\r\n" + str(param.get("value") or "").encode("utf-8", errors="surrogateescape") + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


# ---------------------------------------------------------------- writing


class _Dumper(yaml.SafeDumper):
    """Readable cassettes: multi-line text as literal blocks, mappings in insertion order."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _body_value(body: bytes) -> str | bytes:
    """Text when the body is UTF-8 without control characters (so it reads back byte for byte), else bytes."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    if any((ord(ch) < 32 and ch not in "\n\t\r") or ch in "\x7f\x85\u2028\u2029\ufeff" for ch in text):
        return body
    try:  # keep text only when YAML gives it back exactly (line ends, edge spaces)
        if yaml.load(yaml.dump(text, Dumper=_Dumper), Loader=_Loader) != text:
            return body
    except yaml.YAMLError:  # pragma: no cover - defensive
        return body
    return text


def _headers_dict(headers: Headers) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name, []).append(value)
    return out


def cassette_data(interactions: Iterable[Interaction]) -> dict[str, Any]:
    """Interactions as the plain data of a version 1 cassette."""
    entries = []
    for item in interactions:
        entries.append(
            {
                "request": {
                    "method": item.method,
                    "uri": item.url,
                    "headers": _headers_dict(item.request_headers),
                    "body": _body_value(item.request_body) if item.request_body else None,
                },
                "response": {
                    "status": {"code": item.status, "message": item.reason},
                    "headers": _headers_dict(item.response_headers),
                    "body": {"string": _body_value(item.response_body)},
                },
            }
        )
    return {"interactions": entries, "version": 1}


def dump_cassette(interactions: Iterable[Interaction]) -> str:
    """The YAML text of a cassette holding ``interactions``."""
    return yaml.dump(
        cassette_data(interactions),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=120,
        default_flow_style=False,
    )


def write_cassette(path: str | os.PathLike[str], interactions: Iterable[Interaction], *, header: str = "") -> Path:
    """Write a cassette (atomically); ``header`` lines are written first as YAML comments."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = dump_cassette(interactions)
    if header:
        text = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) + text
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


def iter_interactions(recordings: Iterable[Recording]) -> Iterator[Interaction]:
    for recording in recordings:
        yield from recording.interactions
