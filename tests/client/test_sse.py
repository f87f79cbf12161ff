"""imagewire_client._sse: the tolerant SSE decoder and the stream-event reader, over every dialect seen."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagewire_client._errors import (
    APIStatusError,
    ContentPolicyError,
    InternalServerError,
    QuotaExceededError,
    RateLimitError,
    ResponseContractError,
)
from imagewire_client._sse import (
    ServerSentEvent,
    SSEDecoder,
    aiter_events,
    decode_stream_event,
    is_done,
    is_error_event,
    iter_events,
)

PARTIAL = {"type": "image_generation.partial_image", "b64_json": "iVBORw0KGgo=", "partial_image_index": 0}
COMPLETED = {"type": "image_generation.completed", "b64_json": "iVBORw0KGgo=", "usage": {"total_tokens": 10}}


def events(text: str) -> list[ServerSentEvent]:
    return list(iter_events(text.splitlines(keepends=True)))


def payloads(text: str) -> list[dict[str, Any]]:
    out = []
    for sse in events(text):
        if is_done(sse):
            break
        out.append(decode_stream_event(sse))
    return out


# ------------------------------------------------------------------------------------------ dialects


def test_openai_dialect_with_event_lines() -> None:
    text = (
        f"event: image_generation.partial_image\ndata: {json.dumps(PARTIAL)}\n\n"
        f"event: image_generation.completed\ndata: {json.dumps(COMPLETED)}\n\n"
    )
    got = events(text)
    assert [e.event for e in got] == ["image_generation.partial_image", "image_generation.completed"]
    assert payloads(text) == [PARTIAL, COMPLETED]


def test_relay_without_event_lines_and_done() -> None:
    text = f"data: {json.dumps(PARTIAL)}\n\ndata: {json.dumps(COMPLETED)}\n\ndata: [DONE]\n\n"
    got = events(text)
    assert [e.event for e in got] == [None, None, None]
    assert is_done(got[-1]) and not is_done(got[0])
    assert payloads(text) == [PARTIAL, COMPLETED]


def test_comments_and_heartbeats() -> None:
    text = f": OPENROUTER PROCESSING\n\n:\n: ping\n\ndata: {json.dumps(COMPLETED)}\n: trailing comment\n\n"
    assert payloads(text) == [COMPLETED]


def test_crlf_and_cr_line_ends() -> None:
    crlf = f"event: image_generation.completed\r\ndata: {json.dumps(COMPLETED)}\r\n\r\n"
    cr = f"event: image_generation.completed\rdata: {json.dumps(COMPLETED)}\r\r"
    assert payloads(crlf) == [COMPLETED]
    assert events(crlf) == events(cr)
    # a line iterator that does not split on CR (io.StringIO) still works
    assert list(iter_events([cr])) == events(crlf)


def test_multi_line_data_is_joined_with_newlines() -> None:
    text = 'data: {"type": "image_generation.completed",\ndata:  "b64_json": "QUJD"\ndata: }\n\n'
    (event,) = events(text)
    assert event.data == '{"type": "image_generation.completed",\n "b64_json": "QUJD"\n}'
    assert decode_stream_event(event) == {"type": "image_generation.completed", "b64_json": "QUJD"}


def test_last_event_without_trailing_blank_line() -> None:
    text = f"data: {json.dumps(PARTIAL)}\n\ndata: {json.dumps(COMPLETED)}"
    assert payloads(text) == [PARTIAL, COMPLETED]
    assert payloads(text + "\n") == [PARTIAL, COMPLETED]


def test_bom_at_start() -> None:
    assert payloads(f"\ufeffdata: {json.dumps(COMPLETED)}\n\n") == [COMPLETED]
    assert payloads("\ufeffevent: x\ndata: {}\n\n") == [{"type": "x"}]


def test_field_rules() -> None:
    text = (
        "data\n"  # a field without a colon: empty value
        "data:no-space\n"
        "data:  two spaces\n"  # only one space is stripped
        "unknown: ignored\n"
        "id: 7\n"
        "retry: 1500\n"
        "\n"
        "data: second\n"
        "retry: soon\n"  # not digits: ignored
        "\n"
        "id\n"  # resets the id to ""
        "data: third\n"
        "id: bad\0id\n"  # NUL: ignored
        "\n"
    )
    first, second, third = events(text)
    assert first == ServerSentEvent(None, "\nno-space\n two spaces", "7", 1500)
    assert second == ServerSentEvent(None, "second", "7", None)  # the id persists, retry does not
    assert third == ServerSentEvent(None, "third", "", None)


def test_blocks_without_data_are_not_events() -> None:
    assert events("event: ping\n\nid: 3\n\nretry: 10\n\n") == []
    got = events("event: ping\n\ndata: x\n\n")
    assert got == [ServerSentEvent(None, "x", None, None)]  # the event name does not leak into the next block


def test_empty_data_is_an_event() -> None:
    assert events("data:\n\n") == [ServerSentEvent(None, "", None, None)]


def test_done_variants() -> None:
    assert is_done(ServerSentEvent(None, "[DONE]"))
    assert is_done(ServerSentEvent("done", " [DONE] "))
    assert not is_done(ServerSentEvent(None, '"[DONE]"'))


def test_feed_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed_line("event: image_generation.completed\n") is None
    assert decoder.feed_line('data: {"a": 1}\r\n') is None
    assert decoder.feed_line("\r\n") == ServerSentEvent("image_generation.completed", '{"a": 1}', None, None)
    assert decoder.feed_line("") is None
    assert decoder.feed_line("data: tail") is None
    assert decoder.flush() == ServerSentEvent(None, "tail", None, None)
    assert decoder.flush() is None
    with pytest.raises(ValueError, match="one line"):
        decoder.feed_line("data: a\ndata: b")


def test_feed_raw_chunks() -> None:
    decoder = SSEDecoder()
    got = decoder.feed("data: a\r")
    got += decoder.feed("\n\r")
    got += decoder.feed("\ndata: b\n")
    got += decoder.feed("\ndata: c")
    last = decoder.flush()
    assert [e.data for e in got] == ["a", "b"]
    assert last is not None and last.data == "c"


STREAM = (
    "\ufeff: hello\r\n"
    "event: image_generation.partial_image\r\n"
    f"data: {json.dumps(PARTIAL)}\r\n"
    "\r\n"
    "data: line one\n"
    "data: line two\n"
    "\n"
    "id: 9\r"
    "data: {}\r"
    "\r"
    ": ping\n\n"
    "data: [DONE]\n"
)


@settings(max_examples=300, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(STREAM)]
    decoder = SSEDecoder()
    got: list[ServerSentEvent] = []
    for start, end in itertools.pairwise(bounds):
        got += decoder.feed(STREAM[start:end])
    last = decoder.flush()
    if last is not None:
        got.append(last)
    assert got == events(STREAM)
    assert [e.data for e in got] == [json.dumps(PARTIAL), "line one\nline two", "{}", "[DONE]"]
    assert got[2].id == "9"


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("data:event:id:retry: \r\n{}[]x\ufeff")), max_size=200))
def test_decoder_never_fails_on_junk(text: str) -> None:
    decoder = SSEDecoder()
    for event in decoder.feed(text):
        assert isinstance(event.data, str)
    decoder.flush()


def test_aiter_events() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in [
            "event: image_generation.completed",
            f"data: {json.dumps(COMPLETED)}",
            "",
            ": ping",
            "data: [DONE]",
        ]:
            yield line

    async def collect() -> list[ServerSentEvent]:
        return [event async for event in aiter_events(lines())]

    got = asyncio.run(collect())
    assert [e.event for e in got] == ["image_generation.completed", None]
    assert decode_stream_event(got[0]) == COMPLETED and is_done(got[1])


def test_iter_events_is_lazy() -> None:
    seen: list[str] = []

    def lines() -> Iterable[str]:
        for line in ["data: 1", "", "data: 2", ""]:
            seen.append(line)
            yield line

    iterator = iter_events(lines())
    assert next(iterator).data == "1"
    assert seen == ["data: 1", ""]


# ------------------------------------------------------------------------------------------ decode_stream_event


def test_type_is_filled_from_the_event_line() -> None:
    got = decode_stream_event(ServerSentEvent("image_edit.completed", '{"b64_json": "QQ=="}'))
    assert got == {"type": "image_edit.completed", "b64_json": "QQ=="}
    # the payload's own type wins; "message" is the SSE default name, not a kind
    assert decode_stream_event(ServerSentEvent("other", json.dumps(PARTIAL)))["type"] == PARTIAL["type"]
    assert decode_stream_event(ServerSentEvent("message", '{"a": 1}')) == {"a": 1}


def test_error_event_with_event_line() -> None:
    sse = ServerSentEvent(
        "error", json.dumps({"error": {"type": "requests", "code": "rate_limit_exceeded", "message": "slow down"}})
    )
    with pytest.raises(RateLimitError) as caught:
        decode_stream_event(sse, request_id="req_stream")
    assert caught.value.status_code == 429 and caught.value.request_id == "req_stream"


def test_error_event_by_type_without_event_line() -> None:
    sse = ServerSentEvent(
        None,
        json.dumps(
            {
                "type": "error",
                "error": {
                    "type": "image_generation_user_error",
                    "code": "moderation_blocked",
                    "message": "no",
                    "moderation_details": {"moderation_stage": "output", "categories": []},
                },
            }
        ),
    )
    with pytest.raises(ContentPolicyError) as caught:
        decode_stream_event(sse)
    assert caught.value.moderation_details == {"moderation_stage": "output", "categories": []}


def test_error_by_top_level_error_key() -> None:
    with pytest.raises(QuotaExceededError):
        decode_stream_event(ServerSentEvent(None, '{"error": {"code": "insufficient_quota", "message": "pay"}}'))


def test_flat_error_event() -> None:
    with pytest.raises(InternalServerError) as caught:
        decode_stream_event(
            ServerSentEvent(None, '{"type": "error", "code": "server_error", "message": "boom", "sequence_number": 3}')
        )
    assert caught.value.message == "boom"


def test_error_event_with_text_data() -> None:
    with pytest.raises(APIStatusError) as caught:
        decode_stream_event(ServerSentEvent("error", "upstream overloaded"))
    assert caught.value.message == "upstream overloaded"


def test_null_error_key_is_not_an_error() -> None:
    assert (
        decode_stream_event(
            ServerSentEvent(None, '{"type": "image_generation.completed", "b64_json": "QQ==", "error": null}')
        )["b64_json"]
        == "QQ=="
    )
    assert not is_error_event(ServerSentEvent(None, "{}"), {"error": None})
    assert is_error_event(ServerSentEvent("ERROR", "{}"))


@pytest.mark.parametrize(
    "data", ['{"type": "image_generation.partial_image", "b64_json": "iVBO', "<html>502</html>", "[DONE]", ""]
)
def test_invalid_json(data: str) -> None:
    with pytest.raises(ResponseContractError) as caught:
        decode_stream_event(ServerSentEvent("image_generation.partial_image", data), request_id="req_bad")
    err = caught.value
    assert "not valid JSON" in err.reason
    assert repr(data[:20]).strip("'") in str(err) or not data
    assert err.body == data and err.request_id == "req_bad"


@pytest.mark.parametrize("data", ["[1, 2]", '"text"', "42", "null"])
def test_json_that_is_not_an_object(data: str) -> None:
    with pytest.raises(ResponseContractError, match="not an object"):
        decode_stream_event(ServerSentEvent(None, data))
