"""The commands against the reference provider (``imagewire.server``, a subprocess on a free loopback port):
its request log shows that rule errors send nothing, and its faults (``-H 'X-Imagewire-Fault: NAME'``)
give exit 3 for provider errors and 4 for contract violations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from support.cli import PLANTED, Ran, files_under, png, run

from imagewire.cli import images as consumer
from imagewire.server import Running, start
from imagewire_client.catalog import PROVIDERS


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    with start("local", api_key=PLANTED) as running:
        yield running


@pytest.fixture
def local(server: Running, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Running:
    """A clean request log, no key variables, the real network (no mock), a fresh working folder."""
    for provider in PROVIDERS.values():
        if provider.key_env:
            monkeypatch.delenv(provider.key_env, raising=False)
    monkeypatch.setattr(consumer, "TRANSPORT", None)
    monkeypatch.chdir(tmp_path)
    server.reset()
    return server


def _generate(capsys: pytest.CaptureFixture[str], server: Running, *argv: str) -> Ran:
    preset = () if "--provider" in argv else ("--provider", "local")
    return run(capsys, "generate", *argv, *preset, "--base-url", server.base_url, "--api-key", PLANTED)


def _posts(server: Running) -> list[dict[str, object]]:
    return [entry for entry in server.requests() if entry["method"] == "POST"]


@pytest.mark.parametrize(
    ("argv", "rule"),
    [
        (["--model", "gpt-image-1.5", "--quality", "hd"], "values"),
        (["--model", "gpt-image-1.5", "--quality", "ultra"], "values"),
        (["--model", "dall-e-3", "--provider", "openai"], "lifecycle"),  # local serves retired models
        (["--model", "dall-e-3", "--allow-retired", "--size", "1536x1024"], "values"),
        (["--model", "gpt-image-2", "--size", "4000x100"], "size"),
        (["--model", "gpt-image-1.5", "--descr", "{'prompt':'x','n':'many'}"], "descr"),
    ],
)
def test_rule_errors_reach_no_server(
    argv: list[str], rule: str, local: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = _generate(capsys, local, "a prompt", *argv)
    assert ran.code == 2, ran.text
    assert f"rule: {rule}" in ran.err
    assert local.requests() == []


def test_missing_and_non_image_inputs_reach_no_server(
    local: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "text.png").write_text("not an image", encoding="utf-8")
    for name in ("absent.png", "text.png"):
        ran = run(
            capsys,
            "edit",
            "x",
            name,
            "-m",
            "gpt-image-1.5",
            "--provider",
            "local",
            "--base-url",
            local.base_url,
            "--api-key",
            PLANTED,
        )
        assert ran.code == 2
    assert local.requests() == []


def test_a_url_answer_is_downloaded_and_saved(local: Running, capsys: pytest.CaptureFixture[str]) -> None:
    ran = _generate(capsys, local, "Yellow alpaca", "-m", "dall-e-3", "--allow-retired", "--format", "url", "--json")
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert doc["images"][0]["revised_prompt"]
    with Image.open(doc["images"][0]["path"]) as image:
        assert image.size == (1024, 1024)
    assert [entry["path"] for entry in _posts(local)] == ["/v1/images/generations"]
    assert any(entry["method"] == "GET" for entry in local.requests())  # the image URL
    assert PLANTED not in ran.text


def test_a_stream_and_an_edit(local: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ran = _generate(capsys, local, "x", "-m", "gpt-image-1.5", "--quality", "low", "--partial-images", "2", "--json")
    assert ran.code == 0, ran.err
    assert len(ran.json()["stream"]["partials"]) == 2
    (tmp_path / "a.png").write_bytes(png(64, 64))
    (tmp_path / "b.png").write_bytes(png(64, 64, (0, 90, 0, 255)))
    (tmp_path / "m.png").write_bytes(png(64, 64, (0, 0, 0, 0)))
    argv = ["x", "a.png", "b.png", "--mask", "m.png", "-m", "gpt-image-1.5", "--quality", "low"]
    ran = run(capsys, "edit", *argv, "--provider", "local", "--base-url", local.base_url, "--api-key", PLANTED)
    assert ran.code == 0, ran.err
    assert [entry["path"] for entry in _posts(local)] == ["/v1/images/generations", "/v1/images/edits"]


@pytest.mark.parametrize(
    ("fault", "code", "needle"),
    [
        ("quota", 3, "QuotaExceededError"),
        ("rate-limit-bare", 3, "RateLimitError"),
        ("server-error", 3, "InternalServerError"),
        ("html", 3, "502"),
        ("drop", 3, "APIConnectionError"),
        ("moderation_blocked", 3, "ContentPolicyError"),
        ("wrong-shape", 4, "chat.completion"),
        ("truncated", 4, "not JSON"),
    ],
)
def test_server_faults_give_exit_3_or_4_and_leave_no_files(
    fault: str, code: int, needle: str, local: Running, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["x", "-m", "gpt-image-1.5", "--quality", "low", "--max-retries", "0", "-H", f"X-Imagewire-Fault: {fault}"]
    ran = _generate(capsys, local, *argv)
    assert ran.code == code, ran.text
    assert needle in ran.err
    assert PLANTED not in ran.text
    assert files_under(tmp_path) == []
    assert len(_posts(local)) == 1


def test_a_wrong_key_exits_3_and_is_not_printed(local: Running, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = "wrong-Key-0123456789"
    ran = run(capsys, "generate", "x", "-m", "gpt-image-1.5", "--provider", "local", "--base-url", local.base_url)
    assert ran.code == 3  # no key at all: the server wants one
    ran = run(
        capsys,
        "generate",
        "x",
        "-m",
        "gpt-image-1.5",
        "--provider",
        "local",
        "--base-url",
        local.base_url,
        "--api-key",
        wrong,
        "--json",
    )
    assert ran.code == 3
    assert ran.json()["error"]["status"] == 401
    assert wrong not in ran.text
