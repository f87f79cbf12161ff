"""The openai-batch engine against the reference provider's Files and Batch endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from support.batch import Serve, generations, image_sends, write_manifest

import imagewire.batch
from imagewire.batch import openai_batch
from imagewire.batch.journal import Journal
from imagewire.batch.openai_batch import ProviderError, support
from imagewire.cli.batch import main
from imagewire.server import Running


def _edit_line(tmp_path: Path) -> dict[str, object]:
    from PIL import Image

    Image.new("RGB", (64, 64), "teal").save(tmp_path / "in.png")
    return {
        "id": "edit-1",
        "operation": "edit",
        "prompt": "Add a hat",
        "model": "gpt-image-1.5",
        "image": "in.png",
        "size": "1024x1024",
        "quality": "low",
    }


def test_same_outputs_as_the_local_engine(serve: Serve, tmp_path: Path, capsys: object) -> None:
    server = serve("local")
    lines = [
        *generations(4),
        {"id": "url-1", "prompt": "A tram", "model": "dall-e-2", "size": "256x256"},
        _edit_line(tmp_path),
    ]
    manifest = write_manifest(tmp_path / "m.jsonl", lines)
    common = ["--provider", "local", "--base-url", server.base_url]
    assert main([str(manifest), "--out", str(tmp_path / "local"), *common]) == 0
    assert main([str(manifest), "--out", str(tmp_path / "batch"), *common, "--engine", "openai-batch", "--wait"]) == 0
    local = {p.name: p.read_bytes() for p in (tmp_path / "local" / "images").iterdir()}
    batched = {p.name: p.read_bytes() for p in (tmp_path / "batch" / "images").iterdir()}
    assert sorted(local) == ["edit-1.png", "shot-000.png", "shot-001.png", "shot-002.png", "shot-003.png", "url-1.png"]
    assert batched == local
    report = json.loads((tmp_path / "batch" / "report.json").read_text())
    assert report["engine"] == "openai-batch" and report["counts"]["done"] == 6 and report["batch"] is None
    paths = [e["path"] for e in server.requests()]
    assert paths.count("/v1/files") == 2 and paths.count("/v1/batches") == 2  # one batch per endpoint


def test_submit_then_status_and_fetch(serve: Serve, tmp_path: Path, capsys: object) -> None:
    server = serve("local", latency_ms=300)
    manifest = write_manifest(
        tmp_path / "m.jsonl",
        [*generations(3), {"id": "bad", "prompt": "forbidden fruit", "model": "dall-e-2", "size": "256x256"}],
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                str(manifest),
                "--out",
                str(out),
                "--provider",
                "local",
                "--base-url",
                server.base_url,
                "--engine",
                "openai-batch",
            ]
        )
        == 0
    )
    said = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "4 submitted" in said and "imagewire batch fetch" in said
    import time

    deadline = time.monotonic() + 20
    while True:
        assert main(["status", str(out), "--json"]) in (0, 1)
        status = capsys.readouterr().out  # type: ignore[attr-defined]
        if '"status": "completed"' in status or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert main(["fetch", str(out)]) == 1  # one request was refused by the provider
    fetched = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "3 done, 1 failed" in fetched and "failed  bad" in fetched and "safety system" in fetched
    assert sorted(p.name for p in (out / "images").iterdir()) == ["shot-000.png", "shot-001.png", "shot-002.png"]
    assert len(image_sends(server)) == 4  # each line processed once by the provider
    assert main(["fetch", str(out)]) == 1  # nothing open any more: nothing fetched twice
    assert len(image_sends(server)) == 4


def test_only_providers_declaring_batch_support(tmp_path: Path, capsys: object) -> None:
    assert support("openai") is not None and support("local") is not None
    assert support("bothub") is None and support("azure") is None
    manifest = write_manifest(tmp_path / "m.jsonl", [{"id": "a", "prompt": "x", "model": "dall-e-3"}])
    code = main(
        [
            str(manifest),
            "--out",
            str(tmp_path / "o"),
            "--provider",
            "bothub",
            "--api-key",
            "k",
            "--engine",
            "openai-batch",
        ]
    )
    assert code == 2
    assert "bothub does not declare Batch API support" in capsys.readouterr().err  # type: ignore[attr-defined]


def test_edit_with_local_files_refused_where_the_batch_takes_json_only(tmp_path: Path, capsys: object) -> None:
    manifest = write_manifest(tmp_path / "m.jsonl", [_edit_line(tmp_path)])
    code = main(
        [
            str(manifest),
            "--out",
            str(tmp_path / "o"),
            "--provider",
            "openai",
            "--api-key",
            "k",
            "--engine",
            "openai-batch",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "line 1 (edit-1): an edit with local files cannot go into a Batch API request at this provider" in err


def test_server_batch_endpoints(serve: Serve) -> None:
    server = serve("local", api_key="k-batch")
    headers = {"authorization": "Bearer k-batch"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as http:
        assert http.post("/batches", json={}, headers={"authorization": "Bearer wrong"}).status_code == 401
        line = {
            "custom_id": "a",
            "method": "POST",
            "url": "/v1/images/generations",
            "body": {"prompt": "x", "model": "dall-e-2", "size": "256x256", "response_format": "b64_json"},
        }
        uploaded = http.post(
            "/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", json.dumps(line).encode())}
        ).json()
        assert uploaded["purpose"] == "batch" and uploaded["object"] == "file"
        assert http.get(f"/files/{uploaded['id']}/content").content == json.dumps(line).encode()
        wrong = http.post(
            "/batches",
            json={"input_file_id": uploaded["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"},
        )
        assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "endpoint"
        created = http.post(
            "/batches",
            json={"input_file_id": uploaded["id"], "endpoint": "/v1/images/generations", "completion_window": "24h"},
        ).json()
        assert created["status"] in ("validating", "in_progress")
        import time

        deadline = time.monotonic() + 10
        while (state := http.get(f"/batches/{created['id']}").json())["status"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert state["request_counts"] == {"total": 1, "completed": 1, "failed": 0}
        (output,) = http.get(f"/files/{state['output_file_id']}/content").text.splitlines()
        record = json.loads(output)
        assert record["custom_id"] == "a" and record["response"]["status_code"] == 200
        assert record["response"]["body"]["data"][0]["b64_json"]
        assert http.get("/batches/batch_nope").status_code == 404
        cancelled = http.post(f"/batches/{created['id']}/cancel").json()
        assert cancelled["status"] == "completed"  # a finished batch stays finished


def _statuses(server: Running) -> dict[str, list[int]]:
    """The request log's statuses by path kind: upload, create, poll, download (Files and Batch requests only)."""
    kinds: dict[str, list[int]] = {"upload": [], "create": [], "poll": [], "download": []}
    for entry in server.requests():
        path, method = str(entry["path"]), entry.get("method")
        if path == "/v1/files" and method == "POST":
            kinds["upload"].append(entry["status"])
        elif path == "/v1/batches" and method == "POST":
            kinds["create"].append(entry["status"])
        elif path.startswith("/v1/batches/") and method == "GET":
            kinds["poll"].append(entry["status"])
        elif path.startswith("/v1/files/") and path.endswith("/content"):
            kinds["download"].append(entry["status"])
    return kinds


def test_transient_failures_of_upload_create_poll_and_download_are_retried(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openai_batch, "FIRST_DELAY", 0.01)
    server = serve("local")
    fault = {"X-Imagewire-Fault": "server-error;times=2"}  # each path's first two requests: 500
    results = list(
        imagewire.batch.run(
            generations(3),
            tmp_path / "out",
            provider="local",
            base_url=server.base_url,
            client_options={"default_headers": fault},
            engine="openai-batch",
            wait=True,
        )
    )
    assert sorted((r.id, r.state) for r in results) == [(f"shot-00{k}", "done") for k in range(3)]
    kinds = _statuses(server)
    assert kinds["upload"] == [500, 500, 200] and kinds["create"] == [500, 500, 200]
    assert kinds["poll"][:3] == [500, 500, 200] and kinds["download"] == [500, 500, 200]
    assert len(image_sends(server)) == 3  # the lines themselves ran once each


def test_an_empty_account_is_not_retried_and_retries_are_bounded(
    serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openai_batch, "FIRST_DELAY", 0.01)
    server = serve("local")
    for name, status, uploads in (("quota", 429, 1), ("overloaded", 503, openai_batch.RETRIES + 1)):
        server.reset()
        with pytest.raises(ProviderError) as caught:
            list(
                imagewire.batch.run(
                    generations(2),
                    tmp_path / name,
                    provider="local",
                    base_url=server.base_url,
                    client_options={"default_headers": {"X-Imagewire-Fault": name}},
                    engine="openai-batch",
                )
            )
        assert caught.value.status == status and "uploading the batch file" in str(caught.value)
        assert _statuses(server)["upload"] == [status] * uploads
        assert Journal.peek(tmp_path / name) == {"pending": 2}  # nothing submitted


def test_creating_a_batch_is_not_repeated_after_a_request_that_may_have_arrived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    monkeypatch.setattr(openai_batch, "FIRST_DELAY", 0.0)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if len(seen) <= 2 and request.url.path == "/v1/files":
            raise httpx.ConnectError("refused", request=request)  # never arrived: tried again
        if request.url.path == "/v1/batches":
            raise httpx.ReadError("reset", request=request)  # may have arrived: not tried again
        return httpx.Response(200, json={"id": "file-1"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://p/v1") as http:
            uploaded = await openai_batch._call(http, "POST", "/files", "uploading the batch file")
            assert uploaded.json() == {"id": "file-1"}
            with pytest.raises(ProviderError, match="may have been created"):
                await openai_batch._call(http, "POST", "/batches", "creating the batch", once=True, json={})

    asyncio.run(go())
    assert seen == ["/v1/files", "/v1/files", "/v1/files", "/v1/batches"]


def test_cancel_stops_the_batch_collects_what_it_finished_and_puts_back_the_rest(
    serve: Serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve("local", latency_ms=1000)
    count = 12  # the provider runs 8 lines of a batch at a time: 4 are still waiting when it is cancelled
    manifest = write_manifest(tmp_path / "m.jsonl", generations(count))
    out = tmp_path / "out"
    common = ["--provider", "local", "--base-url", server.base_url]
    assert main([str(manifest), "--out", str(out), *common, "--engine", "openai-batch"]) == 0
    assert Journal.peek(out) == {"submitted": count}
    capsys.readouterr()
    assert main(["cancel", str(out), "--wait"]) == 1  # some items are not sent: listed, exit 1
    said = capsys.readouterr().out
    assert "cancelled" in said
    states = Journal.peek(out)
    assert states.get("done", 0) + states.get("pending", 0) == count and states.get("pending", 0) >= 1
    done = sorted(p.name for p in (out / "images").iterdir())
    assert len(done) == states.get("done", 0) == len(image_sends(server))  # each run line made one image
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["pending"] == states["pending"] and report["cancelled_batches"]
    with Journal(out / "journal.sqlite") as journal:
        assert journal.get("batches") == []  # nothing left open
    assert main(["cancel", str(out)]) == 1
    assert "nothing to cancel" in capsys.readouterr().out
