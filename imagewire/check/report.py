"""The compatibility report of a check: a matrix provider x operation x model with verdict counts, and the
findings of every interaction that does not conform. Terminal (rich on a TTY, plain text otherwise), JSON,
Markdown and one self-contained HTML page (inline CSS, no external assets)."""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

from imagewire.check.expect import Mismatch
from imagewire.check.validate import Finding
from imagewire.check.verdict import VERDICTS, Verdict
from imagewire.record.recordings import LoadError

__all__ = ["CheckReport", "matrix", "print_terminal", "render_html", "render_json", "render_markdown", "render_text"]

_COLUMNS = VERDICTS
_STYLE = {"conforms": "green", "quirk": "cyan", "deviation": "yellow", "violation": "bold red", "skipped": "dim"}
_SHORT = {"conforms": "ok", "quirk": "quirk", "deviation": "dev", "violation": "viol", "skipped": "skip"}
_COLOURS = {
    "conforms": "#1a7f37",
    "quirk": "#0969da",
    "deviation": "#9a6700",
    "violation": "#cf222e",
    "skipped": "#6e7781",
}


@dataclass
class CheckReport:
    """Everything a check found: verdicts, unreadable inputs, expectation mismatches, known violations."""

    verdicts: list[Verdict] = field(default_factory=list)
    load_errors: list[LoadError] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    #: (source, index) of violations an expectation file declares
    known_violations: set[tuple[str, int]] = field(default_factory=set)
    #: (source, index) -> expected verdict, where an expectation exists
    expected: dict[tuple[str, int], str] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        return Counter(v.verdict for v in self.verdicts)

    def unexpected_violations(self) -> list[Verdict]:
        return [
            v for v in self.verdicts if v.verdict == "violation" and (v.source, v.index) not in self.known_violations
        ]

    def exit_code(self, *, allow_violations: bool = False) -> int:
        failed = bool(self.load_errors or self.mismatches)
        if not allow_violations and self.unexpected_violations():
            failed = True
        return 1 if failed else 0


Row = tuple[str, str, str]


def matrix(verdicts: list[Verdict]) -> dict[Row, Counter[str]]:
    """(provider, operation, model) -> verdict counts, sorted."""
    rows: dict[Row, Counter[str]] = {}
    for verdict in verdicts:
        key = (verdict.provider, verdict.operation or "-", verdict.model or "-")
        rows.setdefault(key, Counter())[verdict.verdict] += 1
    return dict(sorted(rows.items()))


def _findings_text(verdict: Verdict) -> list[str]:
    lines = []
    for finding in verdict.findings:
        quirk = f" [quirk {finding.quirk}]" if finding.quirk else ""
        lines.append(f"{finding.kind:<12} {finding.pointer or '/'}: {finding.message}{quirk}")
    return lines


def _outcome_text(verdict: Verdict) -> str:
    outcome = verdict.outcome
    if outcome is None:
        return "-"
    if outcome.kind == "error":
        return f"{outcome.error}"
    if outcome.kind == "events":
        return f"{outcome.events} event(s), {outcome.images} image(s)"
    return f"{outcome.images} image(s)"


def _interesting(report: CheckReport) -> list[Verdict]:
    return [v for v in report.verdicts if v.verdict not in ("conforms", "skipped")]


def summary_line(report: CheckReport) -> str:
    counts = report.counts()
    parts = [f"{counts.get(name, 0)} {name}" for name in _COLUMNS]
    text = f"{len(report.verdicts)} interactions: " + ", ".join(parts)
    if report.known_violations:
        text += (
            f" ({len(report.known_violations & {(v.source, v.index) for v in report.verdicts})} violation(s) expected)"
        )
    return text


def render_text(report: CheckReport) -> str:
    """The plain-text report (what a non-TTY gets)."""
    rows = matrix(report.verdicts)
    head = ("provider", "operation", "model", *_COLUMNS)
    table = [head] + [(p, o, m, *(str(c.get(name, 0)) for name in _COLUMNS)) for (p, o, m), c in rows.items()]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", summary_line(report)]
    interesting = _interesting(report)
    if interesting:
        lines += ["", "Findings"]
        for verdict in interesting:
            expected = report.expected.get((verdict.source, verdict.index))
            note = " (expected)" if expected == verdict.verdict else ""
            lines.append(
                f"  {verdict.where}  {verdict.verdict}{note}  {verdict.operation} {verdict.status}  -> {_outcome_text(verdict)}"
            )
            lines += [f"      {line}" for line in _findings_text(verdict) if not line.startswith("request")]
    if report.load_errors:
        lines += ["", "Unreadable recordings"] + [f"  {error}" for error in report.load_errors]
    if report.mismatches:
        lines += ["", "Expectation mismatches"] + [f"  {m}" for m in report.mismatches]
    return "\n".join(lines)


def print_terminal(report: CheckReport, out: IO[str]) -> None:
    """The report on ``out``: a rich table on a terminal, plain text otherwise."""
    isatty = getattr(out, "isatty", None)
    if not (callable(isatty) and isatty()):
        out.write(render_text(report) + "\n")
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out)
    rows = matrix(report.verdicts)
    table = Table(title="imagewire check", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    widths = [
        max([len(name), *(len(key[i]) for key in rows)]) for i, name in enumerate(("provider", "operation", "model"))
    ]
    narrow = sum(widths) + sum(map(len, _COLUMNS)) + 2 * (3 + len(_COLUMNS)) > console.width
    for name, width in zip(("provider", "operation", "model"), widths, strict=True):
        table.add_column(name, no_wrap=True, min_width=width)
    for name in _COLUMNS:
        table.add_column(_SHORT[name] if narrow else name, justify="right", style=_STYLE[name], no_wrap=True)
    for (p, o, m), counts in rows.items():
        table.add_row(p, o, m, *(str(counts.get(name, 0) or "") for name in _COLUMNS))
    console.print(table)
    console.print(summary_line(report))
    for verdict in _interesting(report):
        console.print(
            f"[{_STYLE[verdict.verdict]}]{verdict.verdict}[/] {verdict.where} {verdict.operation} {verdict.status}"
            f" -> {_outcome_text(verdict)}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        for line in _findings_text(verdict):
            if not line.startswith("request"):
                console.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)
    for error in report.load_errors:
        console.print(f"[bold red]unreadable[/] {error}", highlight=False)
    for mismatch in report.mismatches:
        console.print(f"[bold red]mismatch[/] {mismatch}", highlight=False)


def render_json(report: CheckReport) -> str:
    entries = []
    for verdict in report.verdicts:
        entry: dict[str, Any] = verdict.as_dict()
        expected = report.expected.get((verdict.source, verdict.index))
        if expected is not None:
            entry["expected"] = {"verdict": expected, "matches": expected == verdict.verdict}
        entries.append(entry)
    counts = report.counts()
    data = {
        "version": 1,
        "summary": {name: counts.get(name, 0) for name in _COLUMNS} | {"interactions": len(report.verdicts)},
        "matrix": [
            {"provider": p, "operation": o, "model": m, **{name: c.get(name, 0) for name in _COLUMNS}}
            for (p, o, m), c in matrix(report.verdicts).items()
        ],
        "interactions": entries,
        "load_errors": [{"source": e.source, "index": e.index, "message": e.message} for e in report.load_errors],
        "expectation_mismatches": [
            {"source": m.source, "index": m.index, "message": m.message} for m in report.mismatches
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: CheckReport) -> str:
    lines = ["# imagewire check", "", summary_line(report), ""]
    lines.append("| provider | operation | model | " + " | ".join(_COLUMNS) + " |")
    lines.append("|---|---|---|" + "---:|" * len(_COLUMNS))
    for (p, o, m), counts in matrix(report.verdicts).items():
        cells = " | ".join(str(counts.get(name, 0)) for name in _COLUMNS)
        lines.append(f"| {_md(p)} | {_md(o)} | `{_md(m)}` | {cells} |")
    interesting = _interesting(report)
    if interesting:
        lines += [
            "",
            "## Findings",
            "",
            "| interaction | verdict | status | client | where | kind | what |",
            "|---|---|---|---|---|---|---|",
        ]
        for verdict in interesting:
            counted: list[Finding | None] = [*verdict.response_findings] or [None]
            for finding in counted:
                where = f"`{_md(finding.pointer or '/')}`" if finding else ""
                kind = _md(finding.kind + (f" (quirk {finding.quirk})" if finding.quirk else "")) if finding else ""
                what = _md(finding.message) if finding else ""
                lines.append(
                    f"| {_md(verdict.where)} | {verdict.verdict} | {verdict.status} | {_md(_outcome_text(verdict))} | {where} | {kind} | {what} |"
                )
    if report.load_errors:
        lines += ["", "## Unreadable recordings", ""] + [f"- {_md(e)}" for e in report.load_errors]
    if report.mismatches:
        lines += ["", "## Expectation mismatches", ""] + [f"- {_md(m)}" for m in report.mismatches]
    return "\n".join(lines) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#1f2328;background:#fff}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d0d7de;padding:.3em .6em;vertical-align:top}
th{background:#f6f8fa;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.zero{color:#afb8c1}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.v{font-weight:600}ul{margin:.2em 0;padding-left:1.2em}.muted{color:#6e7781}
"""


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_html(report: CheckReport) -> str:
    """One self-contained page: inline CSS, no scripts, no external assets."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>imagewire check</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>imagewire check</h1>",
        f"<p>{_h(summary_line(report))}</p>",
        "<table><thead><tr><th>provider</th><th>operation</th><th>model</th>",
    ]
    out += [f'<th style="color:{_COLOURS[name]}">{name}</th>' for name in _COLUMNS]
    out.append("</tr></thead><tbody>")
    for (p, o, m), counts in matrix(report.verdicts).items():
        cells = "".join(
            f'<td class="n{"" if counts.get(name) else " zero"}"'
            + (f' style="color:{_COLOURS[name]}"' if counts.get(name) else "")
            + f">{counts.get(name, 0)}</td>"
            for name in _COLUMNS
        )
        out.append(f"<tr><td>{_h(p)}</td><td>{_h(o)}</td><td><code>{_h(m)}</code></td>{cells}</tr>")
    out.append("</tbody></table>")
    interesting = _interesting(report)
    if interesting:
        out.append("<h2>Findings</h2><table><thead><tr><th>interaction</th><th>verdict</th><th>status</th>")
        out.append("<th>client outcome</th><th>findings</th></tr></thead><tbody>")
        for verdict in interesting:
            items = "".join(
                f"<li><code>{_h(f.pointer or '/')}</code> <span class=muted>{_h(f.kind)}</span> {_h(f.message)}"
                + (f" <em>(quirk {_h(f.quirk)})</em>" if f.quirk else "")
                + "</li>"
                for f in verdict.response_findings
            )
            colour = _COLOURS[verdict.verdict]
            expected = report.expected.get((verdict.source, verdict.index)) == verdict.verdict
            badge = "<br><span class=muted>expected</span>" if expected else ""
            out.append(
                f"<tr><td><code>{_h(verdict.where)}</code><br><span class=muted>{_h(verdict.provider)} "
                f"{_h(verdict.operation)} {_h(verdict.model or '')}</span></td>"
                f'<td class="v" style="color:{colour}">{_h(verdict.verdict)}{badge}</td><td>{verdict.status}</td>'
                f"<td>{_h(_outcome_text(verdict))}</td><td><ul>{items}</ul></td></tr>"
            )
        out.append("</tbody></table>")
    if report.load_errors:
        out.append("<h2>Unreadable recordings</h2><ul>")
        out += [f"<li>{_h(e)}</li>" for e in report.load_errors]
        out.append("</ul>")
    if report.mismatches:
        out.append("<h2>Expectation mismatches</h2><ul>")
        out += [f"<li>{_h(m)}</li>" for m in report.mismatches]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
