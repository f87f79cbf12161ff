"""The README's hand-written cassette and HAR example replay with exactly the report and exit status it
shows: each file is the block after ``<!-- readme-check: NAME -->``, each run the block that starts with
``$ imagewire check`` and ends with ``$ echo $?`` and the status."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from imagewire.check import command as check

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text(encoding="utf-8")
FILES = dict(re.findall(r"<!-- readme-check: (\S+) -->\n```\w*\n(.*?)```", TEXT, re.S))
RUNS = re.findall(r"```\n\$ imagewire check (.*?)\n(.*?)\n\$ echo \$\?\n(\d+)\n```", TEXT, re.S)


def test_the_readme_has_a_fifteen_line_cassette_and_a_har_file_and_runs_them() -> None:
    assert set(FILES) == {"relay.yaml", "browser.har"}
    assert len(FILES["relay.yaml"].splitlines()) == 15
    assert {shlex.split(args)[1] for args, _, _ in RUNS} == set(FILES)


@pytest.mark.parametrize(("args", "shown", "status"), RUNS, ids=[args for args, _, _ in RUNS])
def test_the_readme_examples_replay_as_documented(
    args: str,
    shown: str,
    status: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, content in FILES.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = check.main(shlex.split(args))
    assert capsys.readouterr().out.rstrip("\n") == shown
    assert code == int(status)
