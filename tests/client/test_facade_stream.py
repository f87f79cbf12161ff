"""Streaming through the facade (``stream=True``): SSE dialects, typed events, errors inside the stream."""

from __future__ import annotations

import httpx
import pytest
from support.client import (
    JPEG,
    PNG,
    PNG_B,
    Server,
    b64,
    client,
    error_body,
    images_body,
    json_response,
    sse,
    sse_response,
    streaming,
)


def gen_events(partial: int = 1) -> list[dict]:
    events: list[dict] = [
        {
            "type": "image_generation.partial_image",
            "b64_json": b64(PNG_B),
            "partial_image_index": i,
            "created_at": 1750000000,
            "size": "1024x1024",
            "quality": "high",
            "background": "opaque",
            "output_format": "png",
        }
        for i in range(partial)
    ]
    events.append(
        {
            "type": "image_generation.completed",
            "b64_json": b64(PNG),
            "created_at": 1750000001,
            "size": "1024x1024",
            "quality": "high",
            "background": "opaque",
            "output_format": "png",
            "usage": {
                "input_tokens": 10,
                "output_tokens": 20,
                "total_tokens": 30,
                "input_tokens_details": {"text_tokens": 10, "image_tokens": 0},
            },
        }
    )
    return events


def stream_generate(server: Server, **kwargs):  # type: ignore[no-untyped-def]
    c = client(server)
    return c.images.generate(model="gpt-image-1.5", prompt="p", stream=True, partial_images=2, **kwargs)


@pytest.mark.parametrize(
    "dialect",
    [
        {"event_lines": True},
        {"event_lines": False},
        {"event_lines": True, "comments": True, "done": True},
        {"event_lines": False, "comments": True, "done": True},
    ],
    ids=["event-lines", "data-only", "event-lines-comments-done", "data-only-comments-done"],
)
def test_partial_then_completed_events_are_typed(dialect: dict) -> None:
    from imagewire_client import ImageGenCompletedEvent, ImageGenPartialImageEvent, Stream

    server = Server(sse_response(sse(*gen_events(2), **dialect)))
    stream = stream_generate(server)
    assert isinstance(stream, Stream)
    events = list(stream)
    assert [type(e) for e in events] == [ImageGenPartialImageEvent, ImageGenPartialImageEvent, ImageGenCompletedEvent]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    assert events[0].content() == PNG_B
    assert events[-1].content() == PNG
    assert events[-1].usage.total_tokens == 30
    assert events[-1].format == "png"
    assert all(e.warnings == [] for e in events)


def test_stream_request_shape() -> None:
    server = Server(sse_response(sse(*gen_events(0))))
    list(stream_generate(server))
    request = server.requests[0]
    assert request.headers["accept"] == "text/event-stream"
    assert server.json() == {"model": "gpt-image-1.5", "prompt": "p", "partial_images": 2, "stream": True}


def test_crlf_line_ends_and_no_trailing_blank_line() -> None:
    body = sse(*gen_events(1)).replace(b"\n", b"\r\n").rstrip(b"\r\n")
    server = Server(sse_response(body))
    events = list(stream_generate(server))
    assert [e.type for e in events] == ["image_generation.partial_image", "image_generation.completed"]


def test_events_split_across_chunks() -> None:
    body = sse(*gen_events(1), comments=True, done=True)
    chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    server = Server(lambda _: streaming(chunks))
    events = list(stream_generate(server))
    assert len(events) == 2
    assert events[-1].content() == PNG


def test_done_stops_reading() -> None:
    body = sse(*gen_events(0), done=True) + b"data: this is not json\n\n"
    server = Server(sse_response(body))
    events = list(stream_generate(server))
    assert len(events) == 1


def test_final_image_before_the_partials() -> None:
    from imagewire_client import ImageGenCompletedEvent, ImageGenPartialImageEvent

    events = gen_events(1)
    server = Server(sse_response(sse(events[1], events[0])))
    got = list(stream_generate(server))
    assert [type(e) for e in got] == [ImageGenCompletedEvent, ImageGenPartialImageEvent]


def test_event_type_from_the_event_line_when_the_payload_lacks_it() -> None:
    from imagewire_client import ImageGenCompletedEvent

    body = b"event: image_generation.completed\ndata: " + f'{{"b64_json": "{b64(PNG)}"}}'.encode() + b"\n\n"
    server = Server(sse_response(body))
    (event,) = list(stream_generate(server))
    assert isinstance(event, ImageGenCompletedEvent)


def test_edit_stream_events_are_typed() -> None:
    from imagewire_client import ImageEditCompletedEvent, ImageEditPartialImageEvent

    events = [
        {"type": "image_edit.partial_image", "b64_json": b64(PNG_B), "partial_image_index": 0},
        {"type": "image_edit.completed", "b64_json": b64(JPEG), "output_format": "jpeg"},
    ]
    server = Server(sse_response(sse(*events, event_lines=False, done=True)))
    c = client(server)
    got = list(c.images.edit(model="gpt-image-1.5", prompt="p", image=PNG, stream=True, partial_images=1))
    assert [type(e) for e in got] == [ImageEditPartialImageEvent, ImageEditCompletedEvent]
    assert got[1].content() == JPEG
    assert got[1].format == "jpeg"


def test_json_edit_stream() -> None:
    from imagewire_client import ImageEditCompletedEvent

    server = Server(sse_response(sse({"type": "image_edit.completed", "b64_json": b64(PNG)})))
    c = client(server)
    got = list(c.images.edit(model="gpt-image-1.5", prompt="p", images=[{"file_id": "file-1"}], stream=True))
    assert [type(e) for e in got] == [ImageEditCompletedEvent]
    assert server.json()["stream"] is True


def test_plain_json_answer_to_a_stream_request_yields_completed_events() -> None:
    from imagewire_client import ImageGenCompletedEvent

    body = images_body({"b64_json": b64(PNG)}, {"b64_json": b64(JPEG)}, size="1024x1024", output_format="png")
    server = Server(json_response(body))
    events = list(stream_generate(server))
    assert [type(e) for e in events] == [ImageGenCompletedEvent, ImageGenCompletedEvent]
    assert [e.content() for e in events] == [PNG, JPEG]
    assert events[0].size == "1024x1024"
    assert events[0].created_at == body["created"]


def test_error_event_in_the_stream_raises_the_typed_error() -> None:
    from imagewire_client import ContentPolicyError

    error = {
        "type": "error",
        "error": {
            "type": "image_generation_user_error",
            "code": "moderation_blocked",
            "message": "Your request was rejected by the safety system.",
            "param": None,
        },
    }
    server = Server(sse_response(sse(gen_events(1)[0], error)))
    got = []
    with pytest.raises(ContentPolicyError) as info:
        for event in stream_generate(server):
            got.append(event)
    assert len(got) == 1
    assert info.value.code == "moderation_blocked"
    assert server.count == 1


def test_event_error_line_with_flat_payload() -> None:
    from imagewire_client import RateLimitError

    body = b'event: error\ndata: {"code": "rate_limit_exceeded", "message": "slow down"}\n\n'
    server = Server(sse_response(body))
    with pytest.raises(RateLimitError) as info:
        list(stream_generate(server))
    assert info.value.message == "slow down"


def test_error_status_on_a_stream_request_raises_before_iterating() -> None:
    from imagewire_client import BadRequestError

    server = Server(json_response(error_body("Invalid value", "invalid_request_error", "invalid_value", "size"), 400))
    with pytest.raises(BadRequestError):
        stream_generate(server)
    assert server.count == 1


def test_stream_request_is_retried_on_503_before_the_stream_starts() -> None:
    server = Server(json_response(error_body("overloaded", "server_error"), 503), sse_response(sse(*gen_events(0))))
    events = list(stream_generate(server))
    assert len(events) == 1
    assert server.count == 2


def test_connection_dropped_mid_stream_raises_connection_error() -> None:
    from imagewire_client import APIConnectionError

    first = sse(gen_events(1)[0])
    server = Server(
        lambda _: streaming(
            [first, b'data: {"type": "image_gen'], fail=httpx.RemoteProtocolError("peer closed connection")
        )
    )
    got = []
    with pytest.raises(APIConnectionError) as info:
        for event in stream_generate(server):
            got.append(event)
    assert len(got) == 1
    assert info.value.outcome == "uncertain"
    assert server.count == 1


def test_invalid_json_in_an_event_is_a_contract_error() -> None:
    from imagewire_client import ResponseContractError

    server = Server(sse_response(b"data: {not json\n\n"))
    with pytest.raises(ResponseContractError):
        list(stream_generate(server))


def test_unknown_event_type_is_a_contract_error() -> None:
    from imagewire_client import ResponseContractError

    server = Server(sse_response(sse({"type": "response.created", "id": "x"})))
    with pytest.raises(ResponseContractError):
        list(stream_generate(server))


def test_html_page_answering_a_stream_request_is_a_contract_error() -> None:
    """A 200 HTML page (a captive portal, a WAF challenge) must not look like an empty, finished stream."""
    from imagewire_client import ResponseContractError

    page = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking</body></html>"
    server = Server(httpx.Response(200, headers={"content-type": "text/html"}, content=page))
    with pytest.raises(ResponseContractError):
        list(stream_generate(server))


def test_the_stream_is_closed_after_iteration() -> None:
    server = Server(sse_response(sse(*gen_events(1))))
    stream = stream_generate(server)
    list(stream)
    assert stream.response.is_closed


def test_stream_as_context_manager_closes_on_early_exit() -> None:
    server = Server(sse_response(sse(*gen_events(2))))
    with stream_generate(server) as stream:
        for _ in stream:
            break
    assert stream.response.is_closed


def test_stream_that_ends_without_a_completed_event_is_an_error() -> None:
    """Partials and then a clean close (a relay that cut the stream): the caller must not take it as done."""
    from imagewire_client import ImagewireError

    server = Server(sse_response(sse(gen_events(2)[0])))
    got = []
    with pytest.raises(ImagewireError):
        for event in stream_generate(server):
            got.append(event)
    assert len(got) == 1
