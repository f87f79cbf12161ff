"""The contract of the recordings in tests/recordings: each one replayed gives, interaction by interaction,
the verdict and the client outcome its ``<name>.expect.yaml`` declares (so a regression flips one visibly)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from support.kit import RECORDINGS

from imagewire.check import expect
from imagewire.check.verdict import Judge
from imagewire.record.recordings import discover, load

FILES = discover(RECORDINGS)


def test_there_are_recordings_and_each_has_expectations() -> None:
    assert len(FILES) >= 10
    assert all(expect.expectation_path(path).is_file() for path in FILES), [p.name for p in FILES]
    expectation_files = set(RECORDINGS.rglob("*.expect.yaml"))
    orphans = expectation_files - {expect.expectation_path(path) for path in FILES}
    assert not orphans and any(p.parent.name == "reference" for p in expectation_files)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_replaying_a_recording_gives_the_expected_verdicts(judge: Judge, path: Path) -> None:
    recording = load(path)
    assert recording.errors == []
    expectations = expect.load(path)
    assert expectations is not None and expectations.errors == []
    verdicts = judge.judge_all(recording.interactions, expectations.provider)
    mismatches = expect.compare(expectations, verdicts, recording.source)
    assert [str(m) for m in mismatches] == []
    for verdict in verdicts:  # the client outcome is declared for every judged interaction
        entry = expectations.entries[verdict.index]
        assert (entry.error is not None) != (entry.result is not None) or verdict.verdict == "skipped"


def test_the_recordings_are_what_build_py_writes(tmp_path: Path) -> None:
    import runpy

    build = runpy.run_path(str(RECORDINGS / "build.py"))
    assert build["main"](["--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    checked_in = sorted(p.name for p in RECORDINGS.iterdir() if p.suffix in (".yaml", ".har"))
    assert written == checked_in
    for name in written:
        assert (tmp_path / name).read_bytes() == (RECORDINGS / name).read_bytes(), (
            f"{name}: run tests/recordings/build.py"
        )


def test_the_vendored_seed_answers_are_the_seed_documents() -> None:
    """``seeds.py`` holds what the seed documents print; checked wherever ``shared/seeds`` is beside the tree."""
    import json

    from recordings import seeds

    assert set(seeds.ANSWERS) == {"000_0bbb8c2e42243b03.txt", "001_619dde2b4eea99e3.txt"}
    documents = RECORDINGS.parents[2] / "shared" / "seeds"
    if not documents.is_dir():  # pragma: no cover - shared/ sits beside the work tree on the build machine
        pytest.skip("shared/seeds is not beside the work tree: nothing to compare the vendored answers with")
    for name, vendored in seeds.ANSWERS.items():
        text = (documents / name).read_text(encoding="utf-8")
        answer, _ = json.JSONDecoder().raw_decode(text[text.index('{\n"created"') :])
        assert answer == vendored, name


# ---------------------------------------------------------------- the reference provider, every persona, every fault

REFERENCE = RECORDINGS / "reference"
#: lifecycle states of a model a provider taking any model still serves (retired / shut down ones need it to say so)


def test_the_reference_provider_is_recorded_in_every_persona_with_every_fault() -> None:
    """Per provider of the catalog: a generation (b64_json; url where its model takes it), a stream where a model
    it serves streams, each operation it serves a model for, every fault of the server, the moderation word."""
    import json

    from imagewire.server.faults import FAULTS, HEADER
    from imagewire_client.catalog import MODELS, PROVIDERS

    assert sorted(p.stem for p in discover(REFERENCE)) == sorted(PROVIDERS)
    for persona, provider in PROVIDERS.items():
        path = REFERENCE / f"{persona}.yaml"
        recording = load(path)
        assert recording.errors == [] and recording.format == "cassette", persona
        expectations = expect.load(path)
        assert expectations is not None and expectations.provider == persona
        faults = [item.request_header(HEADER) for item in recording.interactions]
        assert sorted(f for f in faults if f) == sorted(FAULTS), persona
        plain = [item for item in recording.interactions if not item.request_header(HEADER)]
        assert any(b"forbidden" in item.request_body for item in plain), f"{persona}: no moderation marker word"

        served = {m: spec for m in MODELS if (spec := provider.served(m)) is not None}
        offered = {op for op in provider.operations if any(op in spec.operations for spec in served.values())}
        assert {item.path.rsplit("/", 1)[-1] for item in plain} == offered, persona
        streams = [item for item in plain if _is_stream(item)]
        streaming = any("stream" in spec.operations["generations"].params for spec in served.values())
        assert len(streams) == (1 if streaming else 0), persona

        first = json.loads(plain[0].request_body)
        model = MODELS[first.get("model") or plain[0].path.split("/deployments/", 1)[-1].split("/", 1)[0]]
        answers = [json.loads(i.response_body) for i in plain if i.status == 200 and not _is_stream(i)]
        kinds = {next(k for k in ("url", "b64_json") if k in a["data"][0]) for a in answers}
        response_format = model.operations["generations"].params.get("response_format")
        takes_url = response_format is not None and "url" in (response_format.values or ())
        assert "b64_json" in kinds and (("url" in kinds) == takes_url), (persona, kinds)


def _is_stream(item: Any) -> bool:
    return "event-stream" in (item.response_header("content-type") or "")


def test_the_reference_recordings_hold_no_volatile_value_and_no_secret() -> None:
    for path in sorted(REFERENCE.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert "sk-imagewire-reference" not in text, path.name
        assert not re.search(r"127\.0\.0\.1:(?!8765\b)\d+", text), path.name  # the server's port, fixed
        assert not re.search(r'"created(_at)?":\s*(?!1794909600\b)\d', text), path.name
        assert not re.search(r"[?&](se|sig)=(?!REDACTED\b)", text), path.name  # signed-URL values
    for path in sorted(REFERENCE.glob("*.expect.yaml")):
        assert "expect" in path.name


def test_the_reference_recordings_are_what_build_reference_writes(tmp_path: Path) -> None:
    """Rebuilt from live servers (about 10 s): the same bytes, so nothing volatile was left in them."""
    import runpy

    build = runpy.run_path(str(RECORDINGS / "build_reference.py"))
    assert build["main"](["--out", str(tmp_path), "--quiet"]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in REFERENCE.iterdir())
    for name in written:
        assert (tmp_path / name).read_bytes() == (REFERENCE / name).read_bytes(), (
            f"reference/{name}: run tests/recordings/build_reference.py"
        )
