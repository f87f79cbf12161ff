"""Recording formats: VCR cassettes (YAML and JSON) and HAR 1.2 read into one Interaction type; cassettes
written back byte for byte; malformed files and entries reported by file and index while the rest is read."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from imagewire.record.recordings import Interaction, discover, dump_cassette, load, load_all, write_cassette

VCR_TEXT = """\
interactions:
- request:
    body: '{"prompt": "A yellow alpaca", "model": "dall-e-3"}'
    headers:
      Authorization:
      - Bearer REDACTED
      Content-Type:
      - application/json
    method: POST
    uri: https://api.openai.com/v1/images/generations
  response:
    body:
      string: '{"created": 1, "data": [{"url": "https://x/y.png"}]}'
    headers:
      Content-Type:
      - application/json
      Set-Cookie:
      - a=1
      - b=2
    status:
      code: 200
      message: OK
- request:
    body:
      string: !!binary |
        AAEC
    headers:
      Content-Type: multipart/form-data; boundary=x
    method: post
    uri: https://api.openai.com/v1/images/edits
  response:
    body:
      string: !!binary |
        H4sIAAAAAAACA6tWSi0qyi9SslJQqlCqBQBARL/LDgAAAA==
    headers:
      content-encoding: [gzip]
    status: 500
version: 1
"""


def test_reads_a_vcr_cassette_as_vcrpy_and_pytest_recording_write_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(VCR_TEXT)
    recording = load(path)
    assert recording.format == "cassette" and recording.errors == []
    first, second = recording.interactions
    assert first.method == "POST" and first.url.endswith("/images/generations") and first.index == 0
    assert first.request_header("authorization") == "Bearer REDACTED"
    assert json.loads(first.request_body) == {"prompt": "A yellow alpaca", "model": "dall-e-3"}
    assert first.status == 200 and first.reason == "OK"
    assert [v for n, v in first.response_headers if n == "Set-Cookie"] == ["a=1", "b=2"]
    assert second.method == "POST" and second.request_body == b"\x00\x01\x02"
    assert second.status == 500 and second.request_header("content-type") == "multipart/form-data; boundary=x"
    assert second.response_content() == b'{"error": "x"}'  # gzip undone


def test_reads_a_json_cassette(tmp_path: Path) -> None:
    data = {
        "interactions": [
            {
                "request": {"method": "POST", "uri": "https://h/v1/images/generations", "headers": {}, "body": None},
                "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "{}"}},
            }
        ],
        "version": 1,
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    recording = load(path)
    assert recording.format == "cassette" and len(recording.interactions) == 1
    assert recording.interactions[0].request_body == b""


def _har(entries: list[object]) -> dict[str, object]:
    return {"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": entries}}


def _entry(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/images/generations",
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "postData": {"mimeType": "application/json", "text": '{"prompt": "x"}'},
        },
        "response": {
            "status": 200,
            "statusText": "OK",
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "content": {"mimeType": "application/json", "text": '{"created": 1, "data": []}'},
        },
    }
    entry.update(overrides)
    return entry


def test_reads_har_text_base64_and_post_params(tmp_path: Path) -> None:
    encoded = _entry()
    encoded["response"]["content"] = {  # type: ignore[index]
        "mimeType": "application/json",
        "text": base64.b64encode(b'{"created": 2}').decode(),
        "encoding": "base64",
    }
    multipart = _entry()
    multipart["request"] = {
        "method": "POST",
        "url": "https://api.openai.com/v1/images/variations",
        "headers": [],
        "postData": {
            "mimeType": "multipart/form-data; boundary=BOUND",
            "params": [
                {"name": "image", "value": "PNGDATA", "fileName": "a.png", "contentType": "image/png"},
                {"name": "n", "value": "2"},
            ],
        },
    }
    form = _entry()
    form["request"] = {
        "method": "POST",
        "url": "https://h/v1/images/generations",
        "postData": {"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "a b", "value": "c&d"}]},
    }
    path = tmp_path / "t.har"
    path.write_text(json.dumps(_har([_entry(), encoded, multipart, form])))
    recording = load(path)
    assert recording.format == "har" and recording.errors == []
    plain, b64, parts, urlencoded = recording.interactions
    assert plain.request_body == b'{"prompt": "x"}' and plain.response_body == b'{"created": 1, "data": []}'
    assert b64.response_body == b'{"created": 2}'
    assert parts.request_header("content-type") == "multipart/form-data; boundary=BOUND"
    assert b'filename="a.png"' in parts.request_body and b"--BOUND--" in parts.request_body
    assert urlencoded.request_body == b"a%20b=c%26d"


def test_malformed_entries_are_collected_by_index_and_the_rest_is_read(tmp_path: Path) -> None:
    entries = [
        _entry(),
        "not an entry",
        _entry(request={"url": "https://x/"}),
        _entry(response={"status": 999, "content": {}}),
        _entry(response={"status": 200, "content": {"text": "!!", "encoding": "base64"}}),
        _entry(),
    ]
    path = tmp_path / "bad.har"
    path.write_text(json.dumps(_har(entries)))
    recording = load(path)
    assert [i.index for i in recording.interactions] == [0, 5]
    assert [e.index for e in recording.errors] == [1, 2, 3, 4]
    messages = [str(e) for e in recording.errors]
    assert [m.split(":")[0] for m in messages] == [f"{path}#{n}" for n in (2, 3, 4, 5)]  # counted from 1
    assert "method is missing" in messages[1] and "100-599" in messages[2] and "base64" in messages[3]


def test_malformed_cassette_entries_too(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "interactions:\n- request: {method: GET, uri: 'https://x/'}\n  response: {status: {code: 200}, body: {string: ok}}\n"
        "- request: {method: GET}\n  response: {status: {code: 200}}\n"
        "- {request: {method: GET, uri: 'https://x/'}, response: {status: {code: 200}, headers: [1, 2]}}\n"
        "- 42\n"
        "version: 1\n"
    )
    recording = load(path)
    assert len(recording.interactions) == 1
    assert [(e.index, e.message.split(" ")[0]) for e in recording.errors] == [
        (1, "request.uri"),
        (2, "response.headers"),
        (3, "an"),
    ]


def test_unreadable_files_are_one_error_each(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("interactions: [\n  - {")
    (tmp_path / "b.json").write_text("{not json")
    (tmp_path / "c.yml").write_text("just: a mapping\n")
    (tmp_path / "d.har").write_bytes(b"\xff\xfe\x00")
    recordings = load_all([tmp_path, tmp_path / "missing.yaml"])
    errors = [e for r in recordings for e in r.errors]
    assert len(errors) == 5 and all(e.index is None for e in errors)
    assert "line" in errors[0].message and "JSON" in errors[1].message
    assert "neither a VCR cassette" in errors[2].message and "UTF-8" in errors[3].message
    assert "cannot read" in errors[4].message


def test_discover_walks_folders_and_skips_expectations(tmp_path: Path) -> None:
    for name in ("a.yaml", "a.expect.yaml", "sub/b.har", "sub/c.json", "sub/d.yml", "notes.txt", ".hidden/e.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == [
        "a.yaml",
        "sub/b.har",
        "sub/c.json",
        "sub/d.yml",
    ]
    assert discover(tmp_path / "a.yaml") == [tmp_path / "a.yaml"]


def test_a_written_cassette_reads_back_and_is_vcr_shaped(tmp_path: Path) -> None:
    item = Interaction(
        "x",
        0,
        "POST",
        "https://h/v1/images/generations",
        (("Content-Type", "application/json"), ("X-Multi", "1"), ("X-Multi", "2")),
        b'{"prompt": "\xc3\xa9"}',
        200,
        "OK",
        (("Content-Type", "text/event-stream"),),
        b"data: {}\r\n\r\ndata: [DONE]\r\n\r\n",
    )
    binary = Interaction("x", 1, "GET", "https://h/img.png", (), b"", 200, "OK", (), gzip.compress(b"\x89PNG"))
    path = write_cassette(tmp_path / "out.yaml", [item, binary], header="a title\nsecond line")
    text = path.read_text()
    assert text.startswith("# a title\n# second line\ninteractions:")
    back = load(path).interactions
    assert [
        (i.method, i.url, i.request_headers, i.request_body, i.status, i.response_headers, i.response_body)
        for i in back
    ] == [
        (i.method, i.url, i.request_headers, i.request_body, i.status, i.response_headers, i.response_body)
        for i in (item, binary)
    ]
    import yaml

    data = yaml.safe_load(text)
    assert data["version"] == 1
    request = data["interactions"][0]["request"]
    assert set(request) == {"method", "uri", "headers", "body"} and request["headers"]["X-Multi"] == ["1", "2"]
    assert data["interactions"][1]["request"]["body"] is None
    assert data["interactions"][1]["response"]["status"] == {"code": 200, "message": "OK"}


@settings(max_examples=150, deadline=None)
@given(
    request_body=st.one_of(st.binary(max_size=64), st.text(max_size=64).map(str.encode)),
    response_body=st.one_of(st.binary(max_size=64), st.text(max_size=64).map(str.encode)),
    header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
)
def test_any_body_survives_a_round_trip(request_body: bytes, response_body: bytes, header: str) -> None:
    item = Interaction(
        "x", 0, "POST", "https://h/v1/images/generations", (("X-H", header),), request_body, 201, "", (), response_body
    )
    import yaml

    data = yaml.safe_load(dump_cassette([item]))
    from imagewire.record.recordings import parse_cassette

    back = parse_cassette(data, "x").interactions[0]
    assert back.request_body == request_body and back.response_body == response_body
    assert back.request_headers == (("X-H", header),)
