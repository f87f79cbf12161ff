"""The contract of the recordings in tests/recordings: each one replayed gives, interaction by interaction,
the verdict and the client outcome its ``<name>.expect.yaml`` declares (so a regression flips one visibly)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit_support import RECORDINGS

from conformance import expect
from conformance.recordings import discover, load
from conformance.verdict import Judge

FILES = discover(RECORDINGS)


def test_there_are_recordings_and_each_has_expectations() -> None:
    assert len(FILES) >= 10
    assert all(expect.expectation_path(path).is_file() for path in FILES), [p.name for p in FILES]
    orphans = {p.name.removesuffix(".expect.yaml") for p in RECORDINGS.glob("*.expect.yaml")} - {p.stem for p in FILES}
    assert not orphans


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
