"""The transport under ``Client`` and ``AsyncClient``: configuration, request building, checks, sending
with retries, reading answers and streams. Hand-written once for both; the generated ``_client`` adds the
typed signatures (each operation's keyword arguments, overloads, results).

Before anything is sent, each call is checked against the model catalog and against the spec's own schema
constraints (``validate=False`` sends anyway). Only the fields the caller set go on the wire. Errors are
raised as the classes of :mod:`._errors`. Retries cover connection failures that sent nothing, rate limits (never quota) and
500/502/503/504; after a read timeout or a dropped answer a generation may already be paid for, so it is
retried only when the caller opts in with ``retry_read_errors=True``. Sync and async code paths are
written out side by side (as httpx and openai-python do) rather than generated from one another.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from logging import DEBUG, INFO
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, ParamSpec, TypeVar
from urllib.parse import urljoin, urlsplit

from ._catalog import MODELS, OPERATIONS
from ._catalog_types import Model as CatalogModel
from ._catalog_types import Provider, Quirk
from ._checks import CheckError, check, check_schema, suggest, text_bounds
from ._error_parsing import error_from_payload, error_from_response, request_id_from_headers
from ._errors import (
    APIStatusError,
    APITimeoutError,
    ImagewireError,
    ResponseContractError,
    ResponseTooLargeError,
    ValidationError,
)
from ._facts import ANSWER, COMPLETED_EVENT, FILE_PARTS, USER_AGENT
from ._guard import (
    CALL_END,
    Body,
    Deadline,
    DeadlineExceeded,
    LimitExceeded,
    Limits,
    Undecodable,
    private_address,
    same_origin,
)
from ._guard import Stream as EventLines
from ._logs import log_response, log_retry, logger, redact_url, remember_secret
from ._multipart import InputFileError, Upload, encode, read_file
from ._retry import Retry, classify, delay, retryable_status, to_client_error
from ._sse import aiter_events, decode_stream_event, is_done, iter_events
from .catalog import (
    BASE_URL_VARIABLE,
    DEFAULT_BASE_URL,
    DEFAULT_KEY_VARIABLE,
    PROVIDERS,
    Estimate,
    cost,
    endpoint,
    estimate,
    provider_at,
    providers_serving,
)
from .catalog import provider as get_provider

if TYPE_CHECKING:
    from typing import TypeAlias

    import httpx

    from ._model import ShapeError
    from .batch import Gate

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "AsyncBase",
    "AsyncStream",
    "Options",
    "Stream",
    "SyncBase",
    "close_names",
    "default_timeout",
]

#: seconds: connect 10 s; read, write and pool 300 s, as image models can take minutes.
DEFAULT_TIMEOUT = (300.0, 10.0)
DEFAULT_MAX_RETRIES = 2


def default_timeout() -> httpx.Timeout:
    """:data:`DEFAULT_TIMEOUT` as an ``httpx.Timeout``."""
    import httpx

    read, connect = DEFAULT_TIMEOUT
    return httpx.Timeout(read, connect=connect)


E = TypeVar("E")
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_STREAM_ACCEPT = {"Accept": "text/event-stream"}
if TYPE_CHECKING:
    Timeout: TypeAlias = float | httpx.Timeout | None


class _Sent(NamedTuple):
    """What a request carried besides its bytes: the policy's warnings, the model it was checked as, its fields."""

    notes: tuple[str, ...]
    model: str | None
    fields: Mapping[str, Any]


class Options(NamedTuple):
    """The per-call options every operation takes besides its fields."""

    timeout: Timeout = None
    max_retries: int | None = None
    retry_read_errors: bool | None = None
    validate: bool | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, str] | None = None
    extra_body: Mapping[str, Any] | None = None
    deadline: float | None = None
    #: a request of ``images.batch``: the limiter and the hook every send of it passes first
    gate: Gate | None = None


#: redirects an API call follows (within its own origin) and an image download follows (anywhere)
_MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


def _is_many(value: Any) -> bool:
    """A list of files (several parts), as opposed to one file given as a path, bytes, file or tuple."""
    if isinstance(value, (str, bytes, bytearray, os.PathLike)) or hasattr(value, "read"):
        return False
    if isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[0], str):
        return False
    return isinstance(value, Sequence)


_ANSWER_TYPES: tuple[type[Any], type[ShapeError]] | None = None


def _answer_types() -> tuple[type[Any], type[ShapeError]]:
    """The answer class and the reader's error, imported on the first answer (a script that only builds a
    client never loads the result classes)."""
    global _ANSWER_TYPES
    if _ANSWER_TYPES is None:
        from . import _results
        from ._model import ShapeError as shape_error

        _ANSWER_TYPES = (getattr(_results, ANSWER), shape_error)
    return _ANSWER_TYPES


def _contract_error(response: httpx.Response, reason: str, pointer: str = "") -> ResponseContractError:
    import httpx

    try:
        body = response.content.decode("utf-8", "replace")
    except httpx.ResponseNotRead:
        body = ""
    return ResponseContractError(reason, status_code=response.status_code, body=body, pointer=pointer)


async def _async_sleep(seconds: float) -> None:
    import asyncio  # only async clients need it; importing it costs more than the rest of this module

    await asyncio.sleep(seconds)


P = ParamSpec("P")
R = TypeVar("R")


def close_names(fn: Callable[P, R]) -> Callable[P, R]:
    """A misspelt keyword argument is a TypeError that names the close match (``qualty`` -> ``quality``)."""
    import functools

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except TypeError:
            import inspect

            names = [n for n in inspect.signature(fn).parameters if n != "self"]
            wrong = [k for k in kwargs if k not in names]
            if not wrong:
                raise
            hint = suggest(wrong[0], names)
            raise TypeError(
                f"{fn.__qualname__}() got an unexpected keyword argument {wrong[0]!r}"
                + (f"; did you mean {hint[len('; did you mean ') : -1]!r}?" if hint else "")
            ) from None

    return call


def _text(value: Any) -> str | None:
    value = getattr(value, "value", value)  # an enum member
    return value if isinstance(value, str) else None


def _sent(response: httpx.Response) -> _Sent:
    """What the request of ``response`` carried besides its bytes (nothing, for an answer made without one)."""
    try:
        sent = response.request.extensions.get("imagewire")
    except RuntimeError:  # an answer made without a request (tests, replays)
        sent = None
    return sent if isinstance(sent, _Sent) else _Sent((), None, {})


def _words(items: Sequence[str]) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else (items[0] if items else "nothing")


def _glob(pattern: str, pointer: str) -> bool:
    """``/data/*/x`` matches ``/data/0/x`` and anything below it."""
    want = pattern.split("/")
    have = pointer.split("/")
    return len(have) >= len(want) and all(w in ("*", h) for w, h in zip(want, have, strict=False))


def _non_ascii(headers: Mapping[str, str] | None) -> str | None:
    """The name of the first header whose name or value is not ASCII (its value is never shown)."""
    for name, value in (headers or {}).items():
        if not (str(name).isascii() and str(value).isascii()):
            return str(name)
    return None


def _fetchable(url: str) -> bool:
    """An absolute http(s) URL that parses (or an inline data: URL)."""
    if url.startswith("data:"):
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _literal(host: str) -> bool:
    """Whether ``host`` is an IP address (v4, or v6 with or without brackets)."""
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int, done: Callable[[list[str]], object]) -> None:
    """Look up the addresses ``host`` resolves to here (none when it does not resolve) in a daemon thread of
    its own, and hand them to ``done`` there: the system resolver cannot be interrupted, so a caller waits
    for it only as long as its deadline allows, and a lookup that hangs keeps no process from ending."""
    import socket
    import threading

    def lookup() -> None:
        try:
            found = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except (OSError, UnicodeError):
            found = []
        with contextlib.suppress(RuntimeError):  # an event loop closed in the meantime
            done(found)

    threading.Thread(target=lookup, name="imagewire-resolve", daemon=True).start()


def _addresses(host: str, port: int, deadline: Deadline) -> list[str]:
    """The addresses ``host`` resolves to here, looked up within the deadline."""
    import queue

    answer: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
    _resolve(host, port, answer.put)
    left = deadline.remaining()
    try:
        return answer.get(timeout=None if left is None else max(left, 0.0))
    except queue.Empty:
        raise _timed_out("the image download", deadline, None) from None


def _literal_private(host: str) -> bool:
    """A host given as an IP address that is loopback, private, link-local or a metadata service."""
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return private_address(host)


_Rules = tuple[Mapping[str, "CatalogModel"] | None, bool, list[str]]


_Shape = frozenset[tuple[str, type, Any]]


def _shape(given: Mapping[str, Any]) -> _Shape | None:
    """A call's fields but its prompt, each with its type (so ``1``, ``1.0`` and ``True`` differ); None when a
    value is unhashable (no short-cut for such a call)."""
    try:
        return frozenset((k, type(v), v) for k, v in given.items() if k != "prompt")
    except TypeError:
        return None


def _timeouts(request: httpx.Request, deadline: Deadline) -> None:
    """Each phase's timeout of ``request`` shortened to what is left of the deadline."""
    phases = request.extensions.get("timeout")
    left = deadline.remaining()
    if not isinstance(phases, dict) or left is None:
        return
    for value in phases.values():  # a loop, not all() over a generator: this runs on every call
        if not isinstance(value, (int, float)) or value > left:
            break
    else:
        return  # every phase ends before the deadline anyway
    request.extensions["timeout"] = {
        phase: deadline.bound(value) if value is None or isinstance(value, (int, float)) else value
        for phase, value in phases.items()
    }


def _timed_out(what: str, deadline: Deadline, request: httpx.Request | None) -> APITimeoutError:
    return APITimeoutError(
        f"{what} did not end within its deadline of {deadline.seconds:g} s (see deadline=)",
        request=request,
        outcome="uncertain",
    )


def _too_large(err: LimitExceeded, response: httpx.Response) -> ResponseTooLargeError:
    return ResponseTooLargeError(str(err), what=err.what, limit=err.limit, status_code=response.status_code)


def _redirected(request: httpx.Request, response: httpx.Response, location: str) -> APIStatusError:
    where = urlsplit(location)
    return APIStatusError(
        f"the server redirected the call ({response.status_code}) to another origin "
        f"({where.scheme}://{where.netloc}); the call and its credentials are not sent there "
        "(if that address is right, make it the base_url)",
        status_code=response.status_code,
        headers=response.headers,
        request=request,
    )


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _apaced(deadline: Deadline, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``chunks`` with the deadline active while each is read, and only then (as ``Deadline.paced``)."""
    end = deadline.end
    iterator = aiter(chunks)
    while True:
        token = CALL_END.set(end)
        try:
            chunk = await anext(iterator, None)
        finally:
            CALL_END.reset(token)
        if chunk is None:
            return
        yield chunk


def _whole(response: httpx.Response, limit: int, what: str) -> bytes:
    if len(response.content) > limit:
        raise _too_large(LimitExceeded(what, limit), response)
    return response.content


def _opened(response: httpx.Response, limit: int, what: str, deadline: Deadline) -> tuple[Body, bool]:
    """The reader of ``response``'s body and whether it reads the raw bytes (False: an encoding this client
    cannot decode within bounds, which httpx decodes and the reader counts once decoded)."""
    length = encoding = None
    for name, value in response.headers.raw:  # one pass, no Headers lookups
        lowered = name.lower()
        if lowered == b"content-length":
            length = value
        elif lowered == b"content-encoding":
            encoding = value if encoding is None else encoding + b"," + value
    try:
        size = int(length) if length is not None and length.isdigit() else None
        return Body(encoding.decode("latin-1") if encoding else None, limit, what, deadline, size), True
    except ValueError:
        return Body(None, limit, what, deadline), False


def _unread(
    err: LimitExceeded | DeadlineExceeded | Undecodable, response: httpx.Response, what: str, deadline: Deadline
) -> ImagewireError:
    """The typed error for a body that could not be read to its end."""
    if isinstance(err, LimitExceeded):
        return _too_large(err, response)
    if isinstance(err, DeadlineExceeded):
        return _timed_out(what, deadline, response.request)
    return ResponseContractError(str(err), status_code=response.status_code, body="", pointer="")


def _over(deadline: Deadline) -> bool:
    left = deadline.remaining()
    return left is not None and left <= 0


def _late(deadline: Deadline, wait: float, error: Exception) -> bool:
    """Whether a retry after ``wait`` seconds would start at or past the deadline; then it is not made (the
    last error is raised at once, with a note saying why)."""
    left = deadline.remaining()
    if left is None or wait < left:
        return False
    error.add_note(f"not retried: a wait of {wait:g} s would pass the call's deadline of {deadline.seconds:g} s")
    return True


def _same_origin_target(request: httpx.Request, response: httpx.Response) -> str | None:
    """Where a 307/308 within the call's own origin leads (None: not such a redirect); a redirect
    anywhere else is an error, so no credential and no request body travels there."""
    if response.status_code not in _REDIRECTS:
        return None
    location = str(response.headers.get("location") or "")
    if not location:
        return None
    target = urljoin(str(request.url), location)
    if response.status_code not in (307, 308) or not same_origin(target, str(request.url)):
        raise _redirected(request, response, target)
    return target


def _moved(request: httpx.Request, target: str) -> httpx.Request:
    import httpx

    return httpx.Request(
        request.method, target, headers=request.headers, content=request.content, extensions=dict(request.extensions)
    )


class _Watchdog:
    """One thread for every sync call's header deadline: a heap of (when, id, callback), started on first use.

    Arming and disarming cost a lock and a heap operation; a thread per call would cost a thread start.
    """

    def __init__(self) -> None:
        import threading

        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._next = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, callback: Callable[[], None]) -> int:
        import heapq
        import threading

        with self._cond:
            self._next += 1
            heapq.heappush(self._heap, (time.monotonic() + seconds, self._next, callback))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="imagewire-deadline", daemon=True)
                self._thread.start()
            elif self._heap[0][1] == self._next:
                self._cond.notify()
            return self._next

    def disarm(self, token: int) -> None:
        import heapq

        with self._cond:
            self._cancelled.add(token)
            if len(self._cancelled) > 1024 and len(self._cancelled) * 2 > len(self._heap):
                # calls end long before their deadlines: drop their entries instead of waiting them out
                self._heap = [entry for entry in self._heap if entry[1] not in self._cancelled]
                heapq.heapify(self._heap)
                self._cancelled.clear()

    def _run(self) -> None:
        import heapq

        while True:
            with self._cond:
                while self._heap and self._heap[0][1] in self._cancelled:
                    self._cancelled.discard(heapq.heappop(self._heap)[1])
                if not self._heap:
                    self._cond.wait()
                    continue
                when, _, callback = self._heap[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            with contextlib.suppress(Exception):  # a failed shutdown must not stop the watchdog
                callback()


_WATCHDOG = _Watchdog()


def _shut(stream: Any) -> None:
    """Shut a connection's socket down from another thread, so a read blocked on it returns at once."""
    import contextlib
    import socket

    sock = stream.get_extra_info("socket") if hasattr(stream, "get_extra_info") else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _peer(response: httpx.Response) -> str | None:
    """The IP address the answer came from (the one connected to), when the transport tells."""
    stream = response.extensions.get("network_stream")
    try:
        address = stream.get_extra_info("server_addr") if stream is not None else None
    except Exception:  # a transport without that information
        return None
    return str(address[0]) if isinstance(address, tuple) and address else None


def _present(data: Any, pattern: str | None) -> bool:
    """Whether a JSON pointer glob (``*`` for any key or index) names something in ``data``."""
    nodes = [data]
    for token in (pattern or "").split("/")[1:]:
        found = []
        for node in nodes:
            if isinstance(node, dict):
                found += list(node.values()) if token == "*" else ([node[token]] if token in node else [])
            elif isinstance(node, list):
                found += (
                    node if token == "*" else ([node[int(token)]] if token.isdigit() and int(token) < len(node) else [])
                )
        nodes = found
        if not nodes:
            return False
    return bool(nodes)


class _Base:
    """What the sync and async clients share: configuration, request building, answer reading."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        provider: str | None,
        model: str | None,
        settings: Mapping[str, str | None],
        token_providers: Mapping[str, Callable[[], str] | None],
        deployments: Mapping[str, str] | None,
        timeout: Timeout,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
        default_query: Mapping[str, str] | None,
        validate: bool,
        auth_header: str | None,
        models: Mapping[str, CatalogModel] | None,
        allow_retired: bool,
        limits: Limits | None = None,
        deadline: float | None = None,
        allow_private_downloads: bool | None = None,
    ) -> None:
        if provider is not None:
            self.provider: Provider | None = get_provider(provider)
        else:  # the provider at that address; any other address is the one that has none fixed (generic)
            address = str(
                base_url or (os.environ.get(BASE_URL_VARIABLE) if BASE_URL_VARIABLE else None) or DEFAULT_BASE_URL
            )
            self.provider = provider_at(address) or next((q for q in PROVIDERS.values() if q.base_url is None), None)
        p = self.provider
        self._timeout: Timeout | None = timeout
        self.max_retries = max_retries
        self.limits = limits if limits is not None else Limits()
        self._policy = Retry(max_retries=max_retries, retry_after_cap=self.limits.retry_after)
        self._deadline = deadline
        self.allow_private_downloads = allow_private_downloads
        self.validate = validate
        self.allow_retired = allow_retired
        self._extra_key_quirks: list[Quirk] = []
        self._agent: dict[str, str] = {"User-Agent": USER_AGENT}
        self.model = model
        self.deployments: Mapping[str, str] = dict(deployments or {})
        where = endpoint(p, base_url=None if base_url is None else str(base_url), settings=settings)
        self._where = where
        token = p.token if p is not None else None
        self.__token = settings.get(token.param) if token is not None else None
        self._token_provider = token_providers.get(token.provider_param) if token is not None else None
        if p is None:
            key_env, optional = DEFAULT_KEY_VARIABLE, False
            self.auth_header = auth_header or "Authorization"
        else:
            key_env, optional = p.key_variable, not p.key_required
            self.auth_header = auth_header or p.key_header or ""
            self._extra_key_quirks = [q for q in p.quirks if q.kind == "extra-key" and q.pointer]
            self.allow_retired = allow_retired or p.serves_retired
        key = api_key
        if key is None and self.__token is None and self._token_provider is None:
            key = os.environ.get(key_env) or None
            if key is None and token is not None and token.env:
                self.__token = os.environ.get(token.env) or None
        if key is None and self.__token is None and self._token_provider is None and not optional:
            where_for = f" for {p.id}" if p is not None else ""
            also = ""
            if token is not None:
                also = f", or give a bearer token as {token.param}= or {token.provider_param}=" + (
                    f" or in {token.env}" if token.env else ""
                )
            raise ImagewireError(f"no API key{where_for}: set {key_env} or pass the api_key argument{also}")
        self.__key = key or ""
        remember_secret(self.__key)
        if self.__token:
            remember_secret(self.__token)
        self.base_url = where.base_url
        host = urlsplit(self.base_url).hostname or ""
        #: whether the provider is on a loopback or private address (then its image URLs may be too)
        self._private_base = host == "localhost" or host.endswith(".localhost") or _literal_private(host)
        self._own_models = models is not None
        self.models: Mapping[str, CatalogModel] = (
            models if models is not None else (p.catalog() if p is not None else MODELS)
        )
        self._default_headers = {**where.headers, **dict(default_headers or {})}
        bad = _non_ascii(self._default_headers)
        if bad:
            raise ImagewireError(f"header {bad!r} holds non-ASCII text; HTTP header values must be ASCII")
        self._default_query = {**where.query, **dict(default_query or {})}
        self._warned: set[str] = set()
        #: calls that passed the checks -> the prompt length limit that still applies (None: none)
        self._passed_calls: dict[tuple[str, str, frozenset[tuple[str, type, Any]]], int | None] = {}
        #: calls whose fields but the prompt passed the spec's schema checks (their shape, as in _passed_calls)
        self._schema_passed: set[tuple[str, str, frozenset[tuple[str, type, Any]]]] = set()
        #: each operation's address parsed (by the HTTP client's type), and the headers of a JSON call without
        #: extra headers (by stream), built once
        self._urls: dict[tuple[type, str], httpx.URL] = {}
        #: (HTTP client, method, URL, query, headers, the HTTP client's headers) -> the URL and headers httpx makes
        self._made: dict[tuple[Any, ...], tuple[httpx.URL, httpx.Headers]] = {}
        self._rules_known: dict[tuple[str, str, bool], tuple[Mapping[str, CatalogModel], _Rules]] = {}
        self._fixed_headers: dict[tuple[bool, str], dict[str, str]] = {}

    @property
    def timeout(self) -> httpx.Timeout:
        """The default timeout of every request (connect 10 s, read 300 s unless given)."""
        import httpx

        if self._timeout is None:
            self._timeout = default_timeout()
        elif not isinstance(self._timeout, httpx.Timeout):
            self._timeout = httpx.Timeout(self._timeout)
        return self._timeout

    @property
    def deadline(self) -> float | None:
        """Seconds a whole call may take (headers, body, downloads, streams): twice the read timeout unless
        given; ``None`` when the read timeout is ``None`` too."""
        if self._deadline is not None:
            return None if self._deadline == float("inf") else self._deadline
        read = self.timeout.read
        return None if read is None else 2 * read

    def _start(self, opts: Options | None = None) -> Deadline:
        seconds = opts.deadline if opts is not None and opts.deadline is not None else self.deadline
        return Deadline(None if seconds == float("inf") else seconds)

    def __repr__(self) -> str:
        provider = f"provider={self.provider.id!r}, " if self.provider is not None else ""
        return f"{type(self).__name__}({provider}base_url={redact_url(self.base_url)!r})"

    def _auth(self) -> dict[str, str]:
        token = self._token_provider() if self._token_provider is not None else self.__token
        if token and not self.__key:  # a bearer token instead of the key (Microsoft Entra ID on Azure)
            remember_secret(token)
            return {"Authorization": f"Bearer {token}"}
        if not self.__key or not self.auth_header:
            return {}
        if self.auth_header.lower() == "authorization":
            return {"Authorization": f"Bearer {self.__key}"}
        return {self.auth_header: self.__key}

    def _headers(self, stream: bool, encoding: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        """The headers of a call: Accept for a stream, the agent, the credential, the default headers, the
        caller's extra headers, and Content-Type for JSON (multipart adds its own with the boundary). Those
        of a JSON call without extra headers are built once, unless a token provider gives the credential
        anew for every call; keyed by ``auth_header`` too, which a caller may set after the first call."""
        cached = encoding == "json" and not extra and self._token_provider is None
        key = (stream, self.auth_header)
        headers = self._fixed_headers.get(key) if cached else None
        if headers is None:
            headers = {
                **(_STREAM_ACCEPT if stream else {}),
                **self._agent,
                **self._auth(),
                **self._default_headers,
                **(extra or {}),
            }
            if encoding == "json":
                headers["Content-Type"] = "application/json"
            if cached:
                self._fixed_headers[key] = headers
        return headers

    def _url(self, http: httpx.Client | httpx.AsyncClient, address: str) -> httpx.URL:
        """``address`` parsed once, as a URL of the HTTP client's own library (httpx, or a fork of it)."""
        key = (type(http), address)
        url = self._urls.get(key)
        if url is None:
            if len(self._urls) >= 64:
                self._urls.clear()
            url = self._urls[key] = type(http.base_url)(address)
        return url

    def _build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        op_key: str,
        values: Mapping[str, Any],
        stream: bool,
        opts: Options,
    ) -> httpx.Request:
        op = OPERATIONS[op_key]
        given = {name: value for name, value in values.items() if value is not None}
        if "model" not in given and self.model is not None and "model" in values:
            given["model"] = self.model
        validate = self.validate if opts.validate is None else opts.validate
        declared = given.get("model")
        deployed = self.provider is not None and self.provider.model_from_deployment
        if deployed:  # the deployment picks the model: model= and deployments= declare it for the checks
            if declared is None and self._where.deployment is not None:
                declared = self.deployments.get(self._where.deployment)
            if self._where.body_model is not None:
                given["model"] = self._where.body_model
        notes: list[str] = []
        table: Mapping[str, CatalogModel] | None = self.models
        allow_retired = self.allow_retired
        if validate:
            self._offered(op_key, declared)
            table, allow_retired, notes = self._rules_for(op_key, declared)
            for note in notes:
                if note not in self._warned:
                    self._warned.add(note)
                    logger.warning("%s %s: %s", redact_url(self.base_url), op_key, note)
        parts = FILE_PARTS.get(op_key, {})
        by_reference = "images" in given or isinstance(given.get("mask"), Mapping)
        if by_reference and "image" in given:
            raise ValidationError(
                "pass image= (files, multipart) or images= (references, JSON), not both",
                rule="encoding",
                field="image",
                allowed=None,
                model=given.get("model"),
            )
        encoding = (
            "json" if "json" in op.encodings and (by_reference or "multipart" not in op.encodings) else "multipart"
        )
        files: list[tuple[str, Upload]] = []
        uploads: dict[str, list[Upload]] = {}
        if encoding == "multipart":
            for name, many_part in parts.items():
                if name not in given:
                    continue
                value = given.pop(name)
                items = list(value) if _is_many(value) else [value]
                try:
                    read = [read_file(item, field=name) for item in items]
                except InputFileError as err:
                    raise ValidationError(
                        str(err), rule="file", field=name, allowed=None, model=given.get("model")
                    ) from None
                except (OSError, ValueError) as err:  # unreadable, a closed file, ...
                    raise ValidationError(
                        f"{name}: cannot read the file: {err}",
                        rule="file",
                        field=name,
                        allowed=None,
                        model=given.get("model"),
                    ) from None
                uploads[name] = read
                part = many_part if (len(read) > 1 and many_part) else name
                files += [(part, upload) for upload in read]
        if stream:
            given["stream"] = True
        if validate and "prompt" in given and not isinstance(given["prompt"], str):
            raise ValidationError(
                f"prompt must be text, not {type(given['prompt']).__name__}",
                rule="type",
                field="prompt",
                allowed=None,
                model=given.get("model") if isinstance(given.get("model"), str) else None,
            )
        checked = {**given, "model": declared} if deployed else given
        if validate:
            shape = _shape(given)
            if table is not None and not self._passed(
                op_key, encoding, checked, uploads, shape if checked is given else _shape(checked)
            ):
                self._check(op_key, encoding, checked, uploads, table, allow_retired)
            self._check_schema(op_key, encoding, given, shape)  # the spec's own, whatever the catalog says
        bad = _non_ascii(opts.extra_headers)
        if bad:
            raise ValidationError(
                f"header {bad!r} holds non-ASCII text; HTTP header values must be ASCII",
                rule="header",
                field=bad,
                allowed=None,
                model=given.get("model") if isinstance(given.get("model"), str) else None,
            )
        body = {**given, **opts.extra_body} if opts.extra_body else given
        headers = self._headers(stream, encoding, opts.extra_headers)
        if encoding == "json":
            content = _JSON.encode(body).encode()
        else:
            content, headers["Content-Type"] = encode(body, files)
        query = {**self._default_query, **opts.extra_query} if opts.extra_query else self._default_query
        address = self.base_url + op.path
        timeout = self.timeout if opts.timeout is None else opts.timeout
        request = None
        if encoding == "json" and not opts.extra_headers:
            request = self._request(http, op.method, address, query, content, headers, timeout)
        if request is None:
            request = http.build_request(
                op.method,
                self._url(http, address),
                params=query or None,
                content=content,
                headers=headers,
                timeout=timeout,
            )
        request.extensions["imagewire"] = _Sent(tuple(notes), declared if isinstance(declared, str) else None, given)
        return request

    def _request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        method: str,
        address: str,
        query: Mapping[str, str],
        content: bytes,
        headers: Mapping[str, str],
        timeout: Any,
    ) -> httpx.Request | None:
        """The request ``http.build_request`` makes of a JSON body, its URL and headers (the call's merged with
        the HTTP client's own, Host added) made once per shape and only Content-Length set anew; None where
        httpx builds it itself: an HTTP client with cookies, a build_request of its own or of another library,
        a timeout that is not an ``httpx.Timeout``, a relative URL."""
        import httpx

        if type(http).build_request is not httpx.Client.build_request or http.cookies:
            return None
        if not isinstance(timeout, httpx.Timeout):
            return None
        key = (http, method, address, tuple(query.items()), tuple(headers.items()), tuple(http.headers.raw))
        made = self._made.get(key)
        if made is None:
            probe = http.build_request(  # a body of one byte: Content-Length where a body puts it
                method, self._url(http, address), params=query or None, content=b"-", headers=headers, timeout=timeout
            )
            if not probe.url.is_absolute_url:
                return None
            if len(self._made) >= 64:
                self._made.clear()
            made = self._made[key] = (probe.url, probe.headers)
        url, head = made
        sent = httpx.Headers(head)
        sent["Content-Length"] = str(len(content))  # in place, where httpx puts it
        request = httpx.Request(
            method, url, headers=sent, stream=httpx.ByteStream(content), extensions={"timeout": timeout.as_dict()}
        )
        request.read()
        return request

    def _check_schema(self, op_key: str, encoding: str, given: Mapping[str, Any], shape: _Shape | None) -> None:
        """The spec's schema constraints of each field; once a call's other fields passed, only its prompt is
        checked again for a call of the same shape (fields are checked one by one, so the verdict is the same),
        by its length alone when that is all its schema constrains. ``shape``: :func:`_shape` of ``given``."""
        key = None if shape is None else (op_key, encoding, shape)
        fields = given
        if key in self._schema_passed and "prompt" in given:
            prompt = given["prompt"]
            bounds = text_bounds(op_key, encoding, "prompt")
            if bounds is not None and prompt.__class__ is str and bounds[0] <= len(prompt) <= bounds[1]:
                return
            fields = {"prompt": prompt}
        try:
            check_schema(op_key, encoding, fields)
        except CheckError as err:
            raise self._refusal(err) from None
        if key is not None and fields is given:
            if len(self._schema_passed) >= 256:
                self._schema_passed.clear()
            self._schema_passed.add(key)

    def _passed(
        self, op_key: str, encoding: str, given: Mapping[str, Any], uploads: Mapping[str, Any], shape: _Shape | None
    ) -> bool:
        """Whether an identical call (but for a prompt within the model's limit) already passed the checks.
        ``shape``: :func:`_shape` of ``given``."""
        if uploads or shape is None:  # files, or an unhashable value: no short-cut
            return False
        key = (op_key, encoding, shape)
        limit = self._passed_calls.get(key, -1)
        prompt = given.get("prompt")
        return limit != -1 and (limit is None or (isinstance(prompt, str) and len(prompt) <= limit))

    def _check(
        self,
        op_key: str,
        encoding: str,
        given: Mapping[str, Any],
        uploads: Mapping[str, list[Upload]],
        models: Mapping[str, CatalogModel],
        allow_retired: bool,
    ) -> None:
        images = uploads.get("image", [])
        masks = uploads.get("mask") or []
        other = {name: read[0] for name, read in uploads.items() if name not in ("image", "mask")}
        try:
            check(
                op_key,
                {**given, **other},
                images=images,
                mask=masks[0] if masks else None,
                encoding=encoding,
                models=models,
                allow_retired=allow_retired,
            )
        except CheckError as err:
            raise self._refusal(err) from None
        shape = _shape(given)
        if uploads or shape is None:
            return
        key = (op_key, encoding, shape)
        model = models.get(given["model"]) if isinstance(given.get("model"), str) else None
        if len(self._passed_calls) >= 256:
            self._passed_calls.clear()
        self._passed_calls[key] = model.prompt_max_length if model is not None else None

    def _refusal(self, err: CheckError) -> ValidationError:
        message = str(err)
        serving = providers_serving(err.model) if err.rule == "lifecycle" and err.model else []
        if serving:
            message += f"; providers that still serve it: {', '.join(serving)}"
        return ValidationError(message, rule=err.rule, field=err.field, allowed=err.allowed, model=err.model)

    def _offered(self, op_key: str, model: Any) -> None:
        """The provider (on this api-version) offers this operation."""
        p = self.provider
        if p is None:
            return
        version = self._where.version
        offered = version.operations if version is not None else p.operations
        if op_key not in offered:
            on = f" on api-version {version.name}" if version is not None else ""
            raise ValidationError(
                f"{p.id} does not offer {op_key}{on} (it offers {_words(offered)}); pass validate=False to send anyway",
                rule="provider",
                field=None,
                allowed=offered,
                model=model if isinstance(model, str) else None,
            )

    def _rules_for(self, op_key: str, model: Any) -> tuple[Mapping[str, CatalogModel] | None, bool, list[str]]:
        """:meth:`_rules` of a model named by its id, worked out once per operation, model and allow_retired
        (and anew when ``models`` is replaced); the notes it returns are shared, not to be changed."""
        if not isinstance(model, str):
            return self._rules(op_key, model)
        key = (op_key, model, self.allow_retired)
        known = self._rules_known.get(key)
        if known is not None and known[0] is self.models:
            return known[1]
        rules = self._rules(op_key, model)
        if len(self._rules_known) >= 256:
            self._rules_known.clear()
        self._rules_known[key] = (self.models, rules)
        return rules

    def _rules(self, op_key: str, model: Any) -> tuple[Mapping[str, CatalogModel] | None, bool, list[str]]:
        """The provider's validation policy for one call: the model table that checks it (None: no check that
        needs a model applies), whether models retired at their vendor pass, and what to warn about. A known
        table refuses a model it does not list; an open provider sends it, checked by the model catalog
        where the catalog knows it."""
        p = self.provider
        if p is None or self._own_models or (model is not None and not isinstance(model, str)):
            return self.models, self.allow_retired, []
        if model is None:
            if p.model_from_deployment:
                which = f"deployment {self._where.deployment!r}" if self._where.deployment else "the deployment"
                return (
                    None,
                    True,
                    [
                        f"the model of {which} is not declared, so the checks that need one are skipped "
                        "(declare it with model= or deployments=)"
                    ],
                )
            return self.models, self.allow_retired, []
        notes: list[str] = []
        version = self._where.version
        if version is not None and version.models is not None:
            if model in version.models:
                return version.models, self.allow_retired, []
            notes.append(
                f"{model} is not listed for api-version {version.name} (it lists {_words(list(version.models))}); "
                "checked by the model catalog"
            )
        table = p.model_table
        if table is not None and model in table:
            return table, self.allow_retired, notes
        known = MODELS.get(model)
        if p.policy == "known":
            if known is not None and known.lifecycle.gone:
                try:
                    check(op_key, {"model": model}, models=MODELS)
                except CheckError as err:
                    raise self._refusal(err) from None
            if known is not None:
                serving = ", ".join(name for name in providers_serving(model) if name != p.id)
                message = f"{model} is not offered by {p.id}; it offers {_words(list(p.models or ()))}"
                message += f"; providers that serve it: {serving}" if serving else ""
                raise ValidationError(
                    message + "; pass validate=False to send it anyway",
                    rule="provider",
                    field="model",
                    allowed=p.models,
                    model=model,
                )
            return table, self.allow_retired, notes  # unknown: the checks refuse it, with close matches
        if known is None:
            hint = suggest(model, list(MODELS))
            also = f" ({hint[2:]})" if hint else ""
            notes.append(f"model {model!r} is not in the catalog{also}, so it was sent to {p.id} unchecked")
            return None, True, notes
        if known.lifecycle.gone and not self.allow_retired:
            verb = "retired" if known.lifecycle.status == "retired" else "shut down"
            when = f" on {known.lifecycle.retired_on}" if known.lifecycle.retired_on else ""
            notes.append(f"{model} was {verb} at {known.vendor}{when}; sent to {p.id} all the same")
            return MODELS, True, notes
        return MODELS, self.allow_retired, notes

    def _estimate(
        self, op_key: str, model: str | None, size: str | None, quality: str | None, n: int, batch: bool
    ) -> Estimate:
        model_id = model or self.model
        if model_id is None and self.provider is not None and self._where.deployment is not None:
            model_id = self.deployments.get(self._where.deployment)
        table: Mapping[str, CatalogModel] | None = self.models
        if self.validate:
            self._offered(op_key, model_id)
            table, allow_retired, _ = self._rules_for(op_key, model_id)
            op = OPERATIONS.get(op_key)
            encoding = "json" if op is None or "json" in op.encodings else "multipart"
            fields = {"model": model_id, "size": size, "quality": quality, "n": n}
            if table is not None and model_id is not None:
                try:
                    check(op_key, fields, encoding=encoding, models=table, allow_retired=allow_retired)
                except CheckError as err:
                    if err.rule not in ("images", "mask"):  # an estimate sends no files
                        raise self._refusal(err) from None
        spec = (table or self.models).get(model_id) if model_id else None
        return estimate(self.provider, spec, model_id, operation=op_key, size=size, quality=quality, n=n, batch=batch)

    def _retries(self, opts: Options) -> int:
        return self.max_retries if opts.max_retries is None else opts.max_retries

    def _decoded(self, response: httpx.Response, sent: _Sent | None = None) -> Any:
        """The JSON of an answer, holding at most ``max_images`` images; a ResponseContractError if not.
        ``sent``: what the request carried (read from ``response`` when not given)."""
        try:
            payload = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            content_type = response.headers.get("content-type", "")
            what = "an HTML page" if "html" in content_type else f"not JSON ({content_type or 'no content type'})"
            raise _contract_error(response, f"the answer is {what}") from None
        except RecursionError:
            raise _contract_error(response, "the answer is JSON nested too deeply to read") from None
        sent = _sent(response) if sent is None else sent
        data = payload.get("data") if isinstance(payload, dict) else None
        if isinstance(data, list):
            asked = sent.fields.get("n")
            most = self.limits.max_images(asked if isinstance(asked, int) else None)
            if len(data) > most:
                raise _contract_error(
                    response,
                    f"the answer holds {len(data):,} images, more than the {most} expected "
                    f"for n={asked or 1} (see max_images=)",
                    "/data",
                )
        return payload

    def _read(self, op_key: str, response: httpx.Response) -> Any:
        """Read a JSON answer as the operation's result; a ResponseContractError if it is not one."""
        answer, shape_error = _answer_types()
        sent = _sent(response)
        payload = self._decoded(response, sent)
        try:
            result = answer.from_dict(payload)
        except shape_error as err:
            raise _contract_error(
                response, f"the answer is not an {answer.__name__}: {err.reason}", err.pointer
            ) from None
        except RecursionError:
            raise _contract_error(response, "the answer is JSON nested too deeply to read") from None
        if not result.data:
            error = payload.get("error") if isinstance(payload, dict) else None
            if isinstance(error, dict):  # an error envelope on a success status: typed by its code all the same
                raise error_from_payload(payload, status_code=response.status_code, headers=response.headers)
            hint = " (it looks like a chat.completion)" if isinstance(payload, dict) and "choices" in payload else ""
            raise _contract_error(response, f"the answer has no images: data is missing or empty{hint}", "/data")
        for index, image in enumerate(result.data):
            url = getattr(image, "url", None)
            if image is None or not (url or getattr(image, "b64_json", None)):
                raise _contract_error(response, "an image has neither url nor b64_json", f"/data/{index}")
            if url and not _fetchable(url):
                raise _contract_error(
                    response, f"the image url is not an absolute http(s) URL: {url[:80]!r}", f"/data/{index}/url"
                )
            image._client = self
        result._client = self
        if result.warnings:
            result.warnings, result.quirks = self._declared(result.warnings)
            self._note(op_key, result.warnings)
        if self._extra_key_quirks:
            result.quirks += [
                q.id for q in self._extra_key_quirks if q.id not in result.quirks and _present(payload, q.pointer)
            ]
        result.warnings = [*sent.notes, *result.warnings]
        if self.provider is not None and (self.provider.prices or self.provider.token_prices):  # else unknown
            fields = sent.fields
            result.cost = cost(
                self.provider,
                sent.model or (fields.get("model") if not self.provider.model_from_deployment else None),
                getattr(result, "usage", None),
                size=_text(getattr(result, "size", None)) or _text(fields.get("size")),
                quality=_text(getattr(result, "quality", None)) or _text(fields.get("quality")),
                images=len(result.data),
            )
        return result

    def _declared(self, warnings: list[str]) -> tuple[list[str], list[str]]:
        """Split deviations into undeclared ones and the ids of the provider's quirks that explain the rest."""
        quirks = [q for q in (self.provider.quirks if self.provider is not None else ()) if q.pointer]
        if not quirks or not warnings:
            return warnings, []
        left: list[str] = []
        seen: list[str] = []
        for warning in warnings:
            where = warning.split(":", 1)[0]
            match = next((q.id for q in quirks if _glob(q.pointer or "", where)), None)
            if match is None:
                left.append(warning)
            elif match not in seen:
                seen.append(match)
        return left, seen

    def _note(self, op_key: str, warnings: Sequence[str]) -> None:
        for warning in warnings:
            key = f"{op_key} {warning}"
            if key not in self._warned:
                self._warned.add(key)
                logger.warning(
                    "%s %s: answer deviates from the contract: %s", redact_url(self.base_url), op_key, warning
                )

    def _event(self, op_key: str, payload: Mapping[str, Any]) -> Any:
        from ._model import ShapeError
        from ._results import event_from_dict

        try:
            event = event_from_dict(dict(payload))
        except ShapeError as err:
            raise ResponseContractError(
                f"unreadable stream event: {err.reason}",
                status_code=200,
                body=json.dumps(payload)[:2000],
                pointer=err.pointer,
            ) from None
        event._client = self
        event.warnings, event.quirks = self._declared(event.warnings)
        self._note(op_key, event.warnings)
        return event

    def _events_from_json(self, op_key: str, response: httpx.Response) -> list[Any]:
        """A relay that answers a stream request with plain JSON: its images as completed events."""
        result = self._read(op_key, response)
        events = []
        for image in result.data:
            payload = {"type": COMPLETED_EVENT[op_key], "b64_json": image.b64_json or ""}
            if getattr(image, "url", None):
                payload["url"] = image.url
            for name in ("size", "quality", "background", "output_format"):
                if getattr(result, name, None) is not None:
                    payload[name] = getattr(result, name)
            if result.created is not None:
                payload["created_at"] = result.created
            events.append(self._event(op_key, payload))
        return events

    # --- shared by the sync and async sides

    def _answered(self, request: httpx.Request, response: httpx.Response, start: float) -> APIStatusError | None:
        """Log the answer; the error it stands for (None: a success)."""
        if logger.isEnabledFor(DEBUG if response.status_code < 400 else INFO):
            log_response(
                request.method,
                str(request.url),
                response.status_code,
                time.perf_counter() - start,
                request_id_from_headers(response.headers),
            )
        if response.status_code >= 400:
            return error_from_response(response.status_code, response.headers, response.content, request=request)
        return None

    def _fetchable_or_raise(self, url: str) -> None:
        if not _fetchable(url):
            raise ResponseContractError(f"the image url is not an absolute http(s) URL: {url[:80]!r}", pointer="/url")

    def _private_ok(self) -> bool:
        return self._private_base if self.allow_private_downloads is None else self.allow_private_downloads

    def _private_url(self, url: str, address: str) -> ResponseContractError:
        return ResponseContractError(
            f"the image url {redact_url(url)[:80]!r} is on a loopback, private or link-local address ({address}); "
            "such downloads are refused unless base_url is on one too or allow_private_downloads=True",
            pointer="/url",
        )

    def _ahead(self, url: str, proxied: bool) -> tuple[str, int] | None:
        """Check a download's target before anything is sent. A host written as a private IP is refused;
        through a proxy, which connects in the client's stead (the address connected to is the proxy's),
        so are ``localhost`` names, and the (host, port) returned is to be resolved here and checked too."""
        if self._private_ok():
            return None
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if _literal_private(host) or (proxied and (host == "localhost" or host.endswith(".localhost"))):
            raise self._private_url(url, host)
        if not proxied or _literal(host):
            return None
        return host, parts.port or (443 if parts.scheme == "https" else 80)

    def _resolved(self, url: str, addresses: Sequence[str]) -> None:
        """Refuse a download whose host resolves here to a private address (one that does not resolve here
        is left to the proxy, which resolves names on its own)."""
        bad = next((address for address in addresses if private_address(address)), None)
        if bad is not None:
            raise self._private_url(url, bad)

    def _hop(self, url: str, response: httpx.Response, proxied: bool = False) -> str | None:
        """Check where a download connected to (unless through a proxy: then the proxy is the peer, and the
        target was checked before sending); the next URL when the answer is a redirect, else None."""
        peer = None if proxied else _peer(response)
        if peer is not None and private_address(peer) and not self._private_ok():
            raise self._private_url(url, peer)
        location = str(response.headers.get("location") or "")
        if response.status_code in _REDIRECTS and location:
            target = urljoin(url, location)
            self._fetchable_or_raise(target)
            return target
        return None

    def _download_request(self, url: str, deadline: Deadline) -> httpx.Request:
        """A GET of an image URL with none of this client's credentials, headers or cookies."""
        import httpx

        request = httpx.Request(
            "GET", url, headers={"User-Agent": USER_AGENT}, extensions={"timeout": self.timeout.as_dict()}
        )
        _timeouts(request, deadline)
        return request


# --- sync ------------------------------------------------------------------------------------------------


class Stream(Generic[E]):
    """Events of a streamed call: iterate it; closed at the end or on error."""

    def __init__(
        self, client: SyncBase, op_key: str, response: httpx.Response, deadline: Deadline | None = None
    ) -> None:
        self._client = client
        self._op_key = op_key
        self.response = response
        self._deadline = deadline if deadline is not None else Deadline(None)

    def __iter__(self) -> Iterator[E]:
        return self._events()

    def _lines(self) -> Iterator[str]:
        """The stream's lines, each event within the size limit, a real event at least every read timeout."""
        response = self.response
        limits, idle = self._client.limits, self._client.timeout.read
        try:
            if hasattr(response, "_content"):  # read already (a transport that hands over whole answers)
                lines, chunks = EventLines(None, limits.event_bytes, idle), iter([response.content])
            else:
                lines = EventLines(response.headers.get("content-encoding"), limits.event_bytes, idle)
                chunks = response.iter_raw()
        except ValueError:  # an encoding decoded by httpx (br, zstd): counted once decoded
            lines = EventLines(None, limits.event_bytes, idle)
            chunks = response.iter_bytes()
        for chunk in self._deadline.paced(iter(chunks)):
            self._deadline.check("the stream")
            yield from lines.feed(chunk)
        yield from lines.finish()

    def _events(self) -> Iterator[E]:
        import httpx

        response = self.response
        client = self._client
        try:
            content_type = response.headers.get("content-type", "")
            if "event-stream" not in content_type and "json" in content_type:
                with self._deadline.active():
                    client._body(response, client.limits.answer_bytes, "the answer", self._deadline)
                yield from client._events_from_json(self._op_key, response)
                return
            if "html" in content_type:
                with self._deadline.active():
                    client._body(response, client.limits.answer_bytes, "the answer", self._deadline)
                raise _contract_error(response, f"a stream was asked for, the answer is {content_type or 'untyped'}")
            completed = False
            notes = _sent(response).notes  # the policy's warnings ride on the first event
            for sse in iter_events(self._lines()):
                if is_done(sse):
                    break
                event = self._client._event(self._op_key, decode_stream_event(sse))
                if notes:
                    event.warnings, notes = [*notes, *event.warnings], ()
                completed = completed or str(getattr(event, "type", "")).endswith(".completed")
                yield event
            if not completed:
                raise ResponseContractError("the stream ended without a completed image", pointer="")
        except LimitExceeded as err:
            raise _too_large(err, response) from None
        except DeadlineExceeded as err:
            raise APITimeoutError(str(err), request=response.request, outcome="uncertain") from None
        except Undecodable as err:
            raise ResponseContractError(str(err), status_code=response.status_code, pointer="") from None
        except httpx.HTTPError as exc:
            if _over(self._deadline):
                raise _timed_out("the stream", self._deadline, response.request) from exc
            raise to_client_error(exc, response.request) from exc
        finally:
            response.close()

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> Stream[E]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SyncBase(_Base):
    """The sync client's HTTP side: its ``httpx.Client``, sending with retries, streams and downloads."""

    _http_client: httpx.Client | None

    def _connect(self, http_client: httpx.Client | None, sleep: Callable[[float], None] | None) -> None:
        self._http_client = http_client
        self._owns_http = http_client is None
        #: whether every connection of the HTTP client keeps to the call's deadline by itself (see ._net)
        self._paced = False
        if http_client is None:  # our own HTTP client carries the User-Agent as a default
            self._agent = {}
        else:
            from ._net import install

            self._paced = install(http_client)
        self._sleep = sleep if sleep is not None else time.sleep

    @property
    def _http(self) -> httpx.Client:
        if self._http_client is None:
            import httpx

            from ._net import install

            self._http_client = httpx.Client(timeout=self.timeout, headers={"User-Agent": USER_AGENT})
            self._paced = install(self._http_client)
        return self._http_client

    def close(self) -> None:
        """Close the HTTP client if this client made it."""
        if self._owns_http and self._http_client is not None:
            self._http_client.close()
            self._http_client = None

    def _retry_wait(
        self,
        request: httpx.Request,
        policy: Retry,
        attempt: int,
        wait: float,
        reason: str,
        deadline: Deadline,
        error: Exception,
    ) -> bool:
        """Wait before retry number ``attempt`` and say True; False (waiting for nothing) when the retry would
        start at or past the deadline."""
        if _late(deadline, wait, error):
            return False
        log_retry(
            request.method, request.url, attempt=attempt + 1, max_retries=policy.max_retries, delay=wait, reason=reason
        )
        self._sleep(wait)
        return True

    def _watched(self, request: httpx.Request, deadline: Deadline, *, credentials: bool = True) -> httpx.Response:
        """Send ``request`` (no redirect followed) and return once its headers are in. The connections keep to
        the deadline active around the call (see ._net); on a transport they cannot wrap, a watchdog shuts
        a new connection down when the deadline passes first (a server sending its headers a byte at a time)."""
        left = deadline.remaining()
        auth: Any = {} if credentials else {"auth": None}
        http = self._http
        if left is None or self._paced:
            return http.send(request, stream=True, follow_redirects=False, **auth)
        streams: list[Any] = []
        earlier = request.extensions.get("trace")

        def trace(event: str, info: dict[str, Any]) -> None:
            if event.endswith(("connect_tcp.complete", "start_tls.complete")) and info.get("return_value"):
                streams.append(info["return_value"])
            if earlier is not None:
                earlier(event, info)

        request.extensions["trace"] = trace

        def shut() -> None:
            for stream in streams:
                _shut(stream)

        token = _WATCHDOG.arm(max(left, 0.0), shut)
        try:
            return http.send(request, stream=True, follow_redirects=False, **auth)
        finally:
            _WATCHDOG.disarm(token)
            if earlier is None:
                request.extensions.pop("trace", None)
            else:
                request.extensions["trace"] = earlier

    def _exchange(self, request: httpx.Request, deadline: Deadline) -> httpx.Response:
        """Send an API call; follow a 307/308 within its own origin, refuse a redirect anywhere else."""
        for _ in range(_MAX_REDIRECTS + 1):
            if _over(deadline):  # nothing is sent once the deadline has passed (a late hop, a late retry)
                raise _timed_out("the call", deadline, request)
            _timeouts(request, deadline)
            response = self._watched(request, deadline)
            try:
                target = _same_origin_target(request, response)
            except APIStatusError:
                response.close()
                raise
            if target is None:
                return response
            response.close()
            request = _moved(request, target)
        raise _redirected(request, response, str(request.url))

    def _body(self, response: httpx.Response, limit: int, what: str, deadline: Deadline) -> bytes:
        """Read the whole body, decoded, within ``limit`` bytes and the deadline (a typed error if not)."""
        if hasattr(response, "_content"):  # read already (a transport that hands over whole answers)
            return _whole(response, limit, what)
        try:
            body, raw = _opened(response, limit, what, deadline)
            for chunk in response.iter_raw() if raw else response.iter_bytes():
                body.add(chunk)
            data = body.bytes()
        except (LimitExceeded, DeadlineExceeded, Undecodable) as err:
            raise _unread(err, response, what, deadline) from None
        finally:
            response.close()
        response._content = data
        return data

    def _send(self, request: httpx.Request, *, stream: bool, opts: Options, deadline: Deadline) -> httpx.Response:
        """Send with retries; the answer's headers in (and its body read, unless ``stream``), or an error."""
        token = CALL_END.set(deadline.end)  # deadline.active(), without a generator frame per call
        try:
            return self._attempts(request, stream=stream, opts=opts, deadline=deadline)
        finally:
            CALL_END.reset(token)

    def _attempts(self, request: httpx.Request, *, stream: bool, opts: Options, deadline: Deadline) -> httpx.Response:
        import httpx

        policy = self._policy if opts.max_retries is None else self._policy._replace(max_retries=opts.max_retries)
        unsafe_ok = bool(opts.retry_read_errors)
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                if _over(deadline):
                    raise _timed_out("the call", deadline, request)
                if opts.gate is not None:
                    opts.gate.enter_sync(self._sleep)
                response = self._exchange(request, deadline)
            except httpx.HTTPError as exc:
                if _over(deadline):
                    raise _timed_out("the call", deadline, request) from exc
                kind = classify(exc)
                error = to_client_error(exc, request, retried=attempt > 0)
                if (
                    attempt < policy.max_retries
                    and (kind == "unsent" or (kind == "uncertain" and unsafe_ok))
                    and self._retry_wait(
                        request, policy, attempt, delay(policy, attempt, None), type(exc).__name__, deadline, error
                    )
                ):
                    attempt += 1
                    continue
                raise error from exc
            if opts.gate is not None:
                opts.gate.answered(response.status_code, response.headers)
            if not stream or response.status_code >= 400:
                try:
                    what = "the answer" if response.status_code < 400 else "the error answer"
                    self._body(response, self.limits.answer_bytes, what, deadline)
                except httpx.HTTPError as exc:
                    response.close()
                    if _over(deadline):
                        raise _timed_out("the call", deadline, request) from exc
                    error = to_client_error(exc, request)
                    if (
                        attempt < policy.max_retries
                        and unsafe_ok
                        and classify(exc) != "fatal"
                        and self._retry_wait(
                            request, policy, attempt, delay(policy, attempt, None), type(exc).__name__, deadline, error
                        )
                    ):
                        attempt += 1
                        continue
                    raise error from exc
            answered = self._answered(request, response, start)
            if answered is None:
                return response
            if (
                attempt < policy.max_retries
                and retryable_status(answered)
                and self._retry_wait(
                    request,
                    policy,
                    attempt,
                    delay(policy, attempt, response.headers),
                    f"status {response.status_code}",
                    deadline,
                    answered,
                )
            ):
                attempt += 1
                continue
            raise answered

    def _call(self, op_key: str, values: Mapping[str, Any], *, stream: bool, opts: Options) -> Any:
        deadline = self._start(opts)
        request = self._build(self._http, op_key, values, stream, opts)
        response = self._send(request, stream=stream, opts=opts, deadline=deadline)
        if stream:
            return Stream[Any](self, op_key, response, deadline)
        return self._read(op_key, response)

    def _download(self, url: str) -> bytes:
        """GET an image URL with this client's HTTP stack but none of its credentials, within the download
        limit and the deadline; redirects are followed, each hop's address checked."""
        import httpx

        from ._net import proxied

        self._fetchable_or_raise(url)
        deadline = self._start()
        try:
            for _ in range(_MAX_REDIRECTS + 1):
                via_proxy = proxied(self._http, url)
                resolve = self._ahead(url, via_proxy)
                if resolve is not None:
                    self._resolved(url, _addresses(*resolve, deadline))
                if _over(deadline):
                    raise _timed_out("the image download", deadline, None)
                with deadline.active():
                    response = self._watched(self._download_request(url, deadline), deadline, credentials=False)
                try:
                    target = self._hop(url, response, via_proxy)
                except ResponseContractError:
                    response.close()
                    raise
                if target is None:
                    with deadline.active():
                        if not 200 <= response.status_code < 300:
                            self._body(response, self.limits.answer_bytes, "the error answer", deadline)
                            raise error_from_response(
                                response.status_code, response.headers, response.content, request=response.request
                            )
                        return self._body(response, self.limits.download_bytes, "the image download", deadline)
                response.close()
                url = target
        except httpx.InvalidURL as exc:
            raise ResponseContractError(f"the image url cannot be fetched: {exc}", pointer="/url") from None
        except httpx.HTTPError as exc:
            if _over(deadline):
                raise _timed_out("the image download", deadline, None) from exc
            raise to_client_error(exc, None) from exc
        raise ResponseContractError(f"the image url redirects more than {_MAX_REDIRECTS} times", pointer="/url")


# --- async -----------------------------------------------------------------------------------------------


class AsyncStream(Generic[E]):
    """Events of a streamed call: iterate it with ``async for``; closed at the end or on error."""

    def __init__(
        self, client: AsyncBase, op_key: str, response: httpx.Response, deadline: Deadline | None = None
    ) -> None:
        self._client = client
        self._op_key = op_key
        self.response = response
        self._deadline = deadline if deadline is not None else Deadline(None)

    def __aiter__(self) -> AsyncIterator[E]:
        return self._events()

    async def _lines(self) -> AsyncIterator[str]:
        """The stream's lines, each event within the size limit, a real event at least every read timeout."""
        response = self.response
        limits, idle = self._client.limits, self._client.timeout.read
        try:
            if hasattr(response, "_content"):  # read already (a transport that hands over whole answers)
                lines, chunks = EventLines(None, limits.event_bytes, idle), _once(response.content)
            else:
                lines = EventLines(response.headers.get("content-encoding"), limits.event_bytes, idle)
                chunks = response.aiter_raw()
        except ValueError:  # an encoding decoded by httpx (br, zstd): counted once decoded
            lines = EventLines(None, limits.event_bytes, idle)
            chunks = response.aiter_bytes()
        async for chunk in _apaced(self._deadline, chunks):
            self._deadline.check("the stream")
            for line in lines.feed(chunk):
                yield line
        for line in lines.finish():
            yield line

    async def _events(self) -> AsyncIterator[E]:
        import httpx

        response = self.response
        client = self._client
        try:
            content_type = response.headers.get("content-type", "")
            if "event-stream" not in content_type and "json" in content_type:
                with self._deadline.active():
                    await client._body(response, client.limits.answer_bytes, "the answer", self._deadline)
                for event in client._events_from_json(self._op_key, response):
                    yield event
                return
            if "html" in content_type:
                with self._deadline.active():
                    await client._body(response, client.limits.answer_bytes, "the answer", self._deadline)
                raise _contract_error(response, f"a stream was asked for, the answer is {content_type or 'untyped'}")
            completed = False
            notes = _sent(response).notes  # the policy's warnings ride on the first event
            async for sse in aiter_events(self._lines()):
                if is_done(sse):
                    break
                event = self._client._event(self._op_key, decode_stream_event(sse))
                if notes:
                    event.warnings, notes = [*notes, *event.warnings], ()
                completed = completed or str(getattr(event, "type", "")).endswith(".completed")
                yield event
            if not completed:
                raise ResponseContractError("the stream ended without a completed image", pointer="")
        except LimitExceeded as err:
            raise _too_large(err, response) from None
        except DeadlineExceeded as err:
            raise APITimeoutError(str(err), request=response.request, outcome="uncertain") from None
        except Undecodable as err:
            raise ResponseContractError(str(err), status_code=response.status_code, pointer="") from None
        except httpx.HTTPError as exc:
            if _over(self._deadline):
                raise _timed_out("the stream", self._deadline, response.request) from exc
            raise to_client_error(exc, response.request) from exc
        finally:
            await response.aclose()

    async def close(self) -> None:
        await self.response.aclose()

    async def __aenter__(self) -> AsyncStream[E]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncBase(_Base):
    """The async client's HTTP side: its ``httpx.AsyncClient``, sending with retries, streams and downloads."""

    _http_client: httpx.AsyncClient | None

    def _connect(self, http_client: httpx.AsyncClient | None, sleep: Callable[[float], Any] | None) -> None:
        self._http_client = http_client
        self._owns_http = http_client is None
        if http_client is None:  # our own HTTP client carries the User-Agent as a default
            self._agent = {}
        else:
            from ._net import install

            install(http_client)
        self._sleep = sleep if sleep is not None else _async_sleep

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._http_client is None:
            import httpx

            from ._net import install

            self._http_client = httpx.AsyncClient(timeout=self.timeout, headers={"User-Agent": USER_AGENT})
            install(self._http_client)
        return self._http_client

    async def close(self) -> None:
        """Close the HTTP client if this client made it."""
        if self._owns_http and self._http_client is not None:
            await self._http_client.aclose()
            self._http_client = None

    async def _retry_wait(
        self,
        request: httpx.Request,
        policy: Retry,
        attempt: int,
        wait: float,
        reason: str,
        deadline: Deadline,
        error: Exception,
    ) -> bool:
        """Wait before retry number ``attempt`` and say True; False (waiting for nothing) when the retry would
        start at or past the deadline."""
        if _late(deadline, wait, error):
            return False
        log_retry(
            request.method, request.url, attempt=attempt + 1, max_retries=policy.max_retries, delay=wait, reason=reason
        )
        await self._sleep(wait)
        return True

    async def _addresses(self, host: str, port: int, deadline: Deadline) -> list[str]:
        """The addresses ``host`` resolves to here, looked up within the deadline (in a thread of its own, not
        the loop's executor, which ``asyncio.run`` waits for at its end)."""
        import asyncio

        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[str]] = loop.create_future()

        def done(found: list[str]) -> None:
            loop.call_soon_threadsafe(lambda: None if answer.done() else answer.set_result(found))

        _resolve(host, port, done)
        try:
            return await asyncio.wait_for(answer, deadline.remaining())
        except TimeoutError:
            raise _timed_out("the image download", deadline, None) from None

    async def _watched(self, request: httpx.Request, deadline: Deadline, *, credentials: bool = True) -> httpx.Response:
        """Send ``request`` (no redirect followed) and return once its headers are in, or fail at the deadline."""
        left = deadline.remaining()
        auth: Any = {} if credentials else {"auth": None}
        sending = self._http.send(request, stream=True, follow_redirects=False, **auth)
        if left is None:
            return await sending
        import asyncio

        try:
            return await asyncio.wait_for(sending, max(left, 0.0))
        except TimeoutError:
            raise _timed_out("the call", deadline, request) from None

    async def _exchange(self, request: httpx.Request, deadline: Deadline) -> httpx.Response:
        """Send an API call; follow a 307/308 within its own origin, refuse a redirect anywhere else."""
        for _ in range(_MAX_REDIRECTS + 1):
            if _over(deadline):  # nothing is sent once the deadline has passed (a late hop, a late retry)
                raise _timed_out("the call", deadline, request)
            _timeouts(request, deadline)
            response = await self._watched(request, deadline)
            try:
                target = _same_origin_target(request, response)
            except APIStatusError:
                await response.aclose()
                raise
            if target is None:
                return response
            await response.aclose()
            request = _moved(request, target)
        raise _redirected(request, response, str(request.url))

    async def _body(self, response: httpx.Response, limit: int, what: str, deadline: Deadline) -> bytes:
        """Read the whole body, decoded, within ``limit`` bytes and the deadline (a typed error if not)."""
        if hasattr(response, "_content"):  # read already (a transport that hands over whole answers)
            return _whole(response, limit, what)
        try:
            body, raw = _opened(response, limit, what, deadline)
            async for chunk in response.aiter_raw() if raw else response.aiter_bytes():
                body.add(chunk)
            data = body.bytes()
        except (LimitExceeded, DeadlineExceeded, Undecodable) as err:
            raise _unread(err, response, what, deadline) from None
        finally:
            await response.aclose()
        response._content = data
        return data

    async def _send(self, request: httpx.Request, *, stream: bool, opts: Options, deadline: Deadline) -> httpx.Response:
        """Send with retries; the answer's headers in (and its body read, unless ``stream``), or an error."""
        with deadline.active():
            return await self._attempts(request, stream=stream, opts=opts, deadline=deadline)

    async def _attempts(
        self, request: httpx.Request, *, stream: bool, opts: Options, deadline: Deadline
    ) -> httpx.Response:
        import httpx

        policy = self._policy if opts.max_retries is None else self._policy._replace(max_retries=opts.max_retries)
        unsafe_ok = bool(opts.retry_read_errors)
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                if _over(deadline):
                    raise _timed_out("the call", deadline, request)
                if opts.gate is not None:
                    await opts.gate.enter()
                response = await self._exchange(request, deadline)
            except httpx.HTTPError as exc:
                if _over(deadline):
                    raise _timed_out("the call", deadline, request) from exc
                kind = classify(exc)
                error = to_client_error(exc, request, retried=attempt > 0)
                if (
                    attempt < policy.max_retries
                    and (kind == "unsent" or (kind == "uncertain" and unsafe_ok))
                    and await self._retry_wait(
                        request, policy, attempt, delay(policy, attempt, None), type(exc).__name__, deadline, error
                    )
                ):
                    attempt += 1
                    continue
                raise error from exc
            if opts.gate is not None:
                opts.gate.answered(response.status_code, response.headers)
            if not stream or response.status_code >= 400:
                try:
                    what = "the answer" if response.status_code < 400 else "the error answer"
                    await self._body(response, self.limits.answer_bytes, what, deadline)
                except httpx.HTTPError as exc:
                    await response.aclose()
                    if _over(deadline):
                        raise _timed_out("the call", deadline, request) from exc
                    error = to_client_error(exc, request)
                    if (
                        attempt < policy.max_retries
                        and unsafe_ok
                        and classify(exc) != "fatal"
                        and await self._retry_wait(
                            request, policy, attempt, delay(policy, attempt, None), type(exc).__name__, deadline, error
                        )
                    ):
                        attempt += 1
                        continue
                    raise error from exc
            answered = self._answered(request, response, start)
            if answered is None:
                return response
            if (
                attempt < policy.max_retries
                and retryable_status(answered)
                and await self._retry_wait(
                    request,
                    policy,
                    attempt,
                    delay(policy, attempt, response.headers),
                    f"status {response.status_code}",
                    deadline,
                    answered,
                )
            ):
                attempt += 1
                continue
            raise answered

    async def _call(self, op_key: str, values: Mapping[str, Any], *, stream: bool, opts: Options) -> Any:
        deadline = self._start(opts)
        request = self._build(self._http, op_key, values, stream, opts)
        response = await self._send(request, stream=stream, opts=opts, deadline=deadline)
        if stream:
            return AsyncStream[Any](self, op_key, response, deadline)
        return self._read(op_key, response)

    async def _adownload(self, url: str) -> bytes:
        """GET an image URL with this client's HTTP stack but none of its credentials, within the download
        limit and the deadline; redirects are followed, each hop's address checked."""
        import httpx

        from ._net import proxied

        self._fetchable_or_raise(url)
        deadline = self._start()
        try:
            for _ in range(_MAX_REDIRECTS + 1):
                via_proxy = proxied(self._http, url)
                resolve = self._ahead(url, via_proxy)
                if resolve is not None:
                    self._resolved(url, await self._addresses(*resolve, deadline))
                if _over(deadline):
                    raise _timed_out("the image download", deadline, None)
                with deadline.active():
                    response = await self._watched(self._download_request(url, deadline), deadline, credentials=False)
                try:
                    target = self._hop(url, response, via_proxy)
                except ResponseContractError:
                    await response.aclose()
                    raise
                if target is None:
                    with deadline.active():
                        if not 200 <= response.status_code < 300:
                            await self._body(response, self.limits.answer_bytes, "the error answer", deadline)
                            raise error_from_response(
                                response.status_code, response.headers, response.content, request=response.request
                            )
                        return await self._body(response, self.limits.download_bytes, "the image download", deadline)
                await response.aclose()
                url = target
        except httpx.InvalidURL as exc:
            raise ResponseContractError(f"the image url cannot be fetched: {exc}", pointer="/url") from None
        except httpx.HTTPError as exc:
            if _over(deadline):
                raise _timed_out("the image download", deadline, None) from exc
            raise to_client_error(exc, None) from exc
        raise ResponseContractError(f"the image url redirects more than {_MAX_REDIRECTS} times", pointer="/url")
