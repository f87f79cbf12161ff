"""``imagewire drift``: compare spec/ with the installed openai SDK's image types and official OpenAPI documents.

Exit status: 0 when every difference is explained (a waiver in the spec, or a newer source that states it),
1 when something is unexplained, 2 when a source (or the spec) cannot be read.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from imagewire import exits
from imagewire.cli.options import SpecOpt
from imagewire.generator.surface import Surface, from_openapi

from .compare import Item, compare, explain

__all__ = ["Report", "app", "drift", "main", "run"]

EXIT_CLEAN, EXIT_DRIFT, EXIT_UNREADABLE = exits.OK, exits.FAILED, exits.USAGE


class Unreadable(Exception):
    """A source cannot be read."""


@dataclass
class Report:
    spec: str
    sources: list[str]
    items: list[Item] = field(default_factory=list)
    unused_waivers: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unexplained(self) -> list[Item]:
        return [i for i in self.items if not i.explained]

    @property
    def explained(self) -> list[Item]:
        return [i for i in self.items if i.explained]

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "sources": self.sources,
            "unexplained": len(self.unexplained),
            "explained": len(self.explained),
            "items": [i.as_dict() for i in self.items],
            "unused_waivers": self.unused_waivers,
        }

    def text(self, *, everything: bool = False) -> str:
        lines = [f"drift: {self.spec} against {', '.join(self.sources)}"]
        if self.unexplained:
            lines.append(f"{len(self.unexplained)} unexplained:")
            lines += [f"  {i}" for i in self.unexplained]
        else:
            lines.append("0 unexplained")
        lines.append(f"{len(self.explained)} explained" + ("" if everything else " (--all lists them)"))
        if everything:
            lines += [f"  {i}\n      because: {i.explained}" for i in self.explained]
        for waiver in self.unused_waivers:
            lines.append(f"unused waiver (matches nothing; remove it?): {_waiver_text(waiver)}")
        return "\n".join(lines)

    def markdown(self, *, everything: bool = False) -> str:
        lines = [
            f"## Drift: `{self.spec}` against {', '.join(f'`{s}`' for s in self.sources)}",
            "",
            f"{len(self.unexplained)} unexplained, {len(self.explained)} explained.",
            "",
        ]
        shown = self.items if everything else self.unexplained
        if shown:
            lines += [
                "| source | kind | aspect | where | value | spec | upstream | explained |",
                "|---|---|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {i.source} | {i.kind} | {i.aspect} | `{i.where}` | {i.value} | {i.ours} | {i.theirs} | "
                f"{i.explained.replace('|', '/')} |"
                for i in shown
            ]
        if self.unused_waivers:
            lines += ["", "Unused waivers:", ""] + [f"- {_waiver_text(w)}" for w in self.unused_waivers]
        return "\n".join(lines)


def _waiver_text(waiver: dict[str, Any]) -> str:
    where = waiver.get("field") or waiver.get("match") or "*"
    reason = " ".join(str(waiver.get("reason", "")).split())
    return f"{where}: {reason}"


def read_document(location: str) -> tuple[dict[str, Any], str]:
    """An OpenAPI document from a path or an http(s) URL, and a name for it (``openapi <info.version>``)."""
    import yaml

    try:
        if location.startswith(("http://", "https://")):
            from urllib.request import urlopen

            with urlopen(location, timeout=60) as answer:
                text = answer.read().decode("utf-8")
        else:
            text = Path(location).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise Unreadable(f"cannot read {location}: {err}") from err
    try:
        loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, Loader=loader)
    except (ValueError, yaml.YAMLError) as err:
        raise Unreadable(f"{location} is neither JSON nor YAML: {str(err).splitlines()[0]}") from err
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise Unreadable(f"{location} is not an OpenAPI document (no paths)")
    version = str((data.get("info") or {}).get("version") or "?")
    return data, f"openapi {version}"


def run(spec_path: Path, documents: Sequence[str] = (), *, sdk: bool = True, sdk_types: Path | None = None) -> Report:
    """Read every source and compare; raises :class:`Unreadable` for a source that cannot be read."""
    from .ours import SpecUnreadable, from_spec
    from .sdk import SDKUnreadable, from_sdk

    start = time.perf_counter()
    try:
        spec = from_spec(spec_path)
    except SpecUnreadable as err:
        raise Unreadable(f"the spec: {err}") from err
    upstream: list[Surface] = []
    if sdk:
        try:
            upstream.append(from_sdk(sdk_types))
        except SDKUnreadable as err:
            raise Unreadable(f"the openai SDK: {err}") from err
    for location in documents:
        data, name = read_document(location)
        surface = from_openapi(data, name)
        if not surface.fields:
            raise Unreadable(f"{location} describes no image operation (no path ending in /images/...)")
        upstream.append(surface)
    items: list[Item] = []
    for source in upstream:
        items += compare(spec, source)
    items, unused = explain(spec, items, upstream)
    return Report(str(spec_path), [s.name for s in upstream], items, unused, time.perf_counter() - start)


app = typer.Typer(add_completion=False)


@app.command(
    "drift",
    help="Compare spec/ with the installed openai SDK's image types and official OpenAPI documents.",
    epilog="Exit codes: 0 nothing unexplained; 1 unexplained drift; 2 a source cannot be read.",
)
def drift(
    spec: SpecOpt = None,
    openapi: Annotated[
        list[str] | None,
        typer.Option(
            "--openapi",
            metavar="PATH|URL",
            help="an official OpenAPI document to compare with as well (repeatable)",
            show_default=False,
        ),
    ] = None,
    no_sdk: Annotated[bool, typer.Option("--no-sdk", help="do not compare with the installed openai package")] = False,
    sdk_types: Annotated[
        Path | None,
        typer.Option(
            "--sdk-types",
            metavar="DIR",
            help="an openai/types folder to read instead of the installed package's",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="print the report as Markdown")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="list explained items too, with their reasons")] = False,
) -> int:
    from imagewire.generator.locate import SpecNotFound, spec_document

    if as_json and markdown:
        raise typer.BadParameter("--json and --markdown do not go together", param_hint="'--markdown'")
    try:
        spec_path = spec_document(spec)
    except SpecNotFound as err:
        print(f"imagewire drift: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    documents = list(openapi or ())
    if no_sdk and not documents:
        print("imagewire drift: nothing to compare with (--no-sdk and no --openapi)", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        report = run(spec_path, documents, sdk=not no_sdk, sdk_types=sdk_types)
    except Unreadable as err:
        print(f"imagewire drift: {err}", file=sys.stderr)
        return EXIT_UNREADABLE
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    elif markdown:
        print(report.markdown(everything=show_all))
    else:
        print(report.text(everything=show_all))
    return EXIT_DRIFT if report.unexplained else EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    """``imagewire drift ARGV...`` (for scripts): the exit status."""
    from imagewire.cli import run as run_command

    return run_command("drift", argv)
