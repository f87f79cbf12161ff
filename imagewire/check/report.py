"""The compatibility report of a check: a matrix provider x operation x model with verdict counts, then the
interactions, each with its findings ordered by consequence: the finding that decides the verdict first, the
rest folded by kind ("and 4 undeclared keys: /id, /object, ..."). Interactions are named ``file#N``, N counted
from 1, in every format: terminal (rich on a TTY, plain text otherwise), JSON, Markdown and one
self-contained HTML page (inline CSS and script, no network: a coloured band of verdict counts, the matrix,
the interactions with the deciding finding highlighted, and a filter by verdict).

By default the interactions that do not conform are listed (and the skipped ones, with why); ``show_all``
lists the conforming ones too. ``show_body`` adds each interaction's request and answer, scrubbed with the
recorder's scrubber and truncated (:func:`preview`).

Exit codes (:meth:`CheckReport.exit_code`, from :mod:`imagewire.exits`): ``OK`` (0) nothing but conforming,
quirky or deviating answers; ``FAILED`` (1) a violation or a mismatch with an expectation file; ``USAGE`` (2)
unreadable or invalid input; ``PROVIDER`` (3) a live provider unreachable. When several apply, the highest
wins.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from imagewire import exits
from imagewire.check.expect import Mismatch
from imagewire.check.validate import Finding
from imagewire.check.verdict import VERDICTS, Verdict
from imagewire.record.recordings import Interaction, LoadError

__all__ = [
    "CheckReport",
    "Preview",
    "fold",
    "matrix",
    "preview",
    "print_terminal",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "summary_line",
]


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
#: how a folded group of findings of one kind is named ("and 4 undeclared keys: ...")
_PLURAL = {
    "extra-key": ("undeclared key", "undeclared keys"),
    "schema": ("schema finding", "schema findings"),
    "media-type": ("content-type finding", "content-type findings"),
    "json": ("body that is not JSON", "bodies that are not JSON"),
    "status": ("status finding", "status findings"),
    "image": ("image that is not one", "images that are not images"),
    "image-format": ("image in another format", "images in another format"),
    "stream-error": ("error event", "error events"),
    "client": ("client warning", "client warnings"),
    "contract": ("contract break", "contract breaks"),
}
#: at most this many pointers are named in one folded line
_FOLD_LIMIT = 8
#: bodies are shown up to this many characters (``--show-body``)
BODY_LIMIT = 600


@dataclass(frozen=True)
class Preview:
    """An interaction's request and answer as a report shows them: scrubbed, truncated text."""

    request: str  # "POST https://... (application/json, 123 bytes)"
    request_body: str
    answer: str  # "200 OK (application/json, 456 bytes)"
    answer_body: str


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
    #: live probes that got no answer at all (the provider could not be reached)
    unreachable: list[str] = field(default_factory=list)
    #: violations do not fail the check (``--allow-violations``): the exit status every format states
    allow_violations: bool = False
    #: (source, index) -> the request and answer (``--show-body``)
    previews: dict[tuple[str, int], Preview] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        return Counter(v.verdict for v in self.verdicts)

    def unexpected_violations(self) -> list[Verdict]:
        return [
            v for v in self.verdicts if v.verdict == "violation" and (v.source, v.index) not in self.known_violations
        ]

    def exit_code(self, *, allow_violations: bool | None = None) -> int:
        """The exit status (``allow_violations``: as :attr:`allow_violations` when not given)."""
        allow_violations = self.allow_violations if allow_violations is None else allow_violations
        if self.unreachable:
            return exits.PROVIDER  # a live provider could not be reached
        if self.load_errors:
            return exits.USAGE  # a missing file, one that is not a cassette or HAR, a bad expectation
        if self.mismatches or (not allow_violations and self.unexpected_violations()):
            return exits.FAILED
        return exits.OK  # quirks and deviations are reported, not failed

    def add_previews(self, interactions: Iterable[Interaction]) -> None:
        for interaction in interactions:
            self.previews[(interaction.source, interaction.index)] = preview(interaction)


Row = tuple[str, str, str]


def matrix(verdicts: list[Verdict]) -> dict[Row, Counter[str]]:
    """(provider, operation, model) -> verdict counts, sorted."""
    rows: dict[Row, Counter[str]] = {}
    for verdict in verdicts:
        key = (verdict.provider, verdict.operation or "-", verdict.model or "-")
        rows.setdefault(key, Counter())[verdict.verdict] += 1
    return dict(sorted(rows.items()))


# ---------------------------------------------------------------- findings: the decider, then folded by kind


@dataclass(frozen=True)
class Fold:
    """Findings of one kind (and one standing: declared by a quirk or not), shown as one line."""

    kind: str
    findings: tuple[Finding, ...]

    @property
    def declared(self) -> bool:
        return self.findings[0].quirk is not None

    def text(self, *, first: bool = False) -> str:
        """``4 undeclared keys: /id, /object, /choices, /usage`` (prefixed with "and " unless ``first``)."""
        count = len(self.findings)
        one, many = _PLURAL.get(self.kind, (f"{self.kind} finding", f"{self.kind} findings"))
        name = one if count == 1 else many
        if self.declared:
            name = name.replace("undeclared ", "") + " declared as quirks"
        same = len({f.message for f in self.findings}) == 1
        shown = [
            _pointer(f) + ("" if same or self.kind == "extra-key" else f" ({f.message})") + _quirk(f)
            for f in self.findings[:_FOLD_LIMIT]
        ]
        more = f", … {count - _FOLD_LIMIT} more" if count > _FOLD_LIMIT else ""
        tail = f" — {self.findings[0].message}" if same and count > 1 and self.kind not in _PLURAL else ""
        return f"{'' if first else 'and '}{count} {name}: {', '.join(shown)}{more}{tail}"


def _pointer(finding: Finding) -> str:
    return finding.pointer or "/"


def _quirk(finding: Finding) -> str:
    return f" [quirk {finding.quirk}]" if finding.quirk else ""


def fold(verdict: Verdict) -> tuple[Finding | None, list[Finding | Fold]]:
    """The deciding finding, and the rest of the response findings: one finding alone, several of a kind folded
    (in the order of consequence the verdict keeps them in)."""
    findings = verdict.response_findings
    deciding = verdict.deciding
    rest = [f for f in findings if f is not deciding]
    groups: dict[tuple[str, bool], list[Finding]] = {}
    for finding in rest:
        groups.setdefault((finding.kind, finding.quirk is not None), []).append(finding)
    out: list[Finding | Fold] = []
    for (kind, _), members in groups.items():
        out.append(members[0] if len(members) == 1 else Fold(kind, tuple(members)))
    return deciding, out


def finding_text(finding: Finding) -> str:
    return f"{finding.kind} {_pointer(finding)}: {finding.message}{_quirk(finding)}"


def _finding_lines(verdict: Verdict) -> list[str]:
    """The findings as text lines: the deciding one first (marked ``▸``), the rest folded by kind."""
    deciding, rest = fold(verdict)
    lines = [f"▸ {finding_text(deciding)}"] if deciding is not None else []
    for item in rest:
        text = item.text(first=not lines) if isinstance(item, Fold) else finding_text(item)
        lines.append(f"  {text}")
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


def _listed(report: CheckReport, show_all: bool) -> list[Verdict]:
    if show_all:
        return list(report.verdicts)
    return [v for v in report.verdicts if v.verdict not in ("conforms", "skipped")]


def _skipped(report: CheckReport) -> list[Verdict]:
    return [v for v in report.verdicts if v.verdict == "skipped"]


def summary_line(report: CheckReport) -> str:
    counts = report.counts()
    parts = [f"{counts.get(name, 0)} {name}" for name in _COLUMNS]
    text = f"{len(report.verdicts)} interactions: " + ", ".join(parts)
    if report.known_violations:
        text += (
            f" ({len(report.known_violations & {(v.source, v.index) for v in report.verdicts})} violation(s) expected)"
        )
    return text


# ---------------------------------------------------------------- bodies (--show-body)


def _describe(content_type: str, body: bytes) -> str:
    return f"{content_type or 'no content type'}, {len(body)} bytes"


def _body_text(body: bytes, content_type: str, limit: int) -> str:
    """A scrubbed body as text: JSON and event streams as they are, multipart forms part by part, binary
    as its size; cut at ``limit`` characters."""
    from imagewire import multipart
    from imagewire.images import sniff_bytes
    from imagewire.record.scrub import scrub_body

    if not body:
        return "(empty)"
    media = content_type.split(";")[0].strip().lower()
    clean = scrub_body(body, content_type)
    if media.startswith("multipart/"):
        parts = multipart.parse(clean, content_type)
        if parts is not None:
            lines = []
            for part in parts:
                if part.is_file:
                    lines.append(
                        f"{part.name}: <file {part.filename or ''} {part.content_type or ''}, {len(part.data)} bytes>"
                    )
                else:
                    lines.append(f"{part.name}: {part.data.decode('utf-8', errors='replace')}")
            return _cut("\n".join(lines), limit)
    fmt = sniff_bytes(clean)
    if fmt is not None or media.startswith("image/"):
        return f"<{fmt or media} image, {len(body)} bytes>"
    text = clean.decode("utf-8", errors="replace")
    if sum(1 for c in text[:400] if c == "\ufffd" or (ord(c) < 32 and c not in "\r\n\t")) > 8:
        return f"<binary, {len(body)} bytes>"
    return _cut(text.strip(), limit)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f" … ({len(text) - limit} more characters)"


def preview(interaction: Interaction, limit: int = BODY_LIMIT) -> Preview:
    """The request and answer of ``interaction``, scrubbed (secrets, signed URLs, images) and truncated."""
    from imagewire.record.scrub import scrub_url

    request_type = interaction.request_header("content-type") or ""
    answer_type = interaction.response_header("content-type") or ""
    request_body = interaction.request_content()
    answer_body = interaction.response_content()
    reason = f" {interaction.reason}" if interaction.reason else ""
    return Preview(
        request=f"{interaction.method} {scrub_url(interaction.url)} ({_describe(request_type, request_body)})",
        request_body=_body_text(request_body, request_type, limit),
        answer=f"{interaction.status}{reason} ({_describe(answer_type, answer_body)})",
        answer_body=_body_text(answer_body, answer_type, limit),
    )


# ---------------------------------------------------------------- text and terminal

#: skipped interactions listed by default (``--all`` lists every one)
_SKIPPED_SHOWN = 10


def _heading(verdict: Verdict, report: CheckReport) -> str:
    expected = report.expected.get((verdict.source, verdict.index))
    note = " (expected)" if expected == verdict.verdict and verdict.verdict != "conforms" else ""
    if verdict.verdict == "skipped":
        return f"{verdict.where}  skipped  {verdict.reason}"
    what = f"{verdict.operation} {verdict.model or ''}".rstrip()
    return f"{verdict.where}  {verdict.verdict}{note}  {what}  {verdict.status} -> {_outcome_text(verdict)}"


def _body_lines(found: Preview | None) -> list[str]:
    if found is None:
        return []
    lines = []
    for label, head, body in (
        ("request", found.request, found.request_body),
        ("answer", found.answer, found.answer_body),
    ):
        lines.append(f"{label:<8} {head}")
        lines += [f"{'':<8} {line}" for line in body.splitlines() or [""]]
    return lines


def _entry_lines(verdict: Verdict, report: CheckReport) -> list[str]:
    return [
        f"  {_heading(verdict, report)}",
        *(f"      {line}" for line in _finding_lines(verdict)),
        *(f"      {line}" for line in _body_lines(report.previews.get((verdict.source, verdict.index)))),
    ]


def _problem_lines(report: CheckReport) -> list[str]:
    lines: list[str] = []
    if report.load_errors:
        lines += ["", "Unreadable input"] + [f"  {error}" for error in report.load_errors]
    if report.mismatches:
        lines += ["", "Expectation mismatches"] + [f"  {m}" for m in report.mismatches]
    if report.unreachable:
        lines += ["", "Unreachable"] + [f"  {u}" for u in report.unreachable]
    return lines


def _skipped_lines(report: CheckReport) -> list[str]:
    skipped = _skipped(report)
    if not skipped:
        return []
    lines = ["", f"Skipped: {len(skipped)} not Images API call(s), not judged"]
    lines += [f"  {v.where}  {v.reason}" for v in skipped[:_SKIPPED_SHOWN]]
    if len(skipped) > _SKIPPED_SHOWN:
        lines.append(f"  … and {len(skipped) - _SKIPPED_SHOWN} more (--all lists them)")
    return lines


#: terminal escape sequences (CSI, OSC, other ESC) and the remaining C0/C1 control characters
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x1f\x7f-\x9f]")


def _plain(text: object) -> str:
    """Recorded text made safe for a terminal: a line break becomes a space, escape sequences and other
    control characters are removed (a recording could otherwise set the window title or clear the screen)."""
    return _CONTROL.sub("", str(text).replace("\n", " ").replace("\t", " "))


def render_text(report: CheckReport, *, show_all: bool = False) -> str:
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
    listed = _listed(report, show_all)
    if listed:
        lines += ["", "Interactions" if show_all else "Findings (the deciding one first)"]
        for verdict in listed:
            lines += _entry_lines(verdict, report)
    if not show_all:
        lines += _skipped_lines(report)
    lines += _problem_lines(report)
    return "\n".join(_plain(line) for line in lines)


def print_terminal(report: CheckReport, out: IO[str], *, show_all: bool = False) -> None:
    """The report on ``out``: a rich table on a terminal, plain text otherwise."""
    isatty = getattr(out, "isatty", None)
    if not (callable(isatty) and isatty()):
        out.write(render_text(report, show_all=show_all) + "\n")
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

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
        table.add_row(_plain(p), _plain(o), _plain(m), *(str(counts.get(name, 0) or "") for name in _COLUMNS))
    console.print(table)
    console.print(summary_line(report), highlight=False)
    for verdict in _listed(report, show_all):
        heading = Text(_plain(_heading(verdict, report)))
        heading.stylize(_STYLE[verdict.verdict], len(verdict.where) + 2, len(verdict.where) + 2 + len(verdict.verdict))
        console.print(heading, soft_wrap=True)
        for number, line in enumerate(_finding_lines(verdict)):
            style = "bold" if number == 0 and verdict.deciding is not None else ""
            console.print(Text(f"    {_plain(line)}", style=style), soft_wrap=True)
        for line in _body_lines(report.previews.get((verdict.source, verdict.index))):
            console.print(Text(f"    {_plain(line)}", style="dim"), soft_wrap=True)
    for line in ([] if show_all else _skipped_lines(report)) + _problem_lines(report):
        console.print(Text(_plain(line), style="bold red" if line in _PROBLEM_TITLES else ""), soft_wrap=True)


_PROBLEM_TITLES = frozenset({"Unreadable input", "Expectation mismatches", "Unreachable"})


# ---------------------------------------------------------------- JSON and Markdown


def render_json(report: CheckReport) -> str:
    entries = []
    for verdict in report.verdicts:
        entry: dict[str, Any] = verdict.as_dict()
        key = (verdict.source, verdict.index)
        expected = report.expected.get(key)
        if expected is not None:
            entry["expected"] = {"verdict": expected, "matches": expected == verdict.verdict}
        found = report.previews.get(key)
        if found is not None:
            entry["request_preview"] = {"line": found.request, "body": found.request_body}
            entry["answer_preview"] = {"line": found.answer, "body": found.answer_body}
        entries.append(entry)
    counts = report.counts()
    data = {
        "version": 2,
        "summary": {name: counts.get(name, 0) for name in _COLUMNS} | {"interactions": len(report.verdicts)},
        "exit_code": int(report.exit_code()),
        "matrix": [
            {"provider": p, "operation": o, "model": m, **{name: c.get(name, 0) for name in _COLUMNS}}
            for (p, o, m), c in matrix(report.verdicts).items()
        ],
        "interactions": entries,
        "load_errors": [
            {"source": e.source, "number": None if e.index is None else e.index + 1, "message": e.message}
            for e in report.load_errors
        ],
        "expectation_mismatches": [
            {"source": m.source, "number": None if m.index is None else m.index + 1, "message": m.message}
            for m in report.mismatches
        ],
        "unreachable": list(report.unreachable),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _md(text: object) -> str:
    """Recorded text in Markdown: HTML escaped (Markdown passes HTML through), ``|`` escaped, control
    characters removed."""
    return html.escape(_plain(text), quote=False).replace("|", "\\|")


def _fenced(body: str) -> list[str]:
    """``body`` as a Markdown code block whose fence no line of it can close (so no HTML escapes it)."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *(_plain(line) for line in body.splitlines()), fence]


def render_markdown(report: CheckReport, *, show_all: bool = False) -> str:
    lines = ["# imagewire check", "", summary_line(report), ""]
    lines.append("| provider | operation | model | " + " | ".join(_COLUMNS) + " |")
    lines.append("|---|---|---|" + "---:|" * len(_COLUMNS))
    for (p, o, m), counts in matrix(report.verdicts).items():
        cells = " | ".join(str(counts.get(name, 0)) for name in _COLUMNS)
        lines.append(f"| {_md(p)} | {_md(o)} | `{_md(m)}` | {cells} |")
    listed = _listed(report, show_all) + ([] if show_all else _skipped(report))
    if listed:
        lines += [
            "",
            "## Interactions" if show_all else "## Findings",
            "",
            "| interaction | verdict | status | client | findings (the deciding one first) |",
            "|---|---|---|---|---|",
        ]
        for verdict in listed:
            found = [verdict.reason] if verdict.verdict == "skipped" else _finding_lines(verdict)
            if found and verdict.deciding is not None:
                found[0] = f"**{found[0]}**"
            cell = "<br>".join(_md(line) for line in found)
            lines.append(
                f"| `{_md(verdict.where)}` | {verdict.verdict} | {verdict.status} | {_md(_outcome_text(verdict))} | {cell} |"
            )
        previews = [(v, report.previews[(v.source, v.index)]) for v in listed if (v.source, v.index) in report.previews]
        if previews:
            lines += ["", "## Requests and answers (scrubbed, truncated)"]
            for verdict, found_preview in previews:
                lines += ["", f"### `{_md(verdict.where)}`", ""]
                for head, body in (
                    (found_preview.request, found_preview.request_body),
                    (found_preview.answer, found_preview.answer_body),
                ):
                    lines += [f"{_md(head)}", "", *_fenced(body), ""]
    if report.load_errors:
        lines += ["", "## Unreadable input", ""] + [f"- {_md(e)}" for e in report.load_errors]
    if report.mismatches:
        lines += ["", "## Expectation mismatches", ""] + [f"- {_md(m)}" for m in report.mismatches]
    if report.unreachable:
        lines += ["", "## Unreachable", ""] + [f"- {_md(u)}" for u in report.unreachable]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HTML

_CSS = """
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--fg);background:#fff}
main{max-width:1180px;margin:0 auto;padding:1.5em 2em 3em}
h1{font-size:1.6em;margin:0 0 .1em}h2{font-size:1.15em;margin:2em 0 .6em}
.sub{color:var(--muted);margin:0 0 1.2em}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.band{display:grid;grid-template-columns:repeat(5,1fr);gap:.75em;margin:0 0 .6em}
.tile{all:unset;cursor:pointer;display:flex;flex-direction:column;gap:.1em;padding:.8em 1em;border-radius:10px;
 background:var(--c);color:#fff;box-shadow:0 1px 2px rgba(0,0,0,.12)}
.tile.zero{background:#fff;color:var(--muted);border:1px solid var(--line);box-shadow:none}
.tile:focus-visible{outline:3px solid #0969da55;outline-offset:2px}
.tile .n{font-size:2em;font-weight:700;line-height:1.1;font-variant-numeric:tabular-nums}
.tile .l{font-weight:600;text-transform:uppercase;letter-spacing:.04em;font-size:.8em;opacity:.95}
.bar{display:flex;height:8px;border-radius:4px;overflow:hidden;background:var(--soft);margin:0 0 1em}
.bar span{display:block;height:100%}
.status{padding:.7em 1em;border-radius:8px;margin:.8em 0;border:1px solid}
.status.ok{background:#dafbe1;border-color:#aceebb}.status.fail{background:#ffebe9;border-color:#ffcecb}
.status ul{margin:.3em 0 0;padding-left:1.2em}
table.matrix{border-collapse:collapse;width:100%}
.matrix th,.matrix td{border-bottom:1px solid var(--line);padding:.35em .6em;text-align:left;vertical-align:middle}
.matrix th{background:var(--soft);font-weight:600;font-size:.9em}
.matrix td.n,.matrix th.n{text-align:right;font-variant-numeric:tabular-nums;width:6.5em}
.matrix td.zero{color:#c4cbd2}.matrix code{white-space:nowrap}.scroll{overflow-x:auto}
.matrix td.first{font-weight:600}.matrix tr.group td{border-top:2px solid var(--line)}
.pill{display:inline-block;min-width:2em;text-align:center;padding:0 .5em;border-radius:99px;color:#fff;
 font-weight:600;background:var(--c)}
.mini{display:flex;height:6px;width:120px;border-radius:3px;overflow:hidden;background:var(--soft)}
.filter{display:flex;flex-wrap:wrap;gap:.5em;align-items:center;margin:.4em 0 .8em}
.filter label{display:inline-flex;align-items:center;gap:.35em;border:1px solid var(--line);border-radius:99px;
 padding:.2em .75em;cursor:pointer;user-select:none}
.filter label:has(input:checked){border-color:var(--c);box-shadow:inset 0 0 0 1px var(--c)}
.filter input{accent-color:var(--c);margin:0}
.filter .dot{width:.7em;height:.7em;border-radius:50%;background:var(--c)}
.filter button{font:inherit;border:1px solid var(--line);background:#fff;border-radius:6px;padding:.2em .7em;
 cursor:pointer}
.shown{color:var(--muted);margin-left:auto}
ol.items{list-style:none;margin:0;padding:0}
.item{border:1px solid var(--line);border-left:5px solid var(--c);border-radius:8px;margin:.6em 0;
 padding:.6em .9em}
.item .head{display:flex;flex-wrap:wrap;gap:.4em .8em;align-items:baseline}
.badge{display:inline-block;padding:.05em .6em;border-radius:99px;background:var(--c);color:#fff;font-weight:600;
 font-size:.85em}
.meta{color:var(--muted)}
.expected{font-size:.8em;color:var(--muted);border:1px solid var(--line);border-radius:99px;padding:0 .5em}
ul.findings{list-style:none;margin:.5em 0 0;padding:0}
ul.findings li{padding:.25em .6em;border-radius:6px;margin:.15em 0;color:#424a53}
ul.findings li.deciding{background:color-mix(in srgb,var(--c) 12%,#fff);color:var(--fg);font-weight:500;
 border:1px solid color-mix(in srgb,var(--c) 35%,#fff)}
.kind{display:inline-block;font-size:.78em;font-weight:600;color:var(--muted);border:1px solid var(--line);
 border-radius:4px;padding:0 .4em;margin-right:.4em;background:#fff}
.decides{float:right;font-size:.75em;font-weight:700;text-transform:uppercase;letter-spacing:.05em;color:var(--c)}
.quirk{font-style:italic;color:#0969da}
.reason{margin:.4em 0 0;color:var(--muted)}
details{margin:.5em 0 0}summary{cursor:pointer;color:var(--muted)}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.6em .8em;overflow:auto;
 white-space:pre-wrap;word-break:break-all;margin:.3em 0}
.none{color:var(--muted);font-style:italic}
@media (max-width:760px){main{padding:1em}.band{grid-template-columns:repeat(3,1fr)}.mini{display:none}}
"""

_SCRIPT = """
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll('.filter input[type=checkbox]'));
  var items = Array.prototype.slice.call(document.querySelectorAll('ol.items > li'));
  var shown = document.getElementById('shown');
  var none = document.getElementById('none');
  function apply() {
    var on = {};
    boxes.forEach(function (box) { on[box.value] = box.checked; });
    var count = 0;
    items.forEach(function (item) {
      var visible = !!on[item.getAttribute('data-verdict')];
      item.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = 'showing ' + count + ' of ' + items.length;
    none.hidden = count !== 0;
  }
  function only(verdict) {
    boxes.forEach(function (box) { box.checked = verdict === null || box.value === verdict; });
    apply();
  }
  boxes.forEach(function (box) { box.addEventListener('change', apply); });
  Array.prototype.forEach.call(document.querySelectorAll('[data-only]'), function (el) {
    el.addEventListener('click', function () {
      var verdict = el.getAttribute('data-only');
      only(verdict === '*' ? null : verdict);
      if (el.classList.contains('tile')) { document.getElementById('interactions').scrollIntoView(); }
    });
  });
  apply();
  document.documentElement.setAttribute('data-ready', 'yes');
})();
"""


def _h(text: object) -> str:
    return html.escape(str(text), quote=True)


def _c(verdict: str) -> str:
    return f' style="--c:{_COLOURS[verdict]}"'


def _finding_html(finding: Finding, *, deciding: bool) -> str:
    quirk = f' <span class="quirk">quirk {_h(finding.quirk)}</span>' if finding.quirk else ""
    badge = '<span class="decides">decides</span>' if deciding else ""
    return (
        f'<li{" class=deciding" if deciding else ""}>{badge}<span class="kind">{_h(finding.kind)}</span>'
        f"<code>{_h(_pointer(finding))}</code> {_h(finding.message)}{quirk}</li>"
    )


def _item_html(position: int, verdict: Verdict, report: CheckReport) -> str:
    key = (verdict.source, verdict.index)
    expected = report.expected.get(key) == verdict.verdict and verdict.verdict not in ("conforms", "skipped")
    what = " ".join(x for x in (verdict.operation or "", verdict.model or "") if x)
    head = [
        f'<span class="badge">{_h(verdict.verdict)}</span>',
        f"<code>{_h(verdict.where)}</code>",
        f'<span class="meta">{_h(verdict.provider)}{" · " + _h(what) if what else ""}</span>',
        f'<span class="meta">{_h(verdict.method)} {verdict.status}'
        + ("" if verdict.outcome is None else f" → {_h(_outcome_text(verdict))}")
        + "</span>",
    ]
    if expected:
        head.append('<span class="expected">expected</span>')
    body: list[str] = []
    if verdict.verdict == "skipped":
        body.append(f'<p class="reason">{_h(verdict.reason)}</p>')
    else:
        deciding, rest = fold(verdict)
        entries = [_finding_html(deciding, deciding=True)] if deciding is not None else []
        for entry in rest:
            if isinstance(entry, Fold):
                text = entry.text(first=not entries)
                entries.append(f'<li><span class="kind">{_h(entry.kind)}</span>{_h(text)}</li>')
            else:
                entries.append(_finding_html(entry, deciding=False))
        if entries:
            body.append(f'<ul class="findings">{"".join(entries)}</ul>')
    found = report.previews.get(key)
    if found is not None:
        body.append(
            "<details><summary>request and answer (scrubbed, truncated)</summary>"
            f"<p><code>{_h(found.request)}</code></p><pre>{_h(found.request_body)}</pre>"
            f"<p><code>{_h(found.answer)}</code></p><pre>{_h(found.answer_body)}</pre></details>"
        )
    return (
        f'<li class="item" data-verdict="{verdict.verdict}" id="i{position}"'
        f'{_c(verdict.verdict)}><div class="head">{"".join(head)}</div>{"".join(body)}</li>'
    )


def _bar(counts: Counter[str], total: int, css: str) -> str:
    if not total:
        return f'<div class="{css}"></div>'
    spans = "".join(
        f'<span title="{counts[name]} {name}" style="width:{100 * counts[name] / total:.2f}%;background:{_COLOURS[name]}">'
        "</span>"
        for name in _COLUMNS
        if counts.get(name)
    )
    return f'<div class="{css}">{spans}</div>'


def _status_html(report: CheckReport) -> str:
    code = report.exit_code()
    unexpected = len(report.unexpected_violations())
    if code == exits.OK:
        known = len(report.known_violations & {(v.source, v.index) for v in report.verdicts})
        violations = f"the {known} violation(s) are all declared by expectation files" if known else "no violation"
        return f'<div class="status ok">Exit status 0: {violations}, nothing unreadable, every expectation met.</div>'
    problems: list[str] = []
    if unexpected:
        problems.append(f"<li>{unexpected} violation(s) no expectation declares</li>")
    problems += [f"<li>unreadable input: {_h(e)}</li>" for e in report.load_errors]
    problems += [f"<li>expectation mismatch: {_h(m)}</li>" for m in report.mismatches]
    problems += [f"<li>unreachable: {_h(u)}</li>" for u in report.unreachable]
    return f'<div class="status fail"><strong>Exit status {int(code)}</strong><ul>{"".join(problems)}</ul></div>'


def _subtitle(report: CheckReport, total: int, sources: int) -> str:
    text = f"{total} interaction{'s' if total != 1 else ''} from {sources} recording{'s' if sources != 1 else ''}"
    known = len(report.known_violations & {(v.source, v.index) for v in report.verdicts})
    if known:
        text += f"; {known} violation{'s' if known != 1 else ''} expected by the expectation files"
    return text


def render_html(report: CheckReport, *, show_all: bool = False) -> str:
    """One self-contained page: inline CSS and script, nothing fetched."""
    counts = report.counts()
    total = len(report.verdicts)
    sources = len({v.source for v in report.verdicts})
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>imagewire check: {_h(summary_line(report))}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>imagewire check</h1>",
        f'<p class="sub">{_h(_subtitle(report, total, sources))}</p>',
        '<section class="band" aria-label="verdict counts">',
    ]
    for name in _COLUMNS:
        zero = "" if counts.get(name) else " zero"
        out.append(
            f'<button type="button" class="tile{zero}" data-only="{name}" data-count="{counts.get(name, 0)}"'
            f'{_c(name)} title="show only {name}"><span class="n">{counts.get(name, 0)}</span>'
            f'<span class="l">{name}</span></button>'
        )
    out.append("</section>")
    out.append(_bar(counts, total, "bar"))
    out.append(_status_html(report))
    out.append("<h2>Provider &times; operation &times; model</h2>")
    out.append('<div class="scroll"><table class="matrix"><thead><tr><th>provider</th><th>operation</th><th>model</th>')
    out += [f'<th class="n">{name}</th>' for name in _COLUMNS]
    out.append("<th></th></tr></thead><tbody>")
    previous = None
    for (p, o, m), row in matrix(report.verdicts).items():
        cells = "".join(
            f'<td class="n"><span class="pill"{_c(name)}>{row[name]}</span></td>'
            if row.get(name)
            else '<td class="n zero">0</td>'
            for name in _COLUMNS
        )
        first = p != previous
        previous = p
        provider = f'<td class="first">{_h(p)}</td>' if first else f'<td title="{_h(p)}"></td>'
        out.append(
            f"<tr{' class=group' if first else ''}>{provider}<td>{_h(o)}</td><td><code>{_h(m)}</code></td>"
            f"{cells}<td>{_bar(row, sum(row.values()), 'mini')}</td></tr>"
        )
    out.append("</tbody></table></div>")
    out.append('<h2 id="interactions">Interactions</h2>')
    out.append('<div class="filter" role="group" aria-label="filter by verdict"><span>Show:</span>')
    default = set(_COLUMNS) if show_all else set(_COLUMNS) - {"conforms"}
    for name in _COLUMNS:
        checked = " checked" if name in default else ""
        out.append(
            f'<label{_c(name)}><input type="checkbox" value="{name}"{checked}><span class="dot"></span>'
            f"{name} ({counts.get(name, 0)})</label>"
        )
    out.append('<button type="button" data-only="*">all</button><span class="shown" id="shown"></span></div>')
    out.append('<p class="none" id="none" hidden>No interaction has the verdicts chosen.</p>')
    out.append('<ol class="items">')
    out += [_item_html(position, verdict, report) for position, verdict in enumerate(report.verdicts, 1)]
    out.append("</ol>")
    out.append(f"</main><script>{_SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"
