"""Reports a user can act on: the deciding finding first and the rest folded by kind, interactions numbered
from 1 in every format, ``--all``, ``--show-body`` (scrubbed, truncated), the exit codes, and a verdict with
its reason for every images answer (``skipped`` only for other traffic, always with why)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from imagewire import exits
from imagewire.check import command as check
from imagewire.check.report import fold, render_html, render_markdown, render_text
from imagewire.check.verdict import Judge, Verdict
from imagewire.record.recordings import Interaction

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"
RELAY = "https://relay.example.com/v1/images/generations"
CHAT = {  # a proxy answering with a chat.completion
    "id": "chatcmpl-1",
    "created": 1,
    "object": "chat.completion",
    "model": "gpt-image-1.5",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "here"}}],
}


@pytest.fixture(scope="module")
def judge() -> Judge:
    return Judge()


def item(
    body: bytes | dict[str, Any],
    *,
    status: int = 200,
    content_type: str | None = "application/json",
    url: str = RELAY,
    method: str = "POST",
    headers: tuple[tuple[str, str], ...] = (),
    request: dict[str, Any] | None = None,
    index: int = 0,
) -> Interaction:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    sent = json.dumps(request or {"model": "dall-e-3", "prompt": "A yellow alpaca"}).encode()
    answer_headers = ((("Content-Type", content_type),) if content_type else ()) + headers
    return Interaction(
        "relay.yaml", index, method, url, (("Content-Type", "application/json"),), sent, status, "", answer_headers, raw
    )


def cassette(path: Path, *items: Interaction) -> Path:
    from imagewire.record.recordings import write_cassette

    write_cassette(path, items)
    return path


# ---------------------------------------------------------------- findings ordered by consequence


def test_the_deciding_finding_comes_first_and_the_rest_fold_by_kind(judge: Judge) -> None:
    verdict = judge.judge(item(CHAT))
    assert verdict.verdict == "violation"
    assert verdict.deciding is verdict.findings[0]
    assert (verdict.deciding.kind, verdict.deciding.pointer) == ("contract", "/data")
    assert fold(verdict)[0] is verdict.deciding
    lines = render_text(_report(verdict)).splitlines()
    at = next(n for n, line in enumerate(lines) if line.strip().startswith("relay.yaml#1"))
    assert lines[at + 1].strip().startswith("▸ contract /data: the client rejects the answer")
    assert lines[at + 2].strip() == "and 4 undeclared keys: /id, /object, /model, /choices"


def test_a_quirk_verdict_is_decided_by_a_declared_quirk_and_undeclared_findings_lead_a_deviation(
    judge: Judge,
) -> None:
    filtered = {"created": 1, "data": [{"url": "https://x/y.png", "content_filter_results": {}}]}
    quirk = judge.judge(item(filtered), "azure")
    assert quirk.verdict == "quirk" and quirk.deciding is not None and quirk.deciding.quirk == "content-filter-results"
    both = judge.judge(item({**filtered, "extra": 1}), "azure")
    assert both.verdict == "deviation"
    assert both.deciding is not None and (both.deciding.pointer, both.deciding.quirk) == ("/extra", None)
    assert [f.quirk is not None for f in both.response_findings] == [False, True]


def test_conforming_answers_have_no_deciding_finding(judge: Judge) -> None:
    verdict = judge.judge(item({"created": 1, "data": [{"url": "https://x/y.png"}]}))
    assert verdict.verdict == "conforms" and verdict.deciding is None


# ---------------------------------------------------------------- every images answer gets a verdict


def test_an_asynchronous_answer_is_a_violation_with_its_reason(judge: Judge) -> None:
    poll = "https://res.openai.azure.com/openai/operations/images/abc?api-version=2023-06-01-preview"
    submit = item(
        {"id": "abc", "status": "notRunning"},
        status=202,
        url="https://res.openai.azure.com/openai/images/generations:submit?api-version=2023-06-01-preview",
        headers=(("operation-location", poll),),
    )
    verdict = judge.judge(submit, "azure")
    assert (verdict.verdict, verdict.operation) == ("violation", "generations")
    assert verdict.deciding is not None and verdict.deciding.kind == "async"
    assert "202" in verdict.deciding.message and poll in verdict.deciding.message
    polled = judge.judge(item({"status": "succeeded"}, method="GET", url=poll), "azure")
    assert polled.verdict == "skipped" and "polls an asynchronous image operation" in polled.reason


@pytest.mark.parametrize(
    ("body", "status", "content_type", "kind", "says"),
    [
        (b"", 200, "application/json", "empty-body", "an empty body (200)"),
        (b"", 204, None, "empty-body", "an empty body (204)"),
        (b"\x89PNG\r\n\x1a\n....", 200, "image/png", "content-type", "content type 'image/png'"),
        (b"<r/>", 200, "application/xml", "content-type", "content type 'application/xml'"),
    ],
)
def test_answers_the_client_cannot_turn_into_images_are_violations_with_reasons(
    judge: Judge, body: bytes, status: int, content_type: str | None, kind: str, says: str
) -> None:
    verdict = judge.judge(item(body, status=status, content_type=content_type))
    assert verdict.verdict == "violation"
    assert verdict.deciding is not None and verdict.deciding.kind == kind and says in verdict.deciding.message
    assert "the client cannot turn it into images" in verdict.deciding.message


@pytest.mark.parametrize(
    ("method", "url", "content_type", "why"),
    [
        ("GET", "https://cdn.example.com/img-1.png", "image/png", "an image download (GET /img-1.png)"),
        ("OPTIONS", RELAY, None, "a CORS preflight (OPTIONS /v1/images/generations)"),
        (
            "GET",
            "https://relay.example.com/v1/models",
            "application/json",
            "no operation of the spec at GET /v1/models",
        ),
        ("GET", RELAY, "application/json", "GET /v1/images/generations: the spec has generations at POST only"),
    ],
)
def test_skipped_is_for_other_traffic_and_says_why(
    judge: Judge, method: str, url: str, content_type: str | None, why: str
) -> None:
    verdict = judge.judge(item(b"x", method=method, url=url, content_type=content_type))
    assert verdict.verdict == "skipped" and why in verdict.reason
    assert verdict.as_dict()["reason"] == verdict.reason


# ---------------------------------------------------------------- numbering from 1, in every format


def _report(*verdicts: Verdict) -> check.CheckReport:
    return check.CheckReport(verdicts=list(verdicts))


def test_interactions_are_numbered_from_1_in_every_format(judge: Judge) -> None:
    first = judge.judge(item({"created": 1, "data": [{"url": "https://x/y.png"}]}, index=0))
    second = judge.judge(item(CHAT, index=1))
    report = _report(first, second)
    assert (first.where, second.where) == ("relay.yaml#1", "relay.yaml#2")
    assert "relay.yaml#2  violation" in render_text(report) and "relay.yaml#0" not in render_text(report)
    data = json.loads(check.render_json(report))
    assert [(e["interaction"], e["number"]) for e in data["interactions"]] == [("relay.yaml#1", 1), ("relay.yaml#2", 2)]
    assert "index" not in data["interactions"][0]
    assert "`relay.yaml#2`" in render_markdown(report) and "relay.yaml#2" in render_html(report)


def test_expectation_files_number_interactions_from_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = cassette(tmp_path / "relay.yaml", item(CHAT))
    (tmp_path / "relay.expect.yaml").write_text("interactions:\n- {interaction: 1, verdict: conforms}\n")
    assert check.main(["--replay", str(path), "-q"]) == exits.FAILED
    assert f"mismatch: {path}#1: verdict violation, expected conforms" in capsys.readouterr().out
    (tmp_path / "relay.expect.yaml").write_text("interactions:\n- {index: 0, verdict: violation}\n")
    assert check.main(["--replay", str(path), "-q"]) == exits.USAGE
    assert "'index' (counted from 0) is now 'interaction', counted from 1" in capsys.readouterr().out


# ---------------------------------------------------------------- --all and --show-body


def test_all_lists_the_conforming_interactions_too(capsys: pytest.CaptureFixture[str]) -> None:
    bothub = str(RECORDINGS / "bothub-dalle3.yaml")
    assert check.main(["--replay", bothub]) == 0
    out = capsys.readouterr().out
    assert "bothub-dalle3.yaml#1" not in out
    assert check.main(["--replay", bothub, "--all"]) == 0
    out = capsys.readouterr().out
    assert "bothub-dalle3.yaml#1  conforms  generations dall-e-3  200 -> 1 image(s)" in out


def test_show_body_shows_requests_and_answers_scrubbed_and_truncated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = "sk-" + "proj-" + "Z" * 40  # a key-shaped secret, made up here
    long_prompt = "A yellow alpaca " * 200
    leaky = Interaction(
        "leaky.yaml",
        0,
        "POST",
        RELAY + "?sig=" + "s" * 20,
        (("Content-Type", "application/json"), ("Authorization", f"Bearer {key}")),
        json.dumps({"model": "dall-e-3", "prompt": long_prompt, "api_key": key}).encode(),
        200,
        "OK",
        (("Content-Type", "application/json"),),
        json.dumps({**CHAT, "echo": key}).encode(),
    )
    path = cassette(tmp_path / "leaky.yaml", leaky)
    html_path = tmp_path / "r.html"
    code = check.main(
        ["--replay", str(path), "--show-body", "--html-out", str(html_path), "--json-out", str(tmp_path / "r.json")]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert key not in out and key not in html_path.read_text() and key not in (tmp_path / "r.json").read_text()
    assert "request  POST https://relay.example.com/v1/images/generations?sig=REDACTED" in out
    assert "answer   200 OK (application/json" in out and '"chat.completion"' in out
    assert re.search(r"… \(\d+ more characters\)", out) and long_prompt not in out
    assert "request and answer (scrubbed, truncated)" in html_path.read_text()
    capsys.readouterr()
    check.main(["--replay", str(path)])
    assert "request  POST" not in capsys.readouterr().out  # only when asked


# ---------------------------------------------------------------- exit codes


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = shutil.copy(RECORDINGS / "bothub-dalle3.yaml", tmp_path / "good.yaml")
    assert check.main(["--replay", str(good), "-q"]) == exits.OK == 0
    quirky = str(RECORDINGS / "azure-dalle3.yaml")
    assert check.main(["--replay", quirky, "--no-expectations", "-q"]) == 0  # quirks allowed
    bad = cassette(tmp_path / "bad.yaml", item(CHAT))
    assert check.main(["--replay", str(bad), "-q"]) == exits.FAILED == 1
    allowed = ["--replay", str(bad), "-q", "--allow-violations", "--json-out", str(tmp_path / "r.json")]
    assert check.main(allowed) == 0 and json.loads((tmp_path / "r.json").read_text())["exit_code"] == 0
    (tmp_path / "notes.yaml").write_text(yaml.safe_dump({"hello": "world"}))
    assert check.main(["--replay", str(tmp_path / "notes.yaml"), "-q"]) == exits.USAGE == 2
    assert "neither a VCR cassette" in capsys.readouterr().out
    assert check.main(["--replay", str(tmp_path / "missing.har"), "-q"]) == 2
    assert check.main(["--replay", str(bad), "--replay", str(tmp_path / "notes.yaml"), "-q"]) == 2  # the highest
    assert exits.PROVIDER == 3  # a live provider that cannot be reached (tests/check/test_live.py)
