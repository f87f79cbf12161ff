"""``imagewire check``: judge traffic against the spec and the generated client.

``--replay PATH`` reads recordings (a VCR cassette, a HAR file, or a folder of them, recursively) and
prints a matrix provider x operation x model with verdict counts, then every interaction that does not
conform (``--all``: every interaction), named ``file#N`` with N counted from 1, its findings ordered by
consequence (the deciding one first, the rest folded by kind), and the skipped ones with why.
``--show-body`` adds each request and answer, scrubbed and truncated. ``--json`` / ``--markdown`` print
the report as JSON / Markdown instead (as every command's ``--json`` prints JSON); ``--json-out FILE`` /
``--markdown-out FILE`` / ``--html-out FILE`` write it to files. The spellings of earlier versions
(``--json FILE``, ``--markdown FILE``, ``--html FILE``) are refused in one line naming the new one.

Exit status (:mod:`imagewire.exits`): 0 when nothing is a violation (conforming
answers, declared quirks and deviations); 1 on a violation or a verdict that differs from the expectation
file beside its recording (``<name>.expect.yaml``; violations an expectation declares, or all of them with
``--allow-violations``, do not fail the check); 2 on unreadable or invalid input (a missing file, one that
is not a cassette or HAR, a broken expectation file) or a bad command line; 3 when a live provider cannot be
reached. The highest applies.

The judging is :func:`check_interactions`: anything that yields
:class:`~imagewire.record.recordings.Interaction` values goes through the same validator, replaying client
and provider catalog.

``--live --provider P`` (or ``--base-url URL``, or both) probes a provider instead (:mod:`imagewire.check.live`):
a plan from the catalogs (each operation x each model it serves, one model per family where it takes any,
at the cheapest size, plus free error probes: a bad size, a bad key), printed with each probe's price
estimate before anything is sent; paid probes are sent while they fit in ``--budget USD`` (default 0:
free probes only; unknown prices only with ``--budget`` and ``--allow-unknown-prices``). Everything sent
is recorded, scrubbed, into ``--record DIR`` (default ``imagewire-checks/<time>-<provider>/``) and judged
as a replay of that cassette would be; a probe that does not get what it expects (an image; 400 / 401 with
the error envelope) is a mismatch. The key comes from ``--api-key`` or the provider's key variable and is
never printed; ``--setting NAME=VALUE`` passes provider settings (Azure: resource, deployment, api_version).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from imagewire import exits
from imagewire.check import expect as expectations
from imagewire.check.report import CheckReport, print_terminal, render_html, render_json, render_markdown
from imagewire.check.verdict import Judge
from imagewire.cli.common import cli_words
from imagewire.cli.options import Connection, SpecOpt, resolve_key, spec_path, with_connection
from imagewire.record.recordings import Interaction, LoadError, discover, load

__all__ = ["app", "check", "check_interactions", "check_paths", "main"]


def check_interactions(
    interactions: Iterable[Interaction],
    *,
    provider: str | None = None,
    judge: Judge | None = None,
    report: CheckReport | None = None,
) -> CheckReport:
    """Judge interactions (from recordings or a live probe) into a report."""
    judge = judge or Judge()
    report = report if report is not None else CheckReport()
    report.verdicts += judge.judge_all(interactions, provider)
    return report


def check_paths(
    paths: Sequence[str | Path],
    *,
    provider: str | None = None,
    judge: Judge | None = None,
    use_expectations: bool = True,
    write_expectations: bool = False,
    show_body: bool = False,
) -> CheckReport:
    """Read every recording under ``paths``, judge it, and compare with the expectations beside it
    (``show_body``: keep each request and answer, scrubbed and truncated, for the report)."""
    judge = judge or Judge()
    report = CheckReport()
    for path in paths:
        files = discover(path)
        if not files:
            report.load_errors.append(LoadError(str(path), None, "no recordings (*.yaml, *.yml, *.har, *.json)"))
        for file in files:
            recording = load(file)
            report.load_errors += recording.errors
            if show_body:
                report.add_previews(recording.interactions)
            known = expectations.load(file) if use_expectations else None
            chosen = provider or (known.provider if known is not None else None)
            verdicts = judge.judge_all(recording.interactions, chosen)
            report.verdicts += verdicts
            if write_expectations and recording.interactions and not recording.errors:
                expectations.write(file, verdicts, provider=known.provider if known is not None else provider)
                continue
            if known is None:
                continue
            if known.errors:  # a broken expectation file is invalid input, not a mismatch
                report.load_errors += [LoadError(str(known.path), None, error) for error in known.errors]
                continue
            report.mismatches += expectations.compare(known, verdicts, recording.source)
            for index, entry in known.entries.items():
                report.expected[(recording.source, index)] = entry.verdict
                if entry.verdict == "violation":
                    report.known_violations.add((recording.source, index))
    return report


def _operations(values: list[str] | None) -> list[str] | None:
    """``--operation``: each one an operation of the spec."""
    from imagewire_client.catalog import OPERATIONS

    for value in values or ():
        if value not in OPERATIONS:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(OPERATIONS)}")
    return values


@dataclass
class Args:
    """One ``imagewire check`` command line."""

    connection: Connection
    replay: list[str] = field(default_factory=list)
    live: bool = False
    budget: float | None = None
    allow_unknown_prices: bool = False
    prices_from: str | None = None
    model: list[str] | None = None
    operation: list[str] | None = None
    record: str | None = None
    timeout: float = 120.0
    plan_only: bool = False
    spec: str | None = None
    #: the report on stdout instead of the text report: "json" or "markdown" (``--json`` / ``--markdown``)
    print_as: str | None = None
    json_out: str | None = None
    markdown_out: str | None = None
    html_out: str | None = None
    allow_violations: bool = False
    no_expectations: bool = False
    write_expectations: bool = False
    quiet: bool = False
    all: bool = False
    show_body: bool = False


app = typer.Typer(add_completion=False)
_LIVE = "Live probes (--live)"
_REPORT = "Reports"


@app.command(
    "check",
    help="Judge recorded traffic (--replay) or a live provider (--live) against the spec and the generated client.",
    epilog=exits.SUMMARY,
)
@with_connection(
    provider_help="the provider: the preset --live probes, and whose declared quirks apply (default for --replay: "
    "guessed from the host)"
)
def check(
    connection: Connection,
    replay: Annotated[
        list[str] | None,
        typer.Option(
            "--replay",
            metavar="PATH",
            help="a VCR cassette, a HAR file, or a folder of them (recursively); repeatable",
            show_default=False,
        ),
    ] = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="probe a provider (--provider and/or --base-url) and judge its answers",
            rich_help_panel=_LIVE,
        ),
    ] = False,
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            metavar="USD",
            min=0,
            help="spending cap for paid probes, by the catalog's estimates (default 0: free probes only)",
            rich_help_panel=_LIVE,
            show_default=False,
        ),
    ] = None,
    allow_unknown_prices: Annotated[
        bool,
        typer.Option(
            "--allow-unknown-prices",
            help="with --budget: also send paid probes whose price the catalog does not know",
            rich_help_panel=_LIVE,
        ),
    ] = False,
    prices_from: Annotated[
        str | None,
        typer.Option(
            "--prices-from",
            metavar="NAME",
            help="price the probes with this provider's price table (e.g. local for the reference server)",
            rich_help_panel=_LIVE,
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            metavar="MODEL",
            help="probe only this model (repeatable; default: the catalog's)",
            rich_help_panel=_LIVE,
            show_default=False,
        ),
    ] = None,
    operation: Annotated[
        list[str] | None,
        typer.Option(
            "--operation",
            metavar="NAME",
            help="probe only this operation (repeatable): generations, edits, variations",
            callback=_operations,
            rich_help_panel=_LIVE,
            show_default=False,
        ),
    ] = None,
    record: Annotated[
        str | None,
        typer.Option(
            "--record",
            metavar="DIR",
            help="where the scrubbed cassette goes (default: imagewire-checks/<time>-<provider>/)",
            rich_help_panel=_LIVE,
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="read timeout of a probe", rich_help_panel=_LIVE)
    ] = 120.0,
    plan_only: Annotated[
        bool, typer.Option("--plan-only", help="print the plan and send nothing", rich_help_panel=_LIVE)
    ] = False,
    spec: SpecOpt = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="print the report as JSON (one entry per interaction) instead", rich_help_panel=_REPORT
        ),
    ] = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="print the report as Markdown instead", rich_help_panel=_REPORT)
    ] = False,
    json_out: Annotated[
        str | None,
        typer.Option(
            "--json-out", metavar="FILE", help="write the report as JSON", rich_help_panel=_REPORT, show_default=False
        ),
    ] = None,
    markdown_out: Annotated[
        str | None,
        typer.Option(
            "--markdown-out",
            metavar="FILE",
            help="write the report as Markdown",
            rich_help_panel=_REPORT,
            show_default=False,
        ),
    ] = None,
    html_out: Annotated[
        str | None,
        typer.Option(
            "--html-out",
            metavar="FILE",
            help="write the report as one self-contained HTML page",
            rich_help_panel=_REPORT,
            show_default=False,
        ),
    ] = None,
    allow_violations: Annotated[
        bool, typer.Option("--allow-violations", help="exit 0 even when there are violations")
    ] = False,
    no_expectations: Annotated[
        bool, typer.Option("--no-expectations", help="ignore the <name>.expect.yaml files beside recordings")
    ] = False,
    write_expectations: Annotated[
        bool,
        typer.Option(
            "--write-expectations",
            help="(re)write <name>.expect.yaml beside each recording from the verdicts it gets now (notes are kept)",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the summary line")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="list every interaction, the conforming ones too")] = False,
    show_body: Annotated[
        bool, typer.Option("--show-body", help="show each listed request and answer (scrubbed, truncated)")
    ] = False,
) -> int:
    if live and replay:
        raise typer.BadParameter("--replay and --live do not go together", param_hint="'--live'")
    if not live and not replay:
        raise typer.BadParameter("one of --replay PATH or --live is required", param_hint="'--replay'")
    if as_json and as_markdown:
        raise typer.BadParameter("--json and --markdown do not go together", param_hint="'--markdown'")
    try:
        document = str(spec_path(spec))
    except FileNotFoundError as err:
        raise typer.BadParameter(str(err), param_hint="'--spec'") from None
    args = Args(
        connection,
        replay=list(replay or ()),
        live=live,
        budget=budget,
        allow_unknown_prices=allow_unknown_prices,
        prices_from=prices_from,
        model=model,
        operation=operation,
        record=record,
        timeout=timeout,
        plan_only=plan_only,
        spec=document,
        print_as="json" if as_json else "markdown" if as_markdown else None,
        json_out=json_out,
        markdown_out=markdown_out,
        html_out=html_out,
        allow_violations=allow_violations,
        no_expectations=no_expectations,
        write_expectations=write_expectations,
        quiet=quiet,
        all=show_all,
        show_body=show_body,
    )
    if args.live:
        return _main_live(args)
    try:
        judge = Judge(spec_path=args.spec)
    except Exception as err:  # a broken spec: say so, do not trace
        print(f"imagewire check: cannot load the spec: {err}", file=sys.stderr)
        return exits.USAGE
    report = check_paths(
        args.replay,
        provider=connection.provider,
        judge=judge,
        use_expectations=not args.no_expectations,
        write_expectations=args.write_expectations,
        show_body=args.show_body,
    )
    report.allow_violations = args.allow_violations
    _write_reports(args, report)
    if args.print_as:
        print(_render(args, args.print_as, report), end="")
    elif args.quiet:
        from imagewire.check.report import summary_line

        print(summary_line(report))
        for error in report.load_errors:
            print(f"unreadable: {error}")
        for mismatch in report.mismatches:
            print(f"mismatch: {mismatch}")
    else:
        print_terminal(report, sys.stdout, show_all=args.all)
    return report.exit_code()


def main(argv: Sequence[str] | None = None) -> int:
    """``imagewire check ARGV...`` (for scripts): the exit status."""
    from imagewire.cli import run

    return run("check", argv)


def report_usage_error(err: typer.TyperException, args: Sequence[str]) -> int:
    """A usage error; one that comes of an earlier version's spelling (``--json FILE``) says what it is now."""
    from imagewire.cli import print_usage_error

    old = old_spelling(args)
    if old is None:
        return print_usage_error(err, args)
    print(f"error: {old}", file=sys.stderr)
    return exits.USAGE


#: the report files' options of earlier versions -> what writes that file now
_RENAMED = {"--json": "--json-out", "--markdown": "--markdown-out", "--html": "--html-out"}


def old_spelling(args: Sequence[str]) -> str | None:
    """What an earlier version's report option in ``args`` is now spelled (``--json FILE`` -> ``--json-out
    FILE``), or ``None`` when there is none."""
    for index, arg in enumerate(args):
        option, equals, value = arg.partition("=")
        if option not in _RENAMED:
            continue
        if not equals:
            following = args[index + 1] if index + 1 < len(args) else ""
            if option != "--html" and (not following or following.startswith("-")):
                continue  # the flag, as it is now
            value = following or "FILE"
        now = "there is no --html" if option == "--html" else f"{option} prints the report on stdout"
        return f"{option} takes no file name: {now}; write the file with {_RENAMED[option]} {value}"
    return None


_RENDERERS: dict[str, Callable[..., str]] = {"markdown": render_markdown, "html": render_html}


def _render(args: Args, kind: str, report: CheckReport, extra: dict[str, Any] | None = None) -> str:
    """The report as ``kind`` (json, markdown, html); ``extra`` keys join the JSON document."""
    if kind == "json":
        text = render_json(report)
        return text if extra is None else json.dumps(json.loads(text) | extra, indent=2, ensure_ascii=False) + "\n"
    return functools.partial(_RENDERERS[kind], show_all=args.all)(report)


def _write_reports(args: Args, report: CheckReport, extra: dict[str, Any] | None = None) -> None:
    for kind, target in (("json", args.json_out), ("markdown", args.markdown_out), ("html", args.html_out)):
        if target:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_render(args, kind, report, extra), encoding="utf-8")


# ---------------------------------------------------------------- --live


def _main_live(args: Args) -> int:
    from imagewire.check import live
    from imagewire.cli.common import Redactor
    from imagewire_client import ImagewireError
    from imagewire_client.catalog import PROVIDERS

    def fail(message: str) -> int:
        print(redact(f"imagewire check: {cli_words(message)}"), file=sys.stderr)
        return exits.USAGE

    connection = args.connection
    redact = Redactor(connection.api_key)
    provider: str | None = connection.provider or ("generic" if connection.base_url else None)
    if provider is None:
        return fail("--live needs --provider NAME or --base-url URL")
    api_key = resolve_key(provider, connection.api_key)
    redact.add(api_key)
    if args.prices_from and args.prices_from not in PROVIDERS:
        return fail(f"unknown provider {args.prices_from!r} for --prices-from; known: {', '.join(PROVIDERS)}")
    if PROVIDERS[provider].base_url is None and not connection.base_url:
        return fail(f"provider {provider!r} has no fixed address: pass --base-url URL")
    if args.allow_unknown_prices and args.budget is None:
        return fail("--allow-unknown-prices needs --budget USD (the cap still applies to known prices)")
    settings = dict(connection.settings)
    plan = live.build_plan(
        provider,
        models=args.model,
        operations=args.operation,
        prices_from=args.prices_from,
        key_in_use=api_key is not None,
        deployment=settings.get("deployment"),
    )
    budget = args.budget if args.budget is not None else 0.0
    decisions = live.decide(
        plan, budget=budget, budget_given=args.budget is not None, allow_unknown=args.allow_unknown_prices
    )
    where = connection.base_url or PROVIDERS[provider].base_url or "?"
    for name, value in settings.items():
        where = where.replace("{" + name + "}", value)
    talk = sys.stderr if args.print_as else sys.stdout  # with --json / --markdown, stdout holds the report alone
    print(redact(live.render_plan(plan, decisions, budget=budget, where=where)), file=talk, flush=True)
    if args.plan_only:
        return exits.OK
    if not any(d.send for d in decisions):
        print("nothing to send", file=talk)
        return exits.OK
    try:
        judge = Judge(spec_path=args.spec)
    except Exception as err:  # a broken spec: say so, do not trace
        return fail(f"cannot load the spec: {err}")
    record_dir = Path(args.record) if args.record else live.default_record_dir(provider)
    try:
        run = live.run_plan(
            plan,
            decisions,
            base_url=connection.base_url,
            api_key=api_key,
            settings=settings,
            record_dir=record_dir,
            transport=LIVE_TRANSPORT,
            timeout=args.timeout,
            out=None if args.quiet else talk,
            redact=redact,
        )
    except ImagewireError as problem:  # no key, a missing setting: nothing was sent
        return fail(str(problem))
    report = check_interactions(run.interactions, provider=provider, judge=judge)
    if args.show_body:
        report.add_previews(run.interactions)
    live.apply(run, report)
    extra = {"live": _live_json(run)}
    report.allow_violations = args.allow_violations
    _write_reports(args, report, extra)
    if args.print_as:  # scrubbed as recorded, as the text report is
        print(_render(args, args.print_as, report, extra), end="")
    elif args.quiet:
        from imagewire.check.report import summary_line

        print(redact(summary_line(report)))
        for mismatch in report.mismatches:
            print(redact(f"mismatch: {mismatch}"))
        for unreachable in report.unreachable:
            print(redact(f"unreachable: {unreachable}"))
    else:  # what is shown was recorded, and so scrubbed (the key included, by value)
        print_terminal(report, sys.stdout, show_all=args.all)
    known, unknown = run.spent()
    money = f"${known:.3f}" + (f" + {unknown} probe(s) at unknown prices" if unknown else "")
    skipped = sum(1 for d in decisions if not d.send)
    where_to = run.cassette if run.cassette is not None else "nothing recorded"
    print(
        f"{len(run.sent)} probe(s) sent in {run.seconds:.1f} s, estimated spend {money}; {skipped} skipped; "
        f"recorded (scrubbed) to {where_to}",
        file=talk,
    )
    return report.exit_code()


#: A seam for tests: when set, live probes go through this transport instead of the network.
LIVE_TRANSPORT: httpx.BaseTransport | None = None


def _live_json(run: Any) -> dict[str, Any]:
    known, unknown = run.spent()
    return {
        "provider": run.plan.provider,
        "prices_from": run.plan.prices_from,
        "cassette": str(run.cassette) if run.cassette is not None else None,
        "notes": list(run.plan.notes),
        "estimated_spend_usd": round(known, 6),
        "unknown_price_probes": unknown,
        "seconds": round(run.seconds, 3),
        "probes": [
            {
                "number": r.probe.number,
                "name": r.probe.name,
                "kind": r.probe.kind,
                "operation": r.probe.operation,
                "model": r.probe.model,
                "expect": r.probe.expect,
                "estimate_usd": r.probe.estimate.usd if r.probe.estimate is not None else None,
                "sent": r.sent,
                "skipped": next((d.reason for d in run.decisions if d.probe is r.probe and not d.send), None),
                "interactions": [i + 1 for i in r.indexes],
                "client": r.client,
                "problem": r.problem,
            }
            for r in run.results
        ],
    }
