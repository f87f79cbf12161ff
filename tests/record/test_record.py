"""The recording transport and ``imagewire record``: capture (JSON, streamed SSE, dropped connections, no
answer, async), scrubbing on save (a planted token must not survive anywhere), ``scrub=False``, ``--append``,
the command against a mock transport and against the reference provider, and the vcrpy hooks."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import threading
import warnings
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from PIL import Image, PngImagePlugin

from imagewire import cli
from imagewire.check.verdict import Judge
from imagewire.cli.options import parse_settings
from imagewire.record import command as record
from imagewire.record.recordings import load
from imagewire.record.transport import (
    INCOMPLETE_HEADER,
    AsyncRecordingTransport,
    Recorder,
    RecordingTransport,
    UnscrubbedCassetteWarning,
)
from imagewire.record.vcr import vcr_before_record_request, vcr_before_record_response
from imagewire.server import start

#: planted in every place the scrubber must clean; no byte of it may reach a written file
TOKEN = "PLANTEDx7Q9zK2mW4vR8"
KEY = "sk-imagewire-test-0123456789abcdef"
URL = "https://api.example.com/v1/images/generations"


# ---------------------------------------------------------------- helpers


def noisy_png(size: int = 48, *, text: str = TOKEN) -> bytes:
    """A PNG of random pixels (kilobytes of base64) carrying ``text`` in a tEXt chunk."""
    rng = random.Random(7)
    img = Image.new("RGB", (size, size))
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(size * size)])
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def jwt(token: str = TOKEN) -> str:
    head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps({"sub": token}).encode()).decode().rstrip("=")
    return f"{head}.{body}.{token}sig"


def forms(secret: bytes) -> list[bytes]:
    """The secret and the inner parts of its base64 at every alignment (as a YAML !!binary body would hold it)."""
    out = [secret]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret)
        out.append(encoded[4 : len(encoded) - 4])
    return [form for form in out if len(form) >= 8]


def assert_gone(path: Path, *secrets: bytes) -> None:
    """No form of any secret in the file's text, nor in any decoded field of what it holds."""
    raw = path.read_bytes()
    recording = load(path)
    assert not recording.errors, recording.errors
    decoded = b"\n".join(
        b"\n".join(
            [
                item.url.encode(),
                repr(item.request_headers).encode(),
                item.request_body,
                repr(item.response_headers).encode(),
                item.response_body,
            ]
        )
        for item in recording.interactions
    )
    for secret in secrets:
        for form in forms(secret):
            assert form not in raw, f"{form!r} survives in {path.name}"
            assert form not in decoded, f"{form!r} survives in a decoded body of {path.name}"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = "imagewire-test-boundary"
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, (filename, data, ctype) in files.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------- capture


def test_registered_as_a_subcommand() -> None:
    assert cli.COMMANDS["record"].module == "imagewire.record.command"


def test_captures_request_and_response_as_an_interaction() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"created": 1, "data": [{"url": "https://x/y.png"}]}, headers={"X-A": "1"})

    transport = RecordingTransport(httpx.MockTransport(answer), source="unit")
    with httpx.Client(transport=transport) as http:
        response = http.post(URL, json={"model": "dall-e-3", "prompt": "x"}, headers={"X-Trace": "t"})
    assert response.json()["created"] == 1  # the caller sees the answer unchanged
    [item] = transport.interactions()
    assert (item.source, item.index, item.method, item.url, item.status) == ("unit", 0, "POST", URL, 200)
    assert json.loads(item.request_body) == {"model": "dall-e-3", "prompt": "x"}
    assert item.request_header("x-trace") == "t" and item.response_header("x-a") == "1"
    assert json.loads(item.response_body)["data"][0]["url"] == "https://x/y.png"
    assert item.response_header(INCOMPLETE_HEADER) is None


def test_a_streamed_answer_is_captured_as_the_caller_reads_it() -> None:
    events = [
        b'event: image_generation.partial_image\ndata: {"type":"image_generation.partial_image"}\n\n',
        b'event: image_generation.completed\ndata: {"type":"image_generation.completed"}\n\n',
    ]
    seen: list[int] = []

    class Slow(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from events

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Slow())

    transport = RecordingTransport(httpx.MockTransport(answer))
    with httpx.Client(transport=transport) as http, http.stream("POST", URL, json={"stream": True}) as response:
        for chunk in response.iter_bytes():
            seen.append(len(transport.recorder.interactions()[0].response_body))
            assert chunk
    assert seen == [len(events[0]), len(events[0]) + len(events[1])]  # recorded chunk by chunk, as read
    [item] = transport.interactions()
    assert item.response_body == b"".join(events) and item.response_header(INCOMPLETE_HEADER) is None


def test_a_dropped_connection_keeps_what_arrived_and_says_so() -> None:
    class Dropping(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b'{"created": 1, "data": [{"b64_'
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=Dropping())

    transport = RecordingTransport(httpx.MockTransport(answer))
    with httpx.Client(transport=transport) as http, pytest.raises(httpx.RemoteProtocolError):
        http.post(URL, json={})
    [item] = transport.interactions()
    assert item.status == 200 and item.response_body == b'{"created": 1, "data": [{"b64_'
    assert "RemoteProtocolError" in (item.response_header(INCOMPLETE_HEADER) or "")


def test_a_request_without_an_answer_is_a_failure() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    transport = RecordingTransport(httpx.MockTransport(refuse))
    with httpx.Client(transport=transport) as http, pytest.raises(httpx.ConnectError):
        http.post(URL, json={})
    assert transport.interactions() == []
    [failure] = transport.recorder.failures
    assert failure.method == "POST" and "ConnectError: connection refused" in str(failure)


def test_the_async_transport_records_the_same_way(tmp_path: Path) -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"created": 1, "data": [{"b64_json": base64.b64encode(noisy_png()).decode()}]})

    transport = AsyncRecordingTransport(httpx.MockTransport(answer))

    async def go() -> None:
        async with httpx.AsyncClient(transport=transport) as http:
            response = await http.post(URL, json={"prompt": "x"}, headers={"Authorization": f"Bearer {KEY}"})
            assert response.status_code == 200

    asyncio.run(go())
    [item] = transport.interactions()
    assert item.status == 200 and len(item.response_body) > 1000
    path = transport.save(tmp_path / "async.yaml")
    assert_gone(path, KEY.encode(), TOKEN.encode())


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("how", ["dropped", "stopped", "whole"])
def test_both_transports_capture_streams_alike(asynchronous: bool, how: str) -> None:
    """The sync and async transports share their capture: the same bytes and the same ending, either way."""
    first, second = b'data: {"type":"image_generation.partial_image"}\n\n', b"data: [DONE]\n\n"

    def chunks() -> Iterator[bytes]:
        yield first
        if how == "dropped":
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
        yield second

    class Sync(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from chunks()

    class Async(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for chunk in chunks():
                yield chunk

    def answer(request: httpx.Request) -> httpx.Response:
        stream: Any = Async() if asynchronous else Sync()
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    async def answer_async(request: httpx.Request) -> httpx.Response:
        return answer(request)

    def read_sync() -> None:
        transport = RecordingTransport(httpx.MockTransport(answer), recorder=recorder)
        with httpx.Client(transport=transport) as http, http.stream("POST", URL, json={}) as response:
            for _ in response.iter_bytes():
                if how == "stopped":
                    break

    async def read_async() -> None:
        transport = AsyncRecordingTransport(httpx.MockTransport(answer_async), recorder=recorder)
        async with httpx.AsyncClient(transport=transport) as http, http.stream("POST", URL, json={}) as response:
            async for _ in response.aiter_bytes():
                if how == "stopped":
                    break

    recorder = Recorder("unit")
    if how == "dropped":
        with pytest.raises(httpx.RemoteProtocolError):
            asyncio.run(read_async()) if asynchronous else read_sync()
    else:
        asyncio.run(read_async()) if asynchronous else read_sync()
    [item] = recorder.interactions()
    ending = item.response_header(INCOMPLETE_HEADER)
    if how == "whole":
        assert item.response_body == first + second and ending is None
    elif how == "stopped":
        assert item.response_body == first and ending is not None and ending.startswith("incomplete; the caller")
    else:
        assert item.response_body == first and ending is not None and "RemoteProtocolError" in ending


# ---------------------------------------------------------------- scrubbing on save


def test_a_token_planted_in_every_scrubbed_place_does_not_survive(tmp_path: Path) -> None:
    image = noisy_png()
    image_b64 = base64.b64encode(image).decode()
    signed = f"https://blob.example.net/private/a.png?st=2026&se={TOKEN}&sp=r&sig={TOKEN}&X-Amz-Signature={TOKEN}"
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "api-key": TOKEN,
        "Cookie": f"session={TOKEN}",
        "OpenAI-Organization": TOKEN,
        "OpenAI-Project": TOKEN,
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stream"):
            event = {"type": "image_generation.completed", "b64_json": image_b64, "note": jwt()}
            body = f"event: image_generation.completed\ndata: {json.dumps(event)}\n\n".encode()
            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
        payload = {
            "created": 1,
            "data": [
                {"url": signed, "revised_prompt": f"key sk-{TOKEN} and token {jwt()} in project proj_{TOKEN}"},
                {"b64_json": image_b64},
            ],
            "project_id": TOKEN,
            "client_secret": {"value": TOKEN, "expires_at": 1},
        }
        return httpx.Response(
            200,
            json=payload,
            headers={
                "Set-Cookie": f"sid={TOKEN}; HttpOnly",
                "Location": signed,
                "x-api-key": TOKEN,
                "x-openai-project": f"proj_{TOKEN}",
            },
        )

    transport = RecordingTransport(httpx.MockTransport(answer))
    with httpx.Client(transport=transport) as http:
        http.post(
            f"{URL}?api-version=2025-04-01&sig={TOKEN}&se={TOKEN}&X-Amz-Credential={TOKEN}&client_secret={TOKEN}",
            headers=headers,
            json={
                "prompt": f"sk-{TOKEN} {jwt()} for proj_{TOKEN}",
                "images": [{"image_url": signed}, {"image_url": f"data:image/png;base64,{image_b64}"}],
                "api_key": TOKEN,
                "project_id": TOKEN,
                "client_secret": TOKEN,
            },
        )
        body, ctype = multipart(
            {
                "prompt": f"use sk-proj-{TOKEN} and {jwt()} in proj_{TOKEN}",
                "model": "gpt-image-1.5",
                "project_id": TOKEN,
                "client_secret": TOKEN,
            },
            {"image[]": ("a.png", image, "image/png")},
        )
        edits = URL.replace("/v1/", f"/v1/projects/proj_{TOKEN}/").replace("generations", "edits")
        http.post(edits, headers={**headers, "Content-Type": ctype}, content=body)
        http.post(f"{URL}/stream", headers=headers, json={"stream": True})
    assert len(transport.interactions()) == 3
    path = transport.save(tmp_path / "planted.yaml")
    assert_gone(path, TOKEN.encode(), image, image_b64.encode())
    text = path.read_text()
    # what was replaced is still described: the image's digest and size, the URL's shape
    assert hashlib.sha256(image).hexdigest() in text and "b64_json_bytes" in text
    assert "sig=REDACTED" in text and "Bearer REDACTED" in text
    assert "proj_REDACTED" in text and "/projects/proj_REDACTED/" in text
    edit = load(path).interactions[1]
    assert b"X-Imagewire-Original-Sha256: " + hashlib.sha256(image).hexdigest().encode() in edit.request_body
    assert text.startswith("# Recorded by imagewire on ") and "scrubbed" in text.splitlines()[0]


def test_a_key_of_any_shape_is_removed_by_value(tmp_path: Path) -> None:
    odd = "plainkey-of-no-known-shape"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {odd}."}})

    transport = RecordingTransport(httpx.MockTransport(answer), secrets=[odd])
    with httpx.Client(transport=transport) as http:
        http.post(URL, headers={"X-Custom-Auth": odd}, json={"prompt": odd})
    path = transport.save(tmp_path / "odd.yaml")
    assert_gone(path, odd.encode())


def test_unscrubbed_saving_is_loud(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"created": 1, "data": [{"url": "https://x/y.png"}]})

    transport = RecordingTransport(httpx.MockTransport(answer))
    with httpx.Client(transport=transport) as http:
        http.post(URL, headers={"Authorization": f"Bearer {TOKEN}"}, json={})
    with pytest.warns(UnscrubbedCassetteWarning, match="WITHOUT scrubbing"):
        path = transport.save(tmp_path / "raw.yaml", scrub=False)
    text = path.read_text()
    assert text.startswith("# Recorded by imagewire") and "UNSCRUBBED" in text.splitlines()[0]
    assert TOKEN in text  # it really is the raw traffic
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default path never warns
        transport.save(tmp_path / "clean.yaml")


def test_append_keeps_what_the_cassette_held(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"created": 1, "data": [{"url": f"https://x/{request.url.params['n']}"}]})

    path = tmp_path / "both.yaml"
    for n in ("1", "2"):
        recorder = Recorder()
        with httpx.Client(transport=RecordingTransport(httpx.MockTransport(answer), recorder=recorder)) as http:
            http.post(URL, params={"n": n}, json={})
        recorder.save(path, append=True)
    recording = load(path)
    assert [json.loads(i.response_body)["data"][0]["url"] for i in recording.interactions] == [
        "https://x/1",
        "https://x/2",
    ]
    (tmp_path / "not.yaml").write_text("just: text\n")
    with pytest.raises(ValueError, match="cannot append"):
        recorder.save(tmp_path / "not.yaml", append=True)


def test_settings_parse_to_the_clients_keywords() -> None:
    assert parse_settings(["resource=r", "api-version=2025-04-01-preview", "deployment = d"]) == {
        "resource": "r",
        "api_version": "2025-04-01-preview",
        "deployment": "d",
    }
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_settings(["resource"])
    with pytest.raises(ValueError, match="unknown setting"):
        parse_settings(["colour=red"])


# ---------------------------------------------------------------- imagewire record


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = record.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_record_writes_a_scrubbed_cassette_and_prints_the_estimate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], judge: Judge
) -> None:
    image_b64 = base64.b64encode(noisy_png()).decode()

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(200, json={"created": 1, "data": [{"b64_json": image_b64}]})

    monkeypatch.setattr(record, "TRANSPORT", httpx.MockTransport(answer))
    out_file = tmp_path / "aipo.yaml"
    code, out, err = _run(
        [
            str(out_file),
            "--provider",
            "aipomogator",
            "--api-key",
            TOKEN,
            "--model",
            "dall-e-2",
            "--size",
            "256x256",
            "--format",
            "b64_json",
        ],
        capsys,
    )
    assert code == 0, err
    assert "estimate: $0.016" in out and "recorded 1 interaction(s)" in out
    assert TOKEN not in out + err
    assert_gone(out_file, TOKEN.encode(), image_b64.encode())
    [verdict] = judge.judge_all(load(out_file).interactions, "aipomogator")
    assert verdict.verdict == "conforms"


def test_record_keeps_a_provider_error_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}}
        )

    monkeypatch.setattr(record, "TRANSPORT", httpx.MockTransport(answer))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    out_file = tmp_path / "quota.yaml"
    code, out, err = _run([str(out_file), "--model", "gpt-image-1.5", "--size", "1024x1024"], capsys)
    assert code == 3 and "answered 429" in err
    assert "estimate: price unknown" in out
    [item] = load(out_file).interactions
    assert item.status == 429 and b"insufficient_quota" in item.response_body
    assert KEY not in out + err + out_file.read_text()


def test_record_sends_nothing_on_a_usage_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:  # pragma: no cover - must not be reached
        raise AssertionError("sent")

    monkeypatch.setattr(record, "TRANSPORT", httpx.MockTransport(answer))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    out_file = tmp_path / "none.yaml"
    code, _, err = _run([str(out_file), "--model", "dall-e-3", "--size", "256x256", "--allow-retired"], capsys)
    assert code == 2 and "not sent" in err and not out_file.exists()
    code, _, err = _run([str(out_file), "--operation", "edits"], capsys)
    assert code == 2 and "needs --image" in err
    code, _, err = _run([str(out_file), "--provider", "azure", "--api-key", "k" * 8], capsys)
    assert code == 2 and "needs --resource ..." in err  # resource / deployment missing, in command-line words
    code, _, err = _run([str(out_file), "--setting", "colour=red"], capsys)
    assert code == 2 and "unknown setting" in err
    code, _, err = _run([str(out_file), "--model", "gpt-image-9000"], capsys)
    assert code == 2 and "pass --no-validate" in err and "validate=False" not in err
    code, _, err = _run([str(out_file), "--response-format", "url", "--model", "gpt-image-1.5"], capsys)
    assert code == 2 and "not sent" in err  # the older spelling of --format still reaches the client's check


def test_record_takes_every_request_field_as_generate_edit_and_vary_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from imagewire.cli.fields import operations, request_fields

    command = cli.load("record")
    names = {name for param in command.params for name in param.opts}
    for operation in operations():  # each field spelled as the image commands spell it (from the client)
        for field in request_fields(operation).values():
            spelled = {"response_format": "--format", "n": "--n"}.get(field.name, "--" + field.name.replace("_", "-"))
            assert spelled in names, (operation, field.name)

    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"created": 1, "data": [{"b64_json": base64.b64encode(noisy_png()).decode()}]})

    monkeypatch.setattr(record, "TRANSPORT", httpx.MockTransport(answer))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    argv = [str(tmp_path / "a.yaml"), "--model", "gpt-image-1.5", "--background", "transparent"]
    code, _, err = _run([*argv, "--output-format", "webp", "--moderation", "low", "-q", "low"], capsys)
    assert code == 0, err
    assert {k: sent[0].get(k) for k in ("background", "output_format", "moderation", "quality", "prompt")} == {
        "background": "transparent",
        "output_format": "webp",
        "moderation": "low",
        "quality": "low",
        "prompt": record.DEFAULT_PROMPT,
    }
    code, _, err = _run([*argv, "--style", "purple"], capsys)  # a closed set, from the client's types
    assert code == 2 and "purple" in err
    code, _, err = _run(
        [str(tmp_path / "b.yaml"), "--operation", "variations", "--image", "x.png", "--prompt", "p"], capsys
    )
    assert code == 2 and "variations takes no --prompt" in err and len(sent) == 1


@pytest.fixture(scope="module")
def reference() -> Iterator[Any]:
    server = start("local", api_key=KEY)
    try:
        yield server
    finally:
        server.stop()


def test_record_against_the_reference_provider_stream_edit_and_error(
    tmp_path: Path, reference: Any, capsys: pytest.CaptureFixture[str], judge: Judge
) -> None:
    cassette = tmp_path / "local.yaml"
    common = ["--provider", "local", "--base-url", reference.base_url, "--api-key", KEY]
    code, out, err = _run(
        [
            str(cassette),
            *common,
            "--model",
            "gpt-image-1.5",
            "--size",
            "1024x1024",
            "--stream",
            "--partial-images",
            "1",
        ],
        capsys,
    )
    assert code == 0, err
    assert "estimate: $0.000" in out and "2 event(s), 1 image(s)" in out
    picture = tmp_path / "in.png"
    picture.write_bytes(noisy_png(64))
    code, out, err = _run(
        [
            str(cassette),
            *common,
            "--append",
            "--operation",
            "edits",
            "--model",
            "gpt-image-1.5",
            "--image",
            str(picture),
        ],
        capsys,
    )
    assert code == 0, err
    code, out, err = _run(
        [str(cassette), *common, "--append", "--model", "dall-e-3", "--size", "7x7", "--no-validate"], capsys
    )
    assert code == 3 and "answered 400" in err
    items = load(cassette).interactions
    assert [i.status for i in items] == [200, 200, 400]
    assert "event-stream" in (items[0].response_header("content-type") or "")
    assert items[0].response_body.count(b"data:") == 2
    assert_gone(cassette, KEY.encode())
    verdicts = judge.judge_all(items, "local")
    assert [v.verdict for v in verdicts] == ["conforms", "conforms", "conforms"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_connection_the_provider_drops_is_recorded_as_far_as_it_came(
    tmp_path: Path, reference: Any, stream: bool, judge: Judge
) -> None:
    from imagewire_client import APIConnectionError, Client

    transport = RecordingTransport(secrets=[KEY])
    with httpx.Client(transport=transport) as http:
        client = Client(provider="local", base_url=reference.base_url, api_key=KEY, http_client=http, max_retries=0)
        options: dict[str, Any] = {"extra_headers": {"X-Imagewire-Fault": "drop"}, "size": "1024x1024"}
        with pytest.raises(APIConnectionError):
            result: Any = client.images.generate(model="gpt-image-1.5", prompt="x", stream=stream, **options)
            list(result) if stream else None
    [item] = transport.interactions()
    assert item.status == 200 and item.response_body
    assert "the connection failed" in (item.response_header(INCOMPLETE_HEADER) or "")
    path = transport.save(tmp_path / "dropped.yaml")
    [verdict] = judge.judge_all(load(path).interactions, "local")
    assert verdict.verdict == "violation"  # what arrived is not an answer the client can use


# ---------------------------------------------------------------- vcrpy / pytest-recording


class _Planted(BaseHTTPRequestHandler):
    """A loopback provider whose answers carry the planted token in every scrubbed place."""

    image_b64 = base64.b64encode(noisy_png()).decode()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        signed = f"http://127.0.0.1/files/a.png?se={TOKEN}&sig={TOKEN}"
        body = json.dumps(
            {
                "created": 1,
                "data": [{"b64_json": self.image_b64, "revised_prompt": f"sk-{TOKEN} {jwt()}"}, {"url": signed}],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", f"sid={TOKEN}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def planted() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Planted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _call(base: str) -> httpx.Response:
    with httpx.Client() as http:
        return http.post(
            f"{base}/v1/images/generations?sig={TOKEN}",
            headers={"Authorization": f"Bearer {TOKEN}", "api-key": TOKEN, "OpenAI-Project": TOKEN},
            json={"model": "gpt-image-1.5", "prompt": f"sk-{TOKEN} {jwt()}"},
        )


def test_the_vcr_config_hooks_scrub_what_vcrpy_records(
    tmp_path: Path, planted: str, vcr_config: dict[str, Any]
) -> None:
    import vcr

    cassette = tmp_path / "vcr.yaml"
    recorder = vcr.VCR(record_mode="once")
    with recorder.use_cassette(str(cassette), **vcr_config):
        response = _call(planted)
    assert response.status_code == 200 and TOKEN in response.text  # the caller got the real answer
    assert_gone(cassette, TOKEN.encode(), _Planted.image_b64.encode())
    with recorder.use_cassette(str(cassette), record_mode="none", **vcr_config):  # and it replays
        replayed = _call(planted)  # served from the cassette: the live answer would carry the token
    assert replayed.status_code == 200 and "b64_json_sha256" in replayed.text and TOKEN not in replayed.text


def test_the_hooks_work_on_vcrpy_objects_directly() -> None:
    from vcr.request import Request

    request = Request("POST", f"{URL}?sig={TOKEN}", json.dumps({"prompt": f"sk-{TOKEN}"}).encode(), {"api-key": TOKEN})
    request.headers["Content-Type"] = "application/json"
    clean = vcr_before_record_request(request)
    assert TOKEN not in clean.uri and TOKEN not in clean.headers["api-key"] and TOKEN.encode() not in clean.body
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "Set-Cookie": [TOKEN]},
        "body": {"string": json.dumps({"data": [{"b64_json": _Planted.image_b64}]}).encode()},
    }
    clean_response = vcr_before_record_response(response)
    assert TOKEN not in json.dumps(clean_response["headers"])
    assert _Planted.image_b64.encode() not in clean_response["body"]["string"]


_MARKED_TEST = """
import os

import httpx
import pytest


@pytest.mark.vcr
def test_marked() -> None:
    token = os.environ["IW_TOKEN"]
    response = httpx.post(
        os.environ["IW_URL"] + "/v1/images/generations?sig=" + token,
        headers={"Authorization": "Bearer " + token, "OpenAI-Organization": token},
        json={"model": "gpt-image-1.5", "prompt": "sk-" + token},
    )
    assert response.status_code == 200
"""

_MARKED_CONFTEST = """
import importlib.util

_spec = importlib.util.spec_from_file_location("imagewire_tests_conftest", {path!r})
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
vcr_config = _module.vcr_config
"""


def test_a_test_marked_vcr_records_a_scrubbed_cassette(tmp_path: Path, planted: str) -> None:
    project_conftest = Path(__file__).resolve().parents[1] / "conftest.py"
    (tmp_path / "conftest.py").write_text(_MARKED_CONFTEST.format(path=str(project_conftest)))
    (tmp_path / "test_marked.py").write_text(_MARKED_TEST)
    env = {**os.environ, "IW_URL": planted, "IW_TOKEN": TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--record-mode=once", "test_marked.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [cassette] = (tmp_path / "cassettes").rglob("*.yaml")
    assert_gone(cassette, TOKEN.encode(), _Planted.image_b64.encode())
    data = yaml.safe_load(cassette.read_text())
    assert data["interactions"][0]["response"]["status"]["code"] == 200
