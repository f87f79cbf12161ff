"""The local engine through ``imagewire batch``: outputs, journal and resume, kill -9, Ctrl-C, budget, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.batch import Serve, generations, image_sends, write_manifest

import imagewire.batch
from imagewire.batch.journal import Journal
from imagewire.cli.batch import main
from imagewire.server import Running


def _args(manifest: Path, out: Path, server: Running, *more: str) -> list[str]:
    return [str(manifest), "--out", str(out), "--provider", "local", "--base-url", server.base_url, *more]


def _states(out: Path) -> dict[str, int]:
    return Journal.peek(out)


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "imagewire", "batch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_images_named_by_id_report_and_rerun_sends_nothing(serve: Serve, tmp_path: Path, capsys: object) -> None:
    server = serve("local")
    manifest = write_manifest(
        tmp_path / "m.jsonl",
        [*generations(5), {"id": "two", "prompt": "x", "model": "dall-e-2", "n": 2, "size": "256x256"}],
    )
    out = tmp_path / "out"
    assert main(_args(manifest, out, server, "--concurrency", "3")) == 0
    names = sorted(p.name for p in (out / "images").iterdir())
    assert names == [
        "shot-000.png",
        "shot-001.png",
        "shot-002.png",
        "shot-003.png",
        "shot-004.png",
        "two-0.png",
        "two-1.png",
    ]
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["done"] == 6 and {i["state"] for i in report["items"]} == {"done"}
    assert "shot-003.png" in (out / "index.html").read_text()
    assert "6 done" in capsys.readouterr().out  # type: ignore[attr-defined]
    sends = len(server.requests())  # two is answered with URLs: 6 sends and 2 downloads
    assert sends == 8
    assert main(_args(manifest, out, server)) == 0  # the same command again: everything is done
    assert len(server.requests()) == sends


def test_python_api_yields_results_as_they_complete(serve: Serve, tmp_path: Path) -> None:
    server = serve("local")
    results = list(imagewire.batch.run(generations(4), tmp_path / "out", provider="local", base_url=server.base_url))
    assert sorted((r.id, r.state, r.files) for r in results) == [
        (f"shot-{k:03d}", "done", (f"images/shot-{k:03d}.png",)) for k in range(4)
    ]


def test_kill_9_midway_then_resume_and_retry_unknown(serve: Serve, tmp_path: Path) -> None:
    server = serve("local", latency_ms=600)
    items = generations(12)
    manifest = write_manifest(tmp_path / "m.jsonl", items)
    out = tmp_path / "out"
    args = _args(manifest, out, server, "--concurrency", "4")
    process = _spawn(args)
    try:
        # kill while a second wave is in flight: some answers journaled, some requests out without an answer
        _wait_for(lambda: _states(out).get("done", 0) >= 4 and _states(out).get("sent", 0) >= 1)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    killed = _states(out)
    in_flight = killed.get("sent", 0)
    answered = killed.get("done", 0)
    assert in_flight >= 1 and answered >= 4
    time.sleep(0.8)  # the server finishes what it received

    rerun = subprocess.run(
        [sys.executable, "-m", "imagewire", "batch", *args, "--resume"], capture_output=True, text=True, timeout=60
    )
    assert rerun.returncode == 1, rerun.stderr
    with Journal(out / "journal.sqlite") as journal:
        unknown = sorted(row.id for row in journal.rows() if row.state == "unknown")
    assert len(unknown) == in_flight
    for ident in unknown:
        assert f"unknown {ident}" in rerun.stdout
        assert not (out / "images" / f"{ident}.png").exists()
    assert "not sent again (--retry-unknown sends them)" in rerun.stderr
    # nothing answered or in flight was sent again: one send per item at most (an item journaled as sent the
    # instant before the kill may not have left the process)
    sends = len(image_sends(server))
    assert len(items) - len(unknown) <= sends <= len(items)

    again = subprocess.run(
        [sys.executable, "-m", "imagewire", "batch", "--resume", "--retry-unknown", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr + again.stdout
    assert sorted(p.name for p in (out / "images").iterdir()) == [f"{i['id']}.png" for i in items]
    assert len(image_sends(server)) == sends + len(unknown)  # one send per item, apart from the unknowns


def test_ctrl_c_stops_scheduling_and_waits_for_the_calls_in_flight(serve: Serve, tmp_path: Path) -> None:
    server = serve("local", latency_ms=600)
    manifest = write_manifest(tmp_path / "m.jsonl", generations(8))
    out = tmp_path / "out"
    process = _spawn(_args(manifest, out, server, "--concurrency", "2"))
    try:
        _wait_for(lambda: _states(out).get("sent", 0) == 2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "interrupted: no new request starts; waiting for 2 in flight" in stderr
    states = _states(out)
    assert states.get("sent", 0) == 0 and states.get("unknown", 0) == 0  # nothing left without its answer
    assert states["done"] >= 2 and states["done"] + states.get("pending", 0) == 8
    assert len(image_sends(server)) == states["done"]
    assert "not sent (budget or interruption)" in stdout


def test_budget_stops_scheduling_before_the_cap(serve: Serve, tmp_path: Path, capsys: object) -> None:
    server = serve("aipomogator")  # dall-e-3 1024x1024 at $0.04 in its catalog entry
    lines = [
        {
            "id": f"p{k}",
            "prompt": f"A lamp {k}",
            "model": "dall-e-3",
            "size": "1024x1024",
            "response_format": "b64_json",
        }
        for k in range(5)
    ]
    manifest = write_manifest(tmp_path / "m.jsonl", lines)
    out = tmp_path / "out"
    args = [
        str(manifest),
        "--out",
        str(out),
        "--provider",
        "aipomogator",
        "--base-url",
        server.base_url,
        "--api-key",
        "k-test",
    ]
    assert main([*args, "--budget", "0.10", "--concurrency", "4"]) == 1
    captured = capsys.readouterr()  # type: ignore[attr-defined]
    assert "estimate $0.200" in captured.err
    assert "2 done, 3 not sent; spent $0.080" in captured.out
    assert len(image_sends(server)) == 2
    assert main([*args, "--budget", "0.20"]) == 0  # the rest fits a larger cap
    assert len(image_sends(server)) == 5


def test_budget_needs_known_prices(serve: Serve, tmp_path: Path, capsys: object) -> None:
    server = serve("local")
    manifest = write_manifest(tmp_path / "m.jsonl", [{"id": "x", "prompt": "A kite", "model": "gpt-image-1.5"}])
    code = main(
        [str(manifest), "--out", str(tmp_path / "o"), "--base-url", server.base_url, "--api-key", "k", "--budget", "1"]
    )
    assert code == 2
    assert "--budget needs known prices" in capsys.readouterr().err  # type: ignore[attr-defined]
    assert server.requests() == []


def test_unreachable_provider_exits_3(tmp_path: Path, capsys: object) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    manifest = write_manifest(tmp_path / "m.jsonl", generations(2))
    out = tmp_path / "out"
    code = main([str(manifest), "--out", str(out), "--provider", "local", "--base-url", f"http://127.0.0.1:{port}/v1"])
    assert code == 3
    assert _states(out) == {"pending": 2}  # never reached the provider: sent again next time


def test_failures_are_listed_and_exit_1(serve: Serve, tmp_path: Path, capsys: object) -> None:
    server = serve("local")
    manifest = write_manifest(
        tmp_path / "m.jsonl",
        [*generations(2), {"id": "blocked", "prompt": "something forbidden", "model": "dall-e-2", "size": "256x256"}],
    )
    assert main(_args(manifest, tmp_path / "out", server)) == 1
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "2 done, 1 failed" in out and "failed  blocked (line 3): ContentPolicyError" in out


def test_rate_limited_server_no_item_fails(serve: Serve, tmp_path: Path) -> None:
    server = serve("local", rate_limit=10)
    out = tmp_path / "out"
    results = list(
        imagewire.batch.run(generations(25), out, provider="local", base_url=server.base_url, concurrency=16)
    )
    assert {r.state for r in results} == {"done"}
    log = image_sends(server)
    limited = [e for e in log if e["status"] == 429]
    assert limited, "the burst at the start meets the limit"
    first = min(e["time"] for e in limited)
    after = sorted(e["time"] for e in log if e["time"] > first + 0.5)
    # once limited, sends are paced: never more than the limit (plus one of slack) within a second
    assert all(sum(1 for t in after if s <= t < s + 1.0) <= 11 for s in after)


@pytest.mark.parametrize("unused", [None])
def test_changed_manifest_under_a_journal_is_refused(
    serve: Serve, tmp_path: Path, capsys: object, unused: None
) -> None:
    server = serve("local")
    out = tmp_path / "out"
    manifest = write_manifest(tmp_path / "m.jsonl", generations(1))
    assert main(_args(manifest, out, server)) == 0
    write_manifest(manifest, generations(1, size="512x512"))
    assert main(_args(manifest, out, server)) == 2
    assert "the manifest changed for 1 item(s) already in this journal (shot-000)" in capsys.readouterr().err  # type: ignore[attr-defined]
    assert os.path.exists(out / "images" / "shot-000.png")
