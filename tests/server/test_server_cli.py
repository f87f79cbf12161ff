"""``imagewire serve``: the banner line, a free port, clean stops on SIGTERM and SIGINT, bad options."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
import pytest
from support.server import KEY, TIMEOUT

from imagewire import cli
from imagewire.server import Running, start

IMAGEWIRE = os.path.join(os.path.dirname(sys.executable), "imagewire")


def launch(*args: str) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [IMAGEWIRE, "serve", "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().rstrip("\n")
    return process, line


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_the_base_url_and_stops_cleanly(stop: signal.Signals) -> None:
    process, line = launch("--provider", "openai", "--api-key", KEY)
    try:
        found = re.fullmatch(r"imagewire reference provider on (http://127\.0\.0\.1:(\d+)/v1) \(persona openai\)", line)
        assert found, line
        base = found.group(1)
        ok = httpx.post(
            base + "/images/generations",
            json={"model": "gpt-image-1.5", "prompt": "p"},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=TIMEOUT,
        )
        assert ok.status_code == 200
        process.send_signal(stop)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize(
    ("persona", "shape"),
    [("bothub", r"/api/v2/openai"), ("azure", r"/openai/deployments/\{deployment\}"), ("generic", r"/v1")],
)
def test_banner_shows_each_personas_url_shape(persona: str, shape: str) -> None:
    with start(persona) as server:
        assert re.fullmatch(rf"http://127\.0\.0\.1:\d+{shape}", server.base_url), server.base_url


def test_stop_terminates_by_pid_and_reports_the_status() -> None:
    server = start("local")
    assert isinstance(server, Running) and server.running()
    assert server.stop() == 0
    assert not server.running()
    with pytest.raises(httpx.HTTPError):
        httpx.get(server.origin + "/_imagewire/health", timeout=2)
    assert server.stop() == 0  # idempotent


def test_the_key_is_not_on_the_command_line() -> None:
    with start("local", api_key=KEY) as server:
        with open(f"/proc/{server.pid}/cmdline", "rb") as handle:
            assert KEY.encode() not in handle.read()
        r = httpx.post(server.base_url + "/images/generations", json={"prompt": "p"}, timeout=TIMEOUT)
        assert r.status_code == 401


def test_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run("serve", ["--faults", "meteor"]) == 2
    assert "unknown fault" in capsys.readouterr().err
    assert cli.run("serve", ["--provider", "nobody"]) == 2
    assert "unknown provider 'nobody'" in capsys.readouterr().err
    assert cli.run("serve", ["--persona", "nobody"]) == 2  # the older spelling, still taken


def test_a_port_in_use_is_reported() -> None:
    with start("local") as server:
        port = server.origin.rsplit(":", 1)[1]
        assert cli.run("serve", ["--port", port]) == 1


def test_help_lists_the_faults(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run("serve", ["--help"]) == 0
    out = capsys.readouterr().out
    assert "rate-limit-bare" in out and "--url-ttl" in out
