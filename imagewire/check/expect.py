"""Expectations beside recordings: ``<name>.expect.yaml`` says what replaying ``<name>.yaml`` must give.

::

    # Expected verdicts of replaying bothub-dalle3.yaml (imagewire check --replay).
    provider: bothub            # optional: the provider whose quirks apply (as --provider; default: from the host)
    interactions:
    - interaction: 1                       # its place in the recording, counted from 1 (as reports name it: file#1)
      note: seed 000, 2025-06-12          # free text
      verdict: conforms                    # conforms | quirk | deviation | violation | skipped
      result: {images: 1}                  # the client parsed it: images (and events, for a stream)
      findings: []                         # optional: the JSON pointers of the response findings, exactly
    - interaction: 2
      verdict: violation
      error: ResponseContractError         # the client raised this (class name)
      findings: [/data]

Every interaction of the recording needs an entry and every entry an interaction; a difference in
verdict, outcome or (when listed) finding pointers is a :class:`Mismatch`. An expected ``violation`` is
a known one: ``imagewire check`` does not fail on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from imagewire.check.verdict import VERDICTS, Verdict
from imagewire.record.recordings import EXPECT_SUFFIX

__all__ = ["Expectations", "Expected", "Mismatch", "compare", "expectation_path", "load", "render", "write"]


@dataclass
class Expected:
    index: int
    verdict: str
    note: str = ""
    result: dict[str, int] | None = None
    error: str | None = None
    findings: list[str] | None = None


@dataclass
class Expectations:
    path: Path
    provider: str | None = None
    entries: dict[int, Expected] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def expected(self, index: int) -> Expected | None:
        return self.entries.get(index)


@dataclass(frozen=True)
class Mismatch:
    source: str
    index: int | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.index is None else f"{self.source}#{self.index + 1}"
        return f"{where}: {self.message}"


def expectation_path(recording: str | os.PathLike[str]) -> Path:
    """``x.yaml`` / ``x.yml`` / ``x.har`` / ``x.json`` -> ``x.expect.yaml`` beside it."""
    path = Path(recording)
    return path.with_name(path.stem + EXPECT_SUFFIX)


def load(recording: str | os.PathLike[str]) -> Expectations | None:
    """The expectations beside a recording, or ``None`` when it has none. Problems land in ``errors``."""
    path = expectation_path(recording)
    if not path.is_file():
        return None
    found = Expectations(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        found.errors.append(f"{path}: cannot read: {err}")
        return found
    if not isinstance(data, dict):
        found.errors.append(f"{path}: must be a mapping with 'interactions'")
        return found
    provider = data.get("provider")
    found.provider = provider if isinstance(provider, str) and provider else None
    entries = data.get("interactions")
    if not isinstance(entries, list):
        found.errors.append(f"{path}: 'interactions' must be a list")
        return found
    for position, entry in enumerate(entries):
        problem = _entry(entry, found)
        if problem:
            found.errors.append(f"{path} entry {position + 1}: {problem}")
    return found


def _entry(entry: Any, found: Expectations) -> str | None:
    if not isinstance(entry, dict):
        return "must be a mapping"
    if "index" in entry:
        return "'index' (counted from 0) is now 'interaction', counted from 1 as reports number them"
    number, verdict = entry.get("interaction"), entry.get("verdict")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        return f"'interaction' must be a number from 1, got {number!r}"
    index = number - 1
    if index in found.entries:
        return f"interaction {number} is listed twice"
    if verdict not in VERDICTS:
        return f"'verdict' must be one of {', '.join(VERDICTS)}, got {verdict!r}"
    result, error, findings = entry.get("result"), entry.get("error"), entry.get("findings")
    if result is not None and not (isinstance(result, dict) and all(isinstance(v, int) for v in result.values())):
        return "'result' must map images/events to integers"
    if error is not None and not isinstance(error, str):
        return "'error' must be an exception class name"
    if findings is not None and not (isinstance(findings, list) and all(isinstance(p, str) for p in findings)):
        return "'findings' must be a list of JSON pointers"
    found.entries[index] = Expected(index, verdict, str(entry.get("note") or ""), result, error, findings)
    return None


def _pointers(verdict: Verdict) -> list[str]:
    return sorted({f.pointer for f in verdict.response_findings})


def compare(expectations: Expectations, verdicts: list[Verdict], source: str) -> list[Mismatch]:
    """Where ``verdicts`` (of one recording) differ from ``expectations``."""
    out = [Mismatch(source, None, message) for message in expectations.errors]
    seen: set[int] = set()
    for verdict in verdicts:
        seen.add(verdict.index)
        expected = expectations.expected(verdict.index)
        if expected is None:
            out.append(Mismatch(source, verdict.index, f"no expectation (got {verdict.verdict})"))
            continue
        if verdict.verdict != expected.verdict:
            out.append(Mismatch(source, verdict.index, f"verdict {verdict.verdict}, expected {expected.verdict}"))
        outcome = verdict.outcome
        if expected.error is not None:
            got = outcome.error if outcome is not None and outcome.kind == "error" else None
            if got != expected.error:
                out.append(
                    Mismatch(
                        source, verdict.index, f"client outcome {_outcome(verdict)}, expected error {expected.error}"
                    )
                )
        if expected.result is not None:
            if outcome is None or outcome.kind == "error":
                out.append(Mismatch(source, verdict.index, f"client outcome {_outcome(verdict)}, expected a result"))
            else:
                got_values = {"images": outcome.images, "events": outcome.events}
                for key, value in expected.result.items():
                    if got_values.get(key) != value:
                        out.append(
                            Mismatch(
                                source, verdict.index, f"client result {key}={got_values.get(key)}, expected {value}"
                            )
                        )
        if expected.findings is not None and sorted(set(expected.findings)) != _pointers(verdict):
            out.append(
                Mismatch(
                    source,
                    verdict.index,
                    f"findings at {_pointers(verdict)}, expected at {sorted(set(expected.findings))}",
                )
            )
    for index in sorted(set(expectations.entries) - seen):
        out.append(Mismatch(source, index, "expected an interaction that the recording does not have"))
    return out


def _outcome(verdict: Verdict) -> str:
    outcome = verdict.outcome
    if outcome is None:
        return "none"
    if outcome.kind == "error":
        return f"error {outcome.error}"
    return f"{outcome.kind} with {outcome.images} image(s)"


def render(
    verdicts: list[Verdict], *, provider: str | None = None, notes: dict[int, str] | None = None, name: str = ""
) -> str:
    """The text of an expectation file that the given verdicts satisfy (notes kept from an older file)."""
    entries = []
    for verdict in verdicts:
        entry: dict[str, Any] = {"interaction": verdict.number}
        note = (notes or {}).get(verdict.index)
        if note:
            entry["note"] = note
        entry["verdict"] = verdict.verdict
        outcome = verdict.outcome
        if outcome is not None and outcome.kind == "error":
            entry["error"] = outcome.error
        elif outcome is not None:
            result = {"images": outcome.images or 0}
            if outcome.events is not None:
                result["events"] = outcome.events
            entry["result"] = result
        entry["findings"] = _pointers(verdict)
        entries.append(entry)
    data: dict[str, Any] = {}
    if provider:
        data["provider"] = provider
    data["interactions"] = entries
    header = f"# Expected verdicts of replaying {name} (imagewire check --replay).\n" if name else ""
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)


def write(recording: str | os.PathLike[str], verdicts: list[Verdict], *, provider: str | None = None) -> Path:
    """Write (or rewrite, keeping its notes and provider) the expectation file of ``recording``."""
    old = load(recording)
    notes = {index: e.note for index, e in old.entries.items() if e.note} if old is not None else {}
    keep_provider = provider or (old.provider if old is not None else None)
    path = expectation_path(recording)
    path.write_text(render(verdicts, provider=keep_provider, notes=notes, name=Path(recording).name), encoding="utf-8")
    return path
