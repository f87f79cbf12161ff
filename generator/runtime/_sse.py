"""A tolerant Server-Sent Events decoder (the WHATWG "event stream" rules) and the stream-event reader.

Providers stream image events in several dialects: with or without ``event:`` lines, with ``:``
comments as heartbeats, with CRLF line ends, ending with ``data: [DONE]`` or just closing the
connection without a final blank line. :class:`SSEDecoder` handles all of them:

* a line ending is CR, LF or CRLF; a byte-order mark at the start of the stream is dropped;
* a blank line dispatches the event; a block without ``data`` is not an event;
* ``data`` lines are joined with ``"\\n"``; one space after the colon is dropped;
* a line starting with ``:`` is a comment; a line without a colon is a field with an empty value;
* ``id`` persists until changed (an ``id`` containing NUL is ignored); ``retry`` must be digits;
* at the end of the stream the pending event is dispatched even without a trailing blank line.

:func:`decode_stream_event` turns one event into the JSON object it carries and raises the typed
error for error events (``event: error``, ``"type": "error"``, or a top-level ``error`` object).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any, NamedTuple

from ._error_parsing import error_from_payload
from ._errors import APIStatusError, ResponseContractError

__all__ = [
    "SSEDecoder",
    "ServerSentEvent",
    "aiter_events",
    "decode_stream_event",
    "is_done",
    "is_error_event",
    "iter_events",
]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class ServerSentEvent(NamedTuple):
    """One dispatched event. ``event`` is ``None`` when the stream sent no ``event:`` line."""

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental decoder: feed it lines (:meth:`feed_line`) or raw text (:meth:`feed`), then :meth:`flush`."""

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []
        self._last_id: str | None = None
        self._retry: int | None = None
        self._started = False
        self._pending = ""  # raw text after the last line break (feed)
        self._after_cr = False  # the last chunk ended with CR: a leading LF belongs to it (feed)

    def feed_line(self, line: str) -> ServerSentEvent | None:
        """Process one line (a trailing CR, LF or CRLF is removed). Returns the event a blank line completes.

        A line must not contain a line break elsewhere: use :meth:`feed` for text with several lines.
        """
        if line.endswith("\r\n"):
            line = line[:-2]
        elif line.endswith(("\n", "\r")):
            line = line[:-1]
        if "\n" in line or "\r" in line:
            raise ValueError("feed_line() takes one line; use feed() for text with line breaks")
        if not self._started:
            self._started = True
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value or None
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        # other field names are ignored
        return None

    def feed(self, text: str) -> list[ServerSentEvent]:
        """Process a chunk of raw stream text (any split, CR/LF/CRLF line ends). Returns the completed events."""
        if not text:
            return []
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
            if not text:
                self._after_cr = False
                return []
        self._after_cr = text.endswith("\r")
        lines = _LINE_BREAK.split(self._pending + text)
        self._pending = lines.pop()
        events = []
        for line in lines:
            event = self.feed_line(line)
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> ServerSentEvent | None:
        """End of stream: the pending event, if any, even without a trailing blank line."""
        if self._pending:
            pending, self._pending = self._pending, ""
            event = self.feed_line(pending)
            if event is not None:  # pragma: no cover - a lone line cannot complete an event
                return event
        return self._dispatch()

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = None
            self._retry = None
            return None
        event = ServerSentEvent(self._event, "\n".join(self._data), self._last_id, self._retry)
        self._event = None
        self._data = []
        self._retry = None
        return event


def _lines_of(item: str) -> list[str]:
    """An item of a line iterator as lines: its own line end removed, embedded CR/LF/CRLF split."""
    if item.endswith("\r\n"):
        item = item[:-2]
    elif item.endswith(("\n", "\r")):
        item = item[:-1]
    return _LINE_BREAK.split(item)


def iter_events(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """The events of a stream given as lines (``httpx.Response.iter_lines()``, a file, a list)."""
    decoder = SSEDecoder()
    for item in lines:
        for line in _lines_of(item):
            event = decoder.feed_line(line)
            if event is not None:
                yield event
    last = decoder.flush()
    if last is not None:
        yield last


async def aiter_events(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    """The events of a stream given as async lines (``httpx.Response.aiter_lines()``)."""
    decoder = SSEDecoder()
    async for item in lines:
        for line in _lines_of(item):
            event = decoder.feed_line(line)
            if event is not None:
                yield event
    last = decoder.flush()
    if last is not None:
        yield last


def is_done(event: ServerSentEvent) -> bool:
    """``data: [DONE]``: the end-of-stream marker some servers send; stop reading there."""
    return event.data.strip() == "[DONE]"


def is_error_event(event: ServerSentEvent, payload: Any = None) -> bool:
    """Whether an event (and its decoded payload, when given) is an error."""
    if (event.event or "").strip().lower() == "error":
        return True
    if isinstance(payload, dict):
        return payload.get("type") == "error" or bool(payload.get("error"))
    return False


def _excerpt(data: str) -> str:
    return data if len(data) <= 120 else data[:120] + "…"


def decode_stream_event(sse: ServerSentEvent, *, request_id: str | None = None) -> dict[str, Any]:
    """The JSON object an event carries, with ``type`` filled in from ``event:`` when the payload lacks it.

    Raises :class:`~._errors.APIStatusError` (the subclass matching its code) for an error event, and
    :class:`~._errors.ResponseContractError` when the data is not a JSON object. Relays that omit
    ``event:`` lines are fine: the payload's ``type`` tells the kind. Check :func:`is_done` first.
    """
    try:
        payload = json.loads(sse.data)
    except (ValueError, RecursionError):
        if is_error_event(sse):  # "event: error" with plain-text data
            raise _with_request_id(error_from_payload({"message": sse.data.strip()}), request_id) from None
        raise ResponseContractError(
            f"stream event data is not valid JSON: {_excerpt(sse.data)!r}",
            body=sse.data,
            request_id=request_id,
        ) from None
    if is_error_event(sse, payload):
        if not isinstance(payload, dict):
            payload = {"message": sse.data.strip()}
        raise _with_request_id(error_from_payload(payload), request_id)
    if not isinstance(payload, dict):
        raise ResponseContractError(
            f"stream event data is JSON but not an object: {_excerpt(sse.data)!r}",
            body=sse.data,
            request_id=request_id,
        )
    if sse.event and sse.event != "message" and not payload.get("type"):
        payload = {**payload, "type": sse.event}
    return payload


def _with_request_id(error: APIStatusError, request_id: str | None) -> APIStatusError:
    if request_id and not error.request_id:
        error.request_id = request_id
    return error
