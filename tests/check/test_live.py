"""``imagewire check --live``: the probe plan from the catalogs, the budget, the run through a recording
transport, and the check against the reference provider in every persona (plus one with a fault injected,
which must fail)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from imagewire.check import command as check
from imagewire.check import live
from imagewire.check.live import BAD_KEY, BAD_SIZE, build_plan, decide, families
from imagewire.record.recordings import load
from imagewire.server import Running, start
from imagewire_client.catalog import MODELS, PROVIDERS

KEY = "sk-imagewire-live-0123456789abcdef"
#: every provider of the catalog is a persona of the reference provider
PERSONAS = tuple(PROVIDERS)
#: what the Azure persona needs besides its URL (the deployment is taken from each probe's model)
AZURE_SETTINGS = ("--setting", "resource=imagewire", "--setting", "api_version=2025-04-01-preview")
LIMIT_SECONDS = 30.0


def names(plan: live.Plan) -> list[str]:
    return [p.name for p in plan.probes]


# ---------------------------------------------------------------- the plan


def test_one_model_per_family_where_a_provider_takes_any_model() -> None:
    groups = families(MODELS)
    representatives = [g[0] for g in groups]
    assert representatives == [
        "dall-e-2",
        "dall-e-3",
        "gpt-image-1.5",
        "gpt-image-2",
        "gpt-image-2.5-sunburst",
        "gpt-image-2.6-sunburst",
        "yandexgpt/yandex-art",
    ]
    assert sorted(m for g in groups for m in g) == sorted(MODELS)  # every model is in exactly one family
    assert "gpt-image-2-2026-04-21" in groups[3]  # a snapshot joins its model

    plan = build_plan("local")
    assert any("one model per family" in note and "7 families of 15 models" in note for note in plan.notes)
    paid = [p for p in plan.probes if p.kind == "paid"]
    assert {(p.operation, p.model) for p in paid if not p.stream} == {
        *(("generations", m) for m in representatives),
        *(("edits", m) for m in ("dall-e-2", "gpt-image-1.5", "gpt-image-2", "gpt-image-2.5-sunburst")),
        ("edits", "gpt-image-2.6-sunburst"),
        ("variations", "dall-e-2"),
    }
    streamed = {(p.operation, p.model) for p in paid if p.stream}
    assert ("generations", "gpt-image-1.5") in streamed and ("generations", "dall-e-3") not in streamed
    assert all(p.fields.get("partial_images") == 1 for p in paid if p.stream)
    assert [p.kind for p in plan.probes[-2:]] == ["free", "free"]  # the free probes close the plan


def test_a_provider_with_a_model_table_gets_every_model_and_operation() -> None:
    plan = build_plan("openai")
    table = PROVIDERS["openai"].model_table
    assert table is not None
    paid = [p for p in plan.probes if p.kind == "paid" and not p.stream]
    assert {(p.operation, p.model) for p in paid} == {(op, m) for m in table for op in ("generations", "edits")}
    assert not plan.notes


def test_representative_parameters() -> None:
    plan = build_plan("aipomogator")
    by_model = {p.model: p for p in plan.probes if p.kind == "paid"}
    # the cheapest listed size by the price table, one image, b64 where the model takes response_format
    assert by_model["dall-e-2"].fields == {"n": 1, "size": "256x256", "response_format": "b64_json"}
    assert by_model["dall-e-2"].estimate is not None and by_model["dall-e-2"].estimate.usd == pytest.approx(0.016)
    assert by_model["dall-e-3"].fields["size"] == "1024x1024"
    gpt = {
        p.model: p
        for p in build_plan("openai").probes
        if p.kind == "paid" and p.operation == "generations" and not p.stream
    }
    # unknown prices: the smallest listed size; only 'auto' listed with a size rule: 1024x1024; quality low
    assert gpt["gpt-image-1.5"].fields == {"n": 1, "size": "1024x1024", "quality": "low"}
    assert gpt["gpt-image-2"].fields == {"n": 1, "size": "1024x1024", "quality": "low"}


def test_the_free_probes() -> None:
    plan = build_plan("bothub")
    bad_size, bad_key = plan.probes[-2:]
    assert (bad_size.expect, bad_size.fields["size"], bad_size.model) == (400, BAD_SIZE, "dall-e-3")
    assert bad_key.expect == 401 and bad_key.fields == plan.probes[0].fields
    # a provider whose key is optional, with no key in use: a bad key proves nothing
    local = build_plan("local", key_in_use=False)
    assert local.probes[-1].expect == 400 and any("bad-key probe skipped" in n for n in local.notes)


def test_azure_takes_the_model_from_the_deployment() -> None:
    plan = build_plan("azure")
    assert all(p.deployment == p.model.replace("/", "-") for p in plan.probes if p.model)
    one = build_plan("azure", deployment="gpt-image-2")
    assert {p.model for p in one.probes} == {"gpt-image-2"} and {p.deployment for p in one.probes} == {"gpt-image-2"}
    unknown = build_plan("azure", deployment="team-images")
    assert any("cannot name" in n for n in unknown.notes) and unknown.probes[0].model == "gpt-image-1.5"


def test_narrowing_by_model_and_operation() -> None:
    plan = build_plan("local", models=["dall-e-2", "nope"], operations=["variations", "edits"])
    assert {(p.operation, p.model) for p in plan.probes} == {("variations", "dall-e-2"), ("edits", "dall-e-2")}
    assert any("nope" in n for n in plan.notes)
    assert any("no generations probe" in n for n in plan.notes)  # the free probes need one


def test_the_budget_decides_what_is_sent() -> None:
    plan = build_plan("aipomogator")  # dall-e-3 $0.04, dall-e-2 $0.016, yandex-art $0.04, then two free probes
    sent = lambda decisions: [d.probe.model for d in decisions if d.send and d.probe.kind == "paid"]  # noqa: E731
    default = decide(plan)
    assert sent(default) == [] and sum(d.send for d in default) == 2  # free probes only
    assert all("over budget" in d.reason for d in default if not d.send)
    assert sent(decide(plan, budget=0.05, budget_given=True)) == ["dall-e-3"]
    assert sent(decide(plan, budget=0.06, budget_given=True)) == ["dall-e-3", "dall-e-2"]
    assert sent(decide(plan, budget=1, budget_given=True)) == ["dall-e-3", "dall-e-2", "yandexgpt/yandex-art"]

    unknown = build_plan("bothub")
    assert [d.send for d in decide(unknown, budget=5, budget_given=True)] == [False, True, True]
    assert decide(unknown, budget=5, budget_given=True)[0].reason == "price unknown"
    assert [d.send for d in decide(unknown, budget=0, budget_given=True, allow_unknown=True)] == [True] * 3
    assert [d.send for d in decide(unknown, allow_unknown=True)] == [False, True, True]  # needs --budget too
    free = build_plan("local")
    assert all(d.send for d in decide(free))  # $0 fits a budget of 0


# ---------------------------------------------------------------- the command against mock providers


def _mock(answer: Any) -> httpx.MockTransport:
    return httpx.MockTransport(answer)


def _honest(request: httpx.Request) -> httpx.Response:
    """A provider that keeps the contract for the two free probes."""
    body = json.loads(request.content)
    if request.headers.get("authorization") != f"Bearer {KEY}":
        return httpx.Response(401, json={"error": {"message": "bad key", "type": "invalid_request_error"}})
    if body.get("size") == BAD_SIZE:
        return httpx.Response(400, json={"error": {"message": "Invalid size", "param": "size", "code": None}})
    raise AssertionError(f"a paid probe was sent: {body}")


def test_by_default_only_free_probes_go_and_the_plan_is_printed_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    printed: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        printed.append(capsys.readouterr().out)
        return _honest(request)

    monkeypatch.setattr(check, "LIVE_TRANSPORT", _mock(answer))
    monkeypatch.setenv("BOTHUB_API_KEY", KEY)
    code = check.main(
        ["--live", "--provider", "bothub", "--record", str(tmp_path), "--json-out", str(tmp_path / "r.json")]
    )
    out = "".join(printed) + capsys.readouterr().out
    assert code == 0, out
    assert "Live check of bothub" in printed[0] and "skip (price unknown)" in printed[0]  # before the first request
    assert "--allow-unknown-prices" in printed[0]
    assert len(printed) == 2 and KEY not in out
    report = json.loads((tmp_path / "r.json").read_text())
    probes = report["live"]["probes"]
    assert [p["sent"] for p in probes] == [False, True, True] and probes[0]["skipped"] == "price unknown"
    assert report["summary"]["interactions"] == 2 and report["expectation_mismatches"] == []
    cassette = tmp_path / "live-bothub.yaml"
    assert report["live"]["cassette"] == str(cassette)
    assert KEY not in cassette.read_text() and len(load(cassette).interactions) == 2


def test_a_provider_that_accepts_a_bad_size_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def lenient(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return httpx.Response(401, text="unauthorised")  # no envelope either
        return httpx.Response(200, json={"created": 1, "data": [{"url": "https://cdn.example.com/a.png"}]})

    monkeypatch.setattr(check, "LIVE_TRANSPORT", _mock(lenient))
    code = check.main(["--live", "--provider", "bothub", "--api-key", KEY, "--record", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "expected 400, got 200" in out and "401 without the error envelope" in out


def test_an_unreachable_provider_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    monkeypatch.setattr(check, "LIVE_TRANSPORT", _mock(refuse))
    code = check.main(["--live", "--provider", "bothub", "--api-key", KEY, "--record", str(tmp_path), "-q"])
    out = capsys.readouterr().out
    assert code == 3 and out.count("unreachable: probe #") == 2 and "mismatch" not in out
    assert not (tmp_path / "live-bothub.yaml").exists()  # nothing answered, nothing recorded


def test_probes_map_to_their_interactions_when_one_got_no_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def flaky(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("size") == BAD_SIZE:
            raise httpx.ReadTimeout("timed out")
        return _honest(request)

    monkeypatch.setattr(check, "LIVE_TRANSPORT", _mock(flaky))
    argv = ["--live", "--provider", "bothub", "--api-key", KEY, "--record", str(tmp_path)]
    code = check.main([*argv, "--json-out", str(tmp_path / "r.json"), "-q"])
    capsys.readouterr()
    assert code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    [mismatch] = report["expectation_mismatches"]
    assert "probe #2" in mismatch["message"] and "no answer" in mismatch["message"]
    bad_key = report["live"]["probes"][2]
    assert bad_key["interactions"] == [1] and report["interactions"][0]["status"] == 401  # counted from 1


def test_usage_problems_send_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(check, "LIVE_TRANSPORT", _mock(lambda r: pytest.fail("sent")))
    monkeypatch.delenv("AZURE_OPENAI_RESOURCE", raising=False)
    monkeypatch.delenv("OPENAI_API_VERSION", raising=False)
    cases = [
        (["--live"], "needs --provider"),
        (["--live", "--provider", "nobody"], "unknown provider"),
        (["--live", "--provider", "generic"], "no fixed address"),
        (["--live", "--provider", "bothub", "--allow-unknown-prices"], "needs --budget"),
        (["--live", "--provider", "bothub", "--setting", "x"], "NAME=VALUE"),
        (["--live", "--provider", "azure", "--api-key", KEY, "--record", str(tmp_path)], "needs --resource"),
    ]
    for argv, message in cases:
        assert check.main(argv) == 2, argv
        assert message in capsys.readouterr().err
    assert check.main(["--live", "--replay", "x"]) == 2
    assert "--replay and --live do not go together" in capsys.readouterr().err
    assert check.main([]) == 2


# ---------------------------------------------------------------- against the reference provider


@pytest.fixture
def servers() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for server in started:
        server.stop()  # by PID (SIGTERM, then SIGKILL)
        assert not server.running()


def live_argv(persona: str, server: Running, record: Path) -> list[str]:
    argv = ["--live", "--provider", persona, "--base-url", server.base_url, "--api-key", KEY]
    argv += ["--prices-from", "local", "--budget", "0.01", "--record", str(record)]
    return argv + (list(AZURE_SETTINGS) if persona == "azure" else [])


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_reference_provider_keeps_the_contract(
    persona: str, tmp_path: Path, servers: list[Running], capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    server = start(persona, api_key=KEY)
    servers.append(server)
    argv = [*live_argv(persona, server, tmp_path / "rec"), "--json-out", str(tmp_path / "r.json")]
    argv += ["--markdown-out", str(tmp_path / "r.md"), "--html-out", str(tmp_path / "r.html")]
    code = check.main(argv)
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert KEY not in out + err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["violation"] == 0 and report["expectation_mismatches"] == []
    assert f"| {persona} | generations |" in (tmp_path / "r.md").read_text()
    assert "<h1>imagewire check</h1>" in (tmp_path / "r.html").read_text()
    assert re.search(rf"^{persona}\s+generations\s", out, re.M)  # the matrix on the terminal
    probes = report["live"]["probes"]
    assert all(p["sent"] for p in probes) and {p["expect"] for p in probes} == {200, 400, 401}
    assert report["summary"]["interactions"] == len(probes)
    operations = {(m["operation"], m["model"]) for m in report["matrix"]}
    offered = set(PROVIDERS[persona].operations)
    if persona == "generic":  # variations: only dall-e-2, retired at its vendor, which generic does not serve
        offered.discard("variations")
        assert any("offers variations, but no model" in n for n in report["live"]["notes"])
    assert {op for op, _ in operations} == offered  # every operation the provider offers was probed
    cassette = Path(report["live"]["cassette"])
    assert KEY not in cassette.read_text()
    assert BAD_KEY not in cassette.read_text()  # the bad key is scrubbed too
    # the recording judges the same when replayed
    assert (
        check.main(["--replay", str(cassette), "--provider", persona, "--json-out", str(tmp_path / "again.json")]) == 0
    )
    capsys.readouterr()
    again = json.loads((tmp_path / "again.json").read_text())
    assert [e["verdict"] for e in again["interactions"]] == [e["verdict"] for e in report["interactions"]]
    assert time.monotonic() - began < LIMIT_SECONDS


def test_a_fault_makes_the_check_fail(
    tmp_path: Path, servers: list[Running], capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    server = start("aipomogator", api_key=KEY, faults=("wrong-shape",))
    servers.append(server)
    code = check.main([*live_argv("aipomogator", server, tmp_path / "rec"), "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    report = json.loads(out)  # --json: stdout holds the report alone; the plan and the progress go to stderr
    assert "probe(s) sent" in err and report["live"]["probes"]
    violations = [e for e in report["interactions"] if e["verdict"] == "violation"]
    assert len(violations) >= 3  # every 200 is a chat.completion the client rejects
    assert all(e["outcome"]["error"] == "ResponseContractError" for e in violations)
    assert any("expected 400, got 200" in m["message"] for m in report["expectation_mismatches"])
    assert "chat.completion" in out
    assert time.monotonic() - began < LIMIT_SECONDS


def test_the_key_comes_from_the_providers_variable(
    tmp_path: Path, servers: list[Running], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = "local-key-of-no-known-shape"
    server = start("local", api_key=odd)
    servers.append(server)
    monkeypatch.setenv("IMAGEWIRE_LOCAL_API_KEY", odd)
    argv = ["--live", "--base-url", server.base_url, "--provider", "local", "--model", "dall-e-2"]
    code = check.main([*argv, "--record", str(tmp_path), "--operation", "generations"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert odd not in out + err
    cassette = tmp_path / "live-local.yaml"
    assert odd not in cassette.read_text() and len(load(cassette).interactions) == 3


def test_the_personas_script_fails_on_a_fault(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "check_personas.py"
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(script), "--persona", "bothub", "--fault", "wrong-shape", "--record", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^bothub\s+3\s+1\s+0\s+0\s+2\s+1\s", result.stdout, re.M), result.stdout
    assert "0 of 1 personas keep the contract; failing: bothub" in result.stdout
    assert "mismatch: probe #2" in result.stderr and (tmp_path / "bothub" / "report.json").is_file()
    assert time.monotonic() - began < LIMIT_SECONDS


def test_the_persona_lists_follow_the_provider_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hand-typed persona list: a provider added to the catalog is probed by the script and these tests."""
    import runpy

    from imagewire_client import catalog

    script = Path(__file__).resolve().parents[2] / "scripts" / "check_personas.py"
    extended = {**PROVIDERS, "acme": PROVIDERS["generic"]._replace(id="acme", title="Acme")}
    monkeypatch.setattr(catalog, "PROVIDERS", extended)
    assert runpy.run_path(str(script))["PERSONAS"] == (*PROVIDERS, "acme")
    assert tuple(PROVIDERS) == PERSONAS and len(PERSONAS) >= 6


def test_live_probes_and_imagewire_record_read_answers_alike() -> None:
    """One reader of answers for both (``record.consume``): a probe's line says what ``imagewire record`` says."""
    from types import SimpleNamespace

    from imagewire.record import command as record

    assert live.consume is record.consume
    assert not hasattr(live, "_consume") and not hasattr(record, "_consume")
    events = [
        SimpleNamespace(type="image_generation.partial_image"),
        SimpleNamespace(type="image_generation.completed"),
    ]
    assert record.consume(iter(events), True) == "2 event(s), 1 image(s)"
    result = SimpleNamespace(data=[1], warnings=["/created: missing", "a note"], deviations=["/created: missing"])
    assert record.consume(result, False) == "1 image(s); 1 deviation(s) from the contract"
