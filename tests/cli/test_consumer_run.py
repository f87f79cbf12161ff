"""Running the commands against a mock provider: saving, printing, --json, --dry-run, streams, edits, variations,
and the exit codes of provider errors (3) and contract violations (4)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from PIL import Image
from support.cli import LOCAL, Wire, b64, files_under, jpeg, mock_provider, png, run

from imagewire.cli import images as consumer


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Wire:
    return mock_provider(monkeypatch, tmp_path)


def _answer(wire: Wire, response: httpx.Response | Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(response, Exception):
            raise response
        return response

    wire.handler = handler


def test_generate_saves_the_images_and_prints_paths_prompts_and_cost(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "generate", "Yellow alpaca", *LOCAL, "--model", "dall-e-3", "--allow-retired", "--format", "url")
    assert ran.code == 0, ran.err
    saved = files_under(tmp_path / consumer.DEFAULT_OUT)
    assert len(saved) == 1 and saved[0].suffix == ".png"
    assert Image.open(saved[0]).size == (16, 16)
    assert str(Path(consumer.DEFAULT_OUT) / saved[0].name) in ran.out
    assert "revised prompt: a revised prompt" in ran.out
    assert "cost: $0.000" in ran.out
    gets = [r for r in wire.requests if r.method == "GET"]
    assert len(gets) == 1 and "authorization" not in gets[0].headers  # the key never travels to the image host


def test_several_images_in_json(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "many"
    ran = run(capsys, "generate", "x", *LOCAL, "--model", "gpt-image-1.5", "-n", "3", "--out", str(out), "--json")
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert doc["ok"] is True
    assert doc["model"] == "gpt-image-1.5"
    assert doc["operation"] == "generations"
    assert len(doc["images"]) == 3
    for image in doc["images"]:
        assert Path(image["path"]).parent == out
        assert Image.open(image["path"]).format == "PNG"
        assert image["format"] == "png" and image["width"] >= 32
    assert doc["cost"]["usd"] == 0.0 and doc["cost"]["n"] == 3
    assert doc["warnings"] == []
    assert {"paths", "revised_prompt"} & set(doc["images"][0]) == {"revised_prompt"}
    assert sorted(files_under(out)) == sorted(Path(i["path"]) for i in doc["images"])


def test_an_unknown_price_says_so(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(
        capsys, "generate", "x", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k" * 12, "-m", "gpt-image-1.5"
    )
    assert ran.code == 0, ran.err
    assert "cost: price unknown" in ran.out


def test_the_estimate_before_the_call_and_the_actual_cost_after(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    usage = {"input_tokens": 10, "input_tokens_details": {"text_tokens": 10}, "output_tokens": 272, "total_tokens": 282}
    answer = {
        "created": 1,
        "data": [{"b64_json": b64(png(16, 16))}],
        "size": "1024x1024",
        "quality": "low",
        "usage": usage,
    }
    _answer(wire, httpx.Response(200, json=answer))
    argv = ["x", "--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k" * 12]
    ran = run(capsys, "generate", *argv, "-m", "gpt-image-1.5", "--size", "1024x1024", "--quality", "low")
    assert ran.code == 0, ran.err
    assert "estimate: $0.009 (1 x $0.009, openai gpt-image-1.5 1024x1024 low)" in ran.err  # before the call
    actual = (10 * 5.0 + 272 * 32.0) / 1_000_000  # from usage, at gpt-image-1.5's token prices
    assert f"cost: ${actual:.4f} (actual)" in ran.out


def test_a_known_price_is_shown(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["x", "--provider", "aipomogator", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k" * 12]
    ran = run(capsys, "generate", *argv, "--model", "dall-e-3", "--size", "1792x1024", "--json")
    assert ran.code == 0, ran.err
    assert ran.json()["cost"]["usd"] == pytest.approx(0.08)


def test_a_stream_saves_partial_and_final_images(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "generate", "x", *LOCAL, "--model", "gpt-image-1.5", "--partial-images", "2", "--json")
    assert ran.code == 0, ran.err
    sent = json.loads(wire.api_calls[0].content)
    assert sent["stream"] is True and sent["partial_images"] == 2
    assert wire.api_calls[0].headers["accept"] == "text/event-stream"
    doc = ran.json()
    assert doc["stream"]["events"] == 3
    assert len(doc["stream"]["partials"]) == 2
    assert all(Image.open(p).size == (8 + i, 8) for i, p in enumerate(doc["stream"]["partials"]))
    assert len(doc["images"]) == 1 and Image.open(doc["images"][0]["path"]).size == (24, 24)
    assert doc["size"] == "1024x1024"


def test_edit_sends_two_images_and_a_mask(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.png").write_bytes(png(64, 64))
    (tmp_path / "b.jpg").write_bytes(jpeg(64, 64))
    (tmp_path / "mask.png").write_bytes(png(64, 64, (0, 0, 0, 0)))
    ran = run(capsys, "edit", "a basket", "a.png", "b.jpg", "--mask", "mask.png", *LOCAL, "-m", "gpt-image-1.5")
    assert ran.code == 0, ran.err
    request = wire.api_calls[0]
    assert request.url.path.endswith("/images/edits")
    body = request.content
    assert body.count(b'name="image[]"') == 2
    assert b'name="mask"; filename="mask.png"' in body
    assert b"Content-Type: image/jpeg" in body
    assert len(files_under(tmp_path / consumer.DEFAULT_OUT)) == 1


def test_vary_sends_one_image(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cat.png").write_bytes(png(64, 64))
    ran = run(capsys, "vary", "cat.png", *LOCAL, "-m", "dall-e-2", "--allow-retired", "-n", "2", "--size", "256x256")
    assert ran.code == 0, ran.err
    assert wire.api_calls[0].url.path.endswith("/images/variations")
    assert b'name="image"; filename="cat.png"' in wire.api_calls[0].content
    assert "saved 2 images" in ran.out


# ---------------------------------------------------------------- dry run


def test_dry_run_sends_nothing_and_shows_the_body(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "generate", "Yellow alpaca", *LOCAL, "-m", "gpt-image-1.5", "--size", "1024x1536", "--dry-run")
    assert ran.code == 0, ran.err
    assert wire.requests == []
    assert files_under(tmp_path) == []
    assert "POST http://127.0.0.1:9/v1/images/generations" in ran.out
    assert '"prompt": "Yellow alpaca"' in ran.out
    assert '"size": "1024x1536"' in ran.out
    assert "cost: $0.000" in ran.out


def test_dry_run_opens_no_socket(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the mock: a real transport would try to connect; the dry run must not get that far."""
    mock_provider(monkeypatch, tmp_path)
    monkeypatch.setattr(consumer, "TRANSPORT", None)

    def no_connect(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr("socket.socket.connect", no_connect)
    monkeypatch.setattr("socket.create_connection", no_connect)
    ran = run(
        capsys, "generate", "x", "--provider", "openai", "--api-key", "k" * 12, "-m", "gpt-image-1.5", "--dry-run"
    )
    assert ran.code == 0, ran.err
    assert "POST https://api.openai.com/v1/images/generations" in ran.out


def test_dry_run_of_an_edit_summarises_the_multipart_parts(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.png").write_bytes(png(64, 64))
    (tmp_path / "b.png").write_bytes(png(64, 64, (1, 2, 3, 255)))
    argv = ["x", "a.png", "b.png", *LOCAL, "-m", "gpt-image-1.5", "--dry-run", "--json"]
    ran = run(capsys, "edit", *argv)
    assert ran.code == 0, ran.err
    assert wire.requests == []
    doc = ran.json()
    assert doc["dry_run"] is True and doc["sent"] is False
    parts = doc["request"]["body"]["multipart"]
    assert {"name": "prompt", "value": "x"} in parts
    files = [p for p in parts if "filename" in p]
    assert [(p["name"], p["filename"], p["content_type"]) for p in files] == [
        ("image[]", "a.png", "image/png"),
        ("image[]", "b.png", "image/png"),
    ]
    assert all(p["bytes"] == (tmp_path / p["filename"]).stat().st_size for p in files)
    assert doc["request"]["headers"]["content-type"].startswith("multipart/form-data; boundary=")


def test_dry_run_still_checks_the_rules(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--quality", "hd", "--dry-run")
    assert ran.code == 2
    assert "rule: values" in ran.err


def test_dry_run_without_a_key_says_the_call_would_stop(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "generate", "x", "--provider", "openai", "-m", "gpt-image-1.5", "--dry-run")
    assert ran.code == 0, ran.err
    assert "no API key is set (OPENAI_API_KEY or --api-key)" in ran.err
    assert "authorization" not in ran.out


# ---------------------------------------------------------------- exit codes 3 and 4


@pytest.mark.parametrize(
    ("response", "needle"),
    [
        (
            httpx.Response(400, json={"error": {"message": "blocked", "type": "x", "code": "moderation_blocked"}}),
            "ContentPolicyError",
        ),
        (httpx.Response(401, json={"error": {"message": "bad key", "code": "invalid_api_key"}}), "AuthenticationError"),
        (httpx.Response(429, json={"error": {"message": "no money", "code": "insufficient_quota"}}), "QuotaExceeded"),
        (httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0"}), "RateLimitError"),
        (httpx.Response(503, text="overloaded"), "InternalServerError"),
        (httpx.ConnectError("refused"), "APIConnectionError"),
    ],
)
def test_provider_errors_exit_3(
    response: httpx.Response | Exception, needle: str, wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _answer(wire, response)
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--max-retries", "0")
    assert ran.code == 3, ran.err
    assert needle in ran.err
    assert files_under(tmp_path) == []


def test_provider_errors_exit_3_in_json(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    _answer(wire, httpx.Response(400, json={"error": {"message": "size bad", "code": "invalid_size"}}))
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--json")
    assert ran.code == 3
    doc = ran.json()
    assert doc["error"]["kind"] == "provider" and doc["error"]["status"] == 400 and doc["error"]["sent"] is True


def test_a_failed_image_download_exits_3_and_keeps_nothing(
    wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(404 if request.url.path.endswith("1.png") else 200, content=png(8, 8))
        return httpx.Response(200, json={"created": 1, "data": [{"url": f"https://f.test/{i}.png"} for i in range(2)]})

    wire.handler = handler
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "dall-e-2", "--allow-retired", "-n", "2", "--format", "url")
    assert ran.code == 3, ran.err
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    ("response", "needle"),
    [
        (httpx.Response(200, html="<html>gateway</html>"), "HTML page"),
        (httpx.Response(200, json={"object": "chat.completion", "choices": []}), "chat.completion"),
        (httpx.Response(200, json={"created": 1, "data": [{"b64_json": "%%%not base64"}]}), "not valid base64"),
        (httpx.Response(200, json={"created": 1, "data": [{}]}), "neither url nor b64_json"),
    ],
)
def test_contract_violations_exit_4(
    response: httpx.Response, needle: str, wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _answer(wire, response)
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5")
    assert ran.code == 4, ran.err
    assert needle in ran.err
    assert files_under(tmp_path) == []


def test_a_stream_without_a_final_image_exits_4(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = {"type": "image_generation.partial_image", "b64_json": b64(png(4, 4)), "partial_image_index": 0}
    body = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
    _answer(wire, httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body))
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--stream", "--json")
    assert ran.code == 4, ran.err
    assert ran.json()["error"]["kind"] == "contract"
    assert files_under(tmp_path) == []


def test_an_unexpected_failure_exits_1_without_a_traceback(
    wire: Wire, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr(consumer, "_report", boom)
    ran = run(capsys, "generate", "x", *LOCAL, "-m", "gpt-image-1.5")
    assert ran.code == 1
    assert "internal error: RuntimeError: something broke" in ran.err
    assert "Traceback" not in ran.err


# ---------------------------------------------------------------- entry points


def test_the_imagewire_dispatcher_reaches_the_commands(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    from imagewire import cli

    assert cli.main(["generate", "x", *LOCAL, "-m", "gpt-image-1.5", "--json"]) == 0
    assert capsys.readouterr().out.startswith("{")
    assert cli.main(["vary", "--help"]) == 0
    assert "Usage: imagewire vary" in capsys.readouterr().out
    assert cli.run("edit", ["--help"]) == 0
    assert "Usage: imagewire edit [OPTIONS] [PROMPT] [IMAGE...]" in capsys.readouterr().out
    assert cli.main(["frobnicate"]) == 2
    assert "No such command 'frobnicate'" in capsys.readouterr().err


def test_edit_takes_the_older_prompt_option_too(wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``edit IMAGE... --prompt TEXT`` (earlier versions' order) still works: then every argument is an image."""
    (tmp_path / "a.png").write_bytes(png(64, 64))
    (tmp_path / "b.png").write_bytes(png(64, 64, (1, 2, 3, 255)))
    ran = run(capsys, "edit", "a.png", "b.png", "--prompt", "x", *LOCAL, "-m", "gpt-image-1.5", "--dry-run", "--json")
    assert ran.code == 0, ran.err
    parts = ran.json()["request"]["body"]["multipart"]
    assert {"name": "prompt", "value": "x"} in parts
    assert [p["filename"] for p in parts if "filename" in p] == ["a.png", "b.png"]


def test_the_installed_command_exits_with_the_codes(tmp_path: Path) -> None:
    """A real process: `imagewire generate ... --dry-run` (0) and a rule error (2); nothing listens at port 9."""
    import subprocess
    import sys

    command = [str(Path(sys.executable).parent / "imagewire"), "generate", "x", *LOCAL, "-m", "gpt-image-1.5"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    ok = subprocess.run([*command, "--dry-run"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "dry run" in ok.stdout
    bad = subprocess.run(
        [*command, "--quality", "hd"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert bad.returncode == 2
    assert "rule: values" in bad.stderr
    refused = subprocess.run(
        [*command, "--max-retries", "0"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert refused.returncode == 3  # connection refused
    assert "APIConnectionError" in refused.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_api_redirect_to_another_host_is_not_followed(wire: Wire, capsys: pytest.CaptureFixture[str]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1":
            return httpx.Response(307, headers={"Location": "http://elsewhere.test/v1/images/generations"})
        return httpx.Response(200, json={"created": 1, "data": [{"b64_json": b64(png())}]})

    wire.handler = handler
    ran = run(capsys, "generate", "p", *LOCAL, "--api-key", "sk-planted-0123456789", "--model", "gpt-image-1.5")
    assert ran.code != 0 and "307" in ran.err, ran.err
    assert [r.url.host for r in wire.requests] == ["127.0.0.1"]  # nothing, no key, reached the other host
