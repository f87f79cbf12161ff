"""The API key is never printed: in text, --json and --dry-run output, in errors, even when the provider echoes it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from support.cli import PLANTED, PLANTED_SK, Wire, images_body, mock_provider, png, run

from imagewire.cli import images as consumer

BASE = ("--provider", "generic", "--base-url", "http://127.0.0.1:9/v1")


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Wire:
    return mock_provider(monkeypatch, tmp_path)


def _echo_handler(kind: str) -> Callable[[httpx.Request], httpx.Response]:
    """A provider that puts the credential it received into its answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the image download: an image
            return httpx.Response(200, content=png(16, 16), headers={"content-type": "image/png"})
        auth = request.headers.get("authorization", "")
        key = auth.removeprefix("Bearer ")
        if kind == "status":
            return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {key}", "code": key}})
        if kind == "contract":
            return httpx.Response(200, text=f"<html>hello {key} / {auth}</html>", headers={"content-type": "text/html"})
        if kind == "warning":
            body = images_body(1)
            body["data"][0]["echo"] = key
            body["created"] = f"not a number {key}"
            return httpx.Response(200, json=body)
        return httpx.Response(200, json=images_body(1, url=True, revised=f"revised with {key}"))

    return handler


SCENARIOS = {
    "ok": (["x", "-m", "gpt-image-1.5", "--format", "url", "--no-validate"], 0),
    "json": (["x", "-m", "gpt-image-1.5", "--json"], 0),
    "dry-run": (["x", "-m", "gpt-image-1.5", "--dry-run", "-H", f"X-Api-Key: {PLANTED}"], 0),
    "dry-run-json": (["x", "-m", "gpt-image-1.5", "--dry-run", "--json"], 0),
    "rule": (["x", "-m", "gpt-image-1.5", "--quality", "hd"], 2),
    "rule-json": (["x", "-m", "gpt-image-1.5", "--quality", "hd", "--json"], 2),
    "usage": (["x", "-m", "gpt-image-1.5", "--quality", "nonsense", "--json"], 2),
    "status": (["x", "-m", "gpt-image-1.5", "--json"], 3),
    "status-text": (["x", "-m", "gpt-image-1.5"], 3),
    "contract": (["x", "-m", "gpt-image-1.5"], 4),
    "contract-json": (["x", "-m", "gpt-image-1.5", "--json"], 4),
    "warning": (["x", "-m", "gpt-image-1.5"], 0),
    "prompt": ([f"a prompt that mentions {PLANTED}", "-m", "gpt-image-1.5", "--json"], 0),
}


@pytest.mark.parametrize("secret", [PLANTED, PLANTED_SK])
@pytest.mark.parametrize("via", ["env", "option"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_key_is_never_printed(
    scenario: str,
    via: str,
    secret: str,
    wire: Wire,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv, expected = SCENARIOS[scenario]
    argv = [a.replace(PLANTED, secret) for a in argv]
    kind = scenario.removesuffix("-json").removesuffix("-text")
    wire.handler = _echo_handler(kind)
    if via == "env":
        monkeypatch.setenv("OPENAI_API_KEY", secret)
        key_args: list[str] = []
    else:
        key_args = ["--api-key", secret]
    ran = run(capsys, "generate", *argv, *BASE, *key_args)
    assert ran.code == expected, ran.text
    assert secret not in ran.text
    assert ran.text.strip()
    if scenario.endswith("json") or "--json" in argv:
        json.loads(ran.out)  # redaction keeps the document valid
    if scenario.startswith("dry-run"):
        assert "[REDACTED]" in ran.out
    if wire.api_calls:  # it was really sent, with the key, and what came back mentioned it
        assert wire.api_calls[0].headers["authorization"] == f"Bearer {secret}"
        if kind not in ("json", "warning"):  # these answers print nothing of what was echoed
            assert "[REDACTED]" in ran.text


def test_the_key_is_not_printed_by_an_internal_error(
    wire: Wire, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"broke while holding {PLANTED}")

    monkeypatch.setattr(consumer, "_report", boom)
    ran = run(capsys, "generate", "x", "-m", "gpt-image-1.5", *BASE, "--api-key", PLANTED)
    assert ran.code == 1
    assert PLANTED not in ran.text
    assert "[REDACTED]" in ran.err


def test_the_key_is_not_printed_in_an_edit_dry_run(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.png").write_bytes(png())
    ran = run(capsys, "edit", PLANTED, "a.png", "-m", "gpt-image-1.5", *BASE, "--api-key", PLANTED, "--dry-run")
    assert ran.code == 0, ran.err
    assert PLANTED not in ran.text
    assert "prompt: [REDACTED]" in ran.out
