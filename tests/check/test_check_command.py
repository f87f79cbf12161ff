"""``imagewire check --replay``: the matrix, the report files, exit codes, expectations and malformed inputs."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from support.kit import RECORDINGS

from imagewire import cli
from imagewire.check import command as check
from imagewire.check.report import CheckReport, Preview, print_terminal, render_markdown, render_text
from imagewire.record.recordings import LoadError


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = check.main(argv)
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def test_registered_as_a_subcommand() -> None:
    assert cli.COMMANDS["check"].module == "imagewire.check.command"


def test_the_recordings_check_clean_with_their_expectations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(
        [
            "--replay",
            str(RECORDINGS),
            "--json-out",
            str(tmp_path / "r.json"),
            "--markdown-out",
            str(tmp_path / "r.md"),
            "--html-out",
            str(tmp_path / "r.html"),
        ],
        capsys,
    )
    assert code == 0, out
    header = out.splitlines()[0].split()
    assert header == ["provider", "operation", "model", "conforms", "quirk", "deviation", "violation", "skipped"]
    assert re.search(r"^azure\s+generations\s+dalle3\s+2\s+2\s+0\s+0\s+0$", out, re.M)
    assert "violation (expected)" in out and "\x1b[" not in out  # plain text: stdout is not a terminal

    report = json.loads((tmp_path / "r.json").read_text())
    entries = report["interactions"]
    assert len(entries) == report["summary"]["interactions"] > 40
    for entry in entries:
        assert {"interaction", "source", "number", "operation", "status", "verdict", "findings"} <= set(entry)
        assert entry["interaction"] == f"{entry['source']}#{entry['number']}" and entry["number"] >= 1
        assert all({"pointer", "message", "kind"} <= set(f) for f in entry["findings"])
        assert entry["expected"]["matches"] is True
    chat = next(e for e in entries if e["source"].endswith("proxy-chat-completion.yaml"))
    assert chat["verdict"] == "violation" and chat["outcome"]["error"] == "ResponseContractError"

    markdown = (tmp_path / "r.md").read_text()
    assert "| provider | operation | model |" in markdown and "/data/0/content_filter_results" in markdown

    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert not re.search(r"<(link|img|iframe)\b", page) and not re.search(r"(src|href)=", page)  # nothing fetched
    assert "content-filter-results" in page


def test_violations_fail_unless_expected_or_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    violations = str(RECORDINGS / "violations.yaml")
    assert run(["--replay", violations], capsys)[0] == 0  # every one is expected
    code, out = run(["--replay", violations, "--no-expectations"], capsys)
    assert code == 1 and "5 violation" in out
    assert run(["--replay", violations, "--no-expectations", "--allow-violations", "-q"], capsys)[0] == 0


def test_malformed_inputs_are_reported_and_the_rest_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(RECORDINGS / "bothub-dalle3.yaml", tmp_path / "good.yaml")
    (tmp_path / "nested").mkdir()
    shutil.copy(RECORDINGS / "openai-gpt-image.har", tmp_path / "nested" / "capture.har")
    (tmp_path / "broken.yaml").write_text("interactions: [\n")
    (tmp_path / "partly.json").write_text(
        json.dumps(
            {
                "log": {
                    "entries": [
                        {"request": {}},
                        json.loads((RECORDINGS / "openai-gpt-image.har").read_text())["log"]["entries"][0],
                    ]
                }
            }
        )
    )
    code, out = run(["--replay", str(tmp_path), "--json-out", str(tmp_path / "out" / "r.json")], capsys)
    assert code == 2  # unreadable input
    assert f"{tmp_path / 'broken.yaml'}: not valid YAML" in out
    assert f"{tmp_path / 'partly.json'}#1: 'response' is missing" in out
    report = json.loads((tmp_path / "out" / "r.json").read_text())
    assert len(report["interactions"]) == 2 + 3 + 1
    assert [e["number"] for e in report["load_errors"]] == [None, 1]


def test_expectation_mismatches_fail_and_say_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(RECORDINGS / "azure-dalle3.yaml", tmp_path / "azure.yaml")
    shutil.copy(RECORDINGS / "azure-dalle3.expect.yaml", tmp_path / "azure.expect.yaml")
    assert run(["--replay", str(tmp_path / "azure.yaml")], capsys)[0] == 0
    code, out = run(["--replay", str(tmp_path / "azure.yaml"), "--provider", "generic"], capsys)
    assert code == 1 and f"{tmp_path / 'azure.yaml'}#1: verdict deviation, expected quirk" in out
    text = (
        (tmp_path / "azure.expect.yaml").read_text().replace("error: AuthenticationError", "error: RateLimitError", 1)
    )
    (tmp_path / "azure.expect.yaml").write_text(text)
    code, out = run(["--replay", str(tmp_path / "azure.yaml"), "-q"], capsys)
    assert code == 1 and "client outcome error AuthenticationError, expected error RateLimitError" in out


def test_write_expectations_then_check_against_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(RECORDINGS / "tolerant-errors.yaml", tmp_path / "errors.yaml")
    assert run(["--replay", str(tmp_path), "--write-expectations", "-q"], capsys)[0] == 0
    written = (tmp_path / "errors.expect.yaml").read_text()
    assert written.startswith("# Expected verdicts of replaying errors.yaml") and "error: RateLimitError" in written
    assert run(["--replay", str(tmp_path)], capsys)[0] == 0


def test_the_cli_entry_point_and_a_missing_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "--replay", str(RECORDINGS / "openai-gpt-image.har"), "-q"]) == 0
    assert "3 interactions" in capsys.readouterr().out
    assert check.main(["--replay", "/nonexistent/recordings"]) == 2
    assert "/nonexistent/recordings: cannot read the file" in capsys.readouterr().out
    assert check.main([]) == 2
    assert "one of --replay PATH or --live is required" in capsys.readouterr().err
    assert check.main(["--replay", str(RECORDINGS), "--provider", "nosuch"]) == 2
    assert "unknown provider 'nosuch'; known providers: openai, azure" in capsys.readouterr().err


def test_rich_table_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    report = check.check_paths([RECORDINGS / "aipomogator.yaml"])
    out = Terminal()
    print_terminal(report, out)
    text = out.getvalue()
    assert "imagewire check" in text and "aipomogator" in text and "quirk" in text
    assert "─" in text or "━" in text  # a rich table, not the plain one


def test_live_interactions_feed_the_same_machinery() -> None:
    from support.kit import interaction

    report = check.check_interactions(
        [interaction({"created": 1, "data": [{"url": "https://x/y.png"}]}, source="live")]
    )
    assert [(v.source, v.verdict) for v in report.verdicts] == [("live", "conforms")]
    assert report.exit_code() == 0


def test_recorded_text_cannot_inject_html_or_terminal_sequences() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    hostile = "<script>alert(1)</script> [bold]x[/] \x1b]0;owned\x07\x1b[2J\r|"
    report = CheckReport(load_errors=[LoadError(f"{hostile}.yaml", 3, f"not valid YAML: {hostile}")])
    markdown = render_markdown(report)
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    for text in (render_text(report), _printed(report, Terminal())):
        assert "\x1b]" not in text and "\x1b[2J" not in text and "\x07" not in text and "\r" not in text
        assert "alert(1)" in text and "owned" not in text  # the text stays, the sequences (and a title) go


def _printed(report: CheckReport, out: io.StringIO) -> str:
    print_terminal(report, out)
    text = out.getvalue()
    assert "[bold]x[/]" in text  # shown as written, not read as rich markup
    return text


def test_a_body_in_the_markdown_report_cannot_close_its_code_block() -> None:
    report = check.check_paths([RECORDINGS / "aipomogator.yaml"])
    verdict = report.verdicts[0]
    body = "```\n~~~\n<script>alert(1)</script>\n\x1b]0;owned\x07"
    report.previews = {(verdict.source, verdict.index): Preview("POST x", body, "200 OK", "{}")}
    markdown = render_markdown(report, show_all=True)
    block = markdown.split("````\n", 2)  # a fence longer than any run of backticks in the body
    assert len(block) == 3 and "<script>alert(1)</script>" in block[1]
    assert "<script>" not in block[0] + block[2] and "\x1b" not in markdown


def test_replaying_leaves_the_word_replay_alone_in_later_output(capsys: pytest.CaptureFixture[str]) -> None:
    from imagewire.check.replay import Replayer
    from imagewire_client.wire import mask_secrets

    Replayer()  # its client's key is masked for the rest of the process: it must be no word
    assert mask_secrets("check --replay PATH: replay a recording") == "check --replay PATH: replay a recording"
    assert cli.main(["check", "--replay"]) == 2  # a usage error names the option
    err = capsys.readouterr().err
    assert "--replay" in err and "[REDACTED]" not in err


def test_json_and_markdown_print_the_report_and_the_out_options_write_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    violations = str(RECORDINGS / "violations.yaml")
    code, out = run(["--replay", violations, "--json", "--json-out", str(tmp_path / "r.json")], capsys)
    assert code == 0
    assert json.loads(out) == json.loads((tmp_path / "r.json").read_text())  # stdout holds the document alone
    assert json.loads(out)["summary"]["interactions"] >= 5
    code, out = run(["--replay", violations, "--markdown"], capsys)
    assert code == 0 and "| provider | operation | model |" in out
    assert cli.main(["check", "--replay", violations, "--json", "--markdown"]) == 2
    assert "do not go together" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "said"),
    [
        (
            ["--json", "r.json"],
            "--json takes no file name: --json prints the report on stdout; write the file with --json-out r.json",
        ),
        (["--json=r.json"], "write the file with --json-out r.json"),
        (["--markdown", "r.md"], "write the file with --markdown-out r.md"),
        (["--html", "r.html"], "--html takes no file name: there is no --html; write the file with --html-out r.html"),
    ],
)
def test_the_old_spelling_of_a_report_file_is_refused_in_one_line(
    old: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check", "--replay", str(RECORDINGS / "violations.yaml"), *old]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1 and said in err
    assert not list(Path().glob("r.*"))  # nothing written


def test_old_spelling_leaves_the_flags_alone() -> None:
    assert check.old_spelling(["check", "--replay", "x", "--json", "--quiet"]) is None
    assert check.old_spelling(["check", "--replay", "x", "--markdown"]) is None
