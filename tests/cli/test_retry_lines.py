"""Retries and waits are visible: the client logs each retry (a record with the retry's number, the retries
allowed, the delay and why), and the consumer commands show each as one line on stderr unless ``--quiet``."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from imagewire import cli
from imagewire.cli import images as consumer
from imagewire.cli.waits import retry_line, shown
from imagewire_client import Client

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR42mNgAAIAAAUAAen63NgAAAAASUVORK5CYII="


def _twice_500_then_an_image() -> httpx.MockTransport:
    answers = iter([500, 500, 200])

    def answer(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 500:
            return httpx.Response(
                500, json={"error": {"message": "try again", "type": "server_error"}}, headers={"retry-after": "0"}
            )
        return httpx.Response(200, json={"created": 1, "data": [{"b64_json": PNG_B64}]})

    return httpx.MockTransport(answer)


def test_the_client_logs_a_record_per_retry(caplog: pytest.LogCaptureFixture) -> None:
    http = httpx.Client(transport=_twice_500_then_an_image())
    client = Client(api_key="k", base_url="https://relay.example.com/v1", http_client=http, max_retries=2)
    with caplog.at_level(logging.INFO, logger="imagewire_client"):
        client.images.generate(model="gpt-image-1.5", prompt="A yellow alpaca")
    retries = [r for r in caplog.records if getattr(r, "imagewire_attempt", None) is not None]
    assert [
        (r.imagewire_attempt, r.imagewire_max_retries, r.imagewire_delay, r.imagewire_reason)  # type: ignore[attr-defined]
        for r in retries
    ] == [(1, 2, 0.0, "status 500"), (2, 2, 0.0, "status 500")]
    assert [retry_line(r) for r in retries] == [
        "retrying 1/2 after 0.0 s: status 500",
        "retrying 2/2 after 0.0 s: status 500",
    ]


def _generate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setattr(consumer, "TRANSPORT", _twice_500_then_an_image())
    argv = ["A yellow alpaca", "--model", "gpt-image-1.5", "--api-key", "k", "--out", str(tmp_path / "out"), *extra]
    return cli.main(["generate", "--base-url", "https://relay.example.com/v1", *argv])


def test_the_command_shows_one_line_per_retry_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _generate(tmp_path, monkeypatch, "--json") == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == ["retrying 1/2 after 0.0 s: status 500", "retrying 2/2 after 0.0 s: status 500"]
    assert json.loads(out)["images"]  # the answer stays alone on stdout


def test_quiet_silences_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _generate(tmp_path, monkeypatch, "--json", "--quiet") == 0
    assert "retrying" not in capsys.readouterr().err


def test_the_final_error_comes_after_the_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _generate(tmp_path, monkeypatch, "--max-retries", "1") == 3
    err = capsys.readouterr().err
    assert err.index("retrying 1/1 after 0.0 s: status 500") < err.index("try again")


def test_shown_leaves_the_logger_as_it_was() -> None:
    logger = logging.getLogger("imagewire_client")
    level, handlers = logger.level, list(logger.handlers)
    with shown():
        assert logger.isEnabledFor(logging.INFO)
    assert (logger.level, logger.handlers) == (level, handlers)
    with shown(quiet=True):
        assert logger.handlers == handlers
