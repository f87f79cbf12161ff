"""Replay an interaction through the generated client: what would a caller of ``imagewire_client`` get?

The recorded response is served by an ``httpx.MockTransport`` to a real ``Client`` (one per
:class:`Replayer`, reused), which is called like a user would call it (``images.generate / edit /
create_variation``, streaming when the request did) with ``validate=False`` and no retries. The facade
parses the answer: the outcome is a parsed result (images, and the reader's ``warnings`` by JSON
pointer), the events of a stream, or the typed error it raised. Never raises.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from imagewire.check.validate import RequestInfo
from imagewire.images import tiny
from imagewire.record.recordings import Interaction

__all__ = ["Outcome", "Replayer"]

_DROP_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection"})
_BASE = "https://replay.imagewire.invalid/v1"
#: the replaying client's key: it goes nowhere, but the client masks its key wherever it shows for the rest of
#: the process, so it is one no text holds (a word such as "replay" would be masked in later output)
_KEY = f"replay-{secrets.token_hex(16)}"


@dataclass
class Outcome:
    """What the generated client made of a response."""

    kind: str  # result | events | error
    images: int | None = None
    events: int | None = None
    error: str | None = None  # the exception class name
    message: str = ""
    pointer: str | None = None  # ResponseContractError.pointer
    status: int | None = None  # APIStatusError.status_code
    warnings: list[str] = field(default_factory=list)
    #: (pointer, reason) of images whose bytes the client cannot produce
    broken_images: list[tuple[str, str]] = field(default_factory=list)

    @property
    def contract_error(self) -> bool:
        return self.error == "ResponseContractError"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "error":
            out["error"] = self.error
            out["message"] = self.message
            if self.pointer:
                out["pointer"] = self.pointer
        else:
            out["images"] = self.images
            if self.events is not None:
                out["events"] = self.events
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


class Replayer:
    """A generated client wired to a mock transport that answers with the interaction being replayed."""

    def __init__(self) -> None:
        from imagewire_client import Client

        self._current: Interaction | None = None
        self._http = httpx.Client(transport=httpx.MockTransport(self._answer))
        self.client = Client(api_key=_KEY, base_url=_BASE, http_client=self._http, max_retries=0, sleep=_no_sleep)
        logging.getLogger("imagewire_client").setLevel(logging.ERROR)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        item = self._current
        assert item is not None
        headers = [(name, value) for name, value in item.response_headers if name.lower() not in _DROP_HEADERS]
        if _cut_off(item):  # the recorder saw the connection close mid-answer: replay it that way
            return httpx.Response(
                item.status, headers=headers, stream=_Dropped(item.response_content()), request=request
            )
        return httpx.Response(item.status, headers=headers, content=item.response_content(), request=request)

    def replay(self, interaction: Interaction, operation: str, request: RequestInfo | None = None) -> Outcome:
        """Call the client for ``operation`` and read ``interaction``'s response with it."""
        info = request or RequestInfo()
        self._current = interaction
        try:
            return self._call(operation, info, interaction)
        except Exception as err:  # the outcome of any answer is a value, a crash included
            return _error_outcome(err)
        finally:
            self._current = None

    def _call(self, operation: str, info: RequestInfo, interaction: Interaction) -> Outcome:
        fields = info.fields
        prompt = fields.get("prompt")
        prompt = prompt if isinstance(prompt, str) and prompt else "replay"
        stream = bool(info.stream) if info.stream is not None else _is_sse(interaction)
        options: dict[str, Any] = {"validate": False}
        if info.model:
            options["model"] = info.model
        images: Any = self.client.images  # called with the recorded request's values, checked at run time
        result: Any
        if operation == "generations":
            result = images.generate(prompt=prompt, stream=stream, **options)
        elif operation == "edits":
            references = fields.get("images")
            if info.encoding == "json" and isinstance(references, list) and references:
                result = images.edit(prompt=prompt, images=references, stream=stream, **options)
            else:
                result = images.edit(
                    prompt=prompt, image=("image.png", tiny("png"), "image/png"), stream=stream, **options
                )
        elif operation == "variations":
            result = images.create_variation(image=("image.png", tiny("png"), "image/png"), **options)
        else:
            raise ValueError(f"unknown operation {operation!r}")
        if stream:
            return _read_events(result)
        return _read_result(result)


def _cut_off(item: Interaction) -> bool:
    from imagewire.record.transport import INCOMPLETE_HEADER

    marker = INCOMPLETE_HEADER.lower()
    return any(name.lower() == marker and value.startswith("incomplete") for name, value in item.response_headers)


class _Dropped(httpx.SyncByteStream):
    """The recorded bytes, then the connection closing, as the provider did."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __iter__(self) -> Any:
        yield self._content
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def _no_sleep(_: float) -> None:
    return None


def _is_sse(interaction: Interaction) -> bool:
    return "event-stream" in (interaction.response_header("content-type") or "").lower()


def _broken(images: list[Any], base: str) -> list[tuple[str, str]]:
    from imagewire_client import ResponseContractError

    broken = []
    for index, image in enumerate(images):
        if getattr(image, "b64_json", None) or str(getattr(image, "url", "") or "").startswith("data:"):
            try:
                image.content()
            except ResponseContractError as err:
                broken.append((f"{base}/{index}/b64_json" if base else "/b64_json", err.reason))
    return broken


def _read_result(result: Any) -> Outcome:
    data = list(getattr(result, "data", []) or [])
    warnings = list(getattr(result, "warnings", []) or [])
    return Outcome("result", images=len(data), warnings=warnings, broken_images=_broken(data, "/data"))


def _read_events(stream: Any) -> Outcome:
    from imagewire_client import ImagewireError

    count = images = 0
    warnings: list[str] = []
    broken: list[tuple[str, str]] = []
    try:
        for event in stream:
            for warning in getattr(event, "warnings", []) or []:
                pointer, sep, rest = warning.partition(": ")
                warnings.append(f"/events/{count}{pointer}: {rest}" if sep else f"/events/{count}: {warning}")
            if str(getattr(event, "type", "")).endswith(".completed"):
                images += 1
            broken += [(f"/events/{count}{p}", reason) for p, reason in _broken([event], "")]
            count += 1
    except ImagewireError as err:
        outcome = _error_outcome(err)
        outcome.events = count
        outcome.warnings = warnings + outcome.warnings
        return outcome
    return Outcome("events", images=images, events=count, warnings=warnings, broken_images=broken)


def _error_outcome(err: BaseException) -> Outcome:
    from imagewire_client import APIStatusError, ResponseContractError

    outcome = Outcome("error", error=type(err).__name__, message=str(err)[:300])
    if isinstance(err, ResponseContractError):
        outcome.pointer = err.pointer
        outcome.message = err.reason[:300]
    elif isinstance(err, APIStatusError):
        outcome.status = err.status_code
    return outcome
