"""The openai-batch engine against the reference provider's Files and Batch endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from support.batch import Serve, generations, image_sends, write_manifest

from imagewire.batch.openai_batch import support
from imagewire.cli.batch import main


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
