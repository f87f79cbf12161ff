"""``imagewire batch``: a manifest of requests, sent rate-limit aware and journaled; ``status``, ``fetch``, ``cancel``.

    imagewire batch shots.jsonl --out shots/ --provider openai --concurrency 32 --budget 20
    imagewire batch shots.csv --out shots/ --model gpt-image-1.5 --engine openai-batch --wait
    imagewire batch status shots/          # what the journal says (and, for open batches, the provider)
    imagewire batch fetch shots/           # collect finished Batch API results
    imagewire batch cancel shots/ --wait   # stop open Batch API batches; collect what they finished

Exit codes:

====  ==========================================================================================
0     everything done (``openai-batch`` without ``--wait``: submitted)
1     some items failed, are unknown (sent by a run that died, not sent again) or were not sent
      (budget); they are listed
2     the manifest is invalid (every bad line is listed with its number) or the options are;
      nothing was sent
3     the provider is unreachable
130   interrupted (Ctrl-C once: no new request starts, the ones in flight finish; twice: stop now,
      and what was in flight is ``unknown`` to the next run)
====  ==========================================================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from imagewire import exits
from imagewire.cli.common import Redactor
from imagewire.cli.options import ApiKeyOpt, BaseUrlOpt, ProviderOpt

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_UNREACHABLE", "EXIT_USAGE", "main"]

EXIT_OK = exits.OK
EXIT_FAILED = exits.FAILED
EXIT_USAGE = exits.USAGE
EXIT_UNREACHABLE = exits.PROVIDER
EXIT_INTERRUPTED = exits.INTERRUPTED

run_app = typer.Typer(add_completion=False, rich_markup_mode="rich")
status_app = typer.Typer(add_completion=False, rich_markup_mode="rich")
fetch_app = typer.Typer(add_completion=False, rich_markup_mode="rich")
cancel_app = typer.Typer(add_completion=False, rich_markup_mode="rich")

OutOpt = Annotated[Path, typer.Option("--out", help="output folder: journal, images/, report.json, index.html")]


class _Say:
    """Printing with every line redacted; the summary goes to stdout, progress and notes to stderr."""

    def __init__(self, redact: Redactor, *, quiet: bool = False) -> None:
        self.redact = redact
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet

    def __call__(self, text: str, *, err: bool = False, style: str | None = None) -> None:
        (self.err if err else self.out).print(self.redact(text), style=style, markup=False)

    def note(self, text: str) -> None:
        if not self.quiet:
            self(text, err=True)


def _client_options(
    provider: str | None, base_url: str | None, api_key: str | None, model: str | None
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in (("provider", provider), ("base_url", base_url), ("api_key", api_key), ("model", model)):
        if value is not None:
            options[key] = value
    return options


@contextlib.contextmanager
def _bar(say: _Say, progress: Any, *, enabled: bool) -> Iterator[Any]:
    """A rich progress bar: done, failed, in flight, images a minute and spend; refreshed 5 times a second."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("batch"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=say.err,
        disable=not enabled,
        refresh_per_second=5,
    )
    task = bar.add_task("batch", total=progress.total or None, detail="")

    def update() -> None:
        detail = (
            f"done {progress.done} · failed {progress.failed + progress.unknown} · in flight {progress.in_flight}"
            f" · {progress.per_minute():.0f} img/min · ${progress.spent:.3f}"
        )
        bar.update(
            task,
            total=progress.total or None,
            completed=progress.done + progress.failed + progress.unknown,
            detail=detail,
        )

    with bar:
        yield update
        update()


async def _run(
    say: _Say,
    manifest: Path | str,
    out: Path,
    options: dict[str, Any],
    *,
    engine: str,
    concurrency: int,
    budget: float | None,
    retry_unknown: bool,
    retry_failed: bool,
    skip_invalid: bool,
    wait: bool,
    dry_run: bool,
    show_progress: bool,
    as_json: bool,
) -> int:
    from imagewire.batch import BudgetError, Settings, drive, report
    from imagewire.batch.engine import Progress, prepare
    from imagewire.batch.journal import JournalError
    from imagewire.batch.manifest import ManifestError
    from imagewire.batch.openai_batch import EngineError, ProviderError
    from imagewire_client import ImagewireError

    try:
        batch = prepare(manifest, out, client_options=options, skip_invalid=skip_invalid)
    except ManifestError as err:
        say(f"imagewire batch: {err}\nnothing was sent", err=True, style="red")
        return EXIT_USAGE
    except (JournalError, ImagewireError, OSError) as err:
        say(f"imagewire batch: {err}\nnothing was sent", err=True, style="red")
        return EXIT_USAGE
    settings = Settings(engine, concurrency, budget, retry_unknown, retry_failed, wait)
    try:
        for problem in batch.skipped_problems:
            say(f"skipped (--skip-invalid): {problem}", err=True, style="yellow")
        batch.journal.set(client={k: v for k, v in options.items() if k != "api_key"})
        states = batch.states
        todo = batch.todo(retry_unknown=retry_unknown, retry_failed=retry_failed)
        already = sum(1 for item in batch.items if states.get(item.id) == "done")
        estimate = batch.estimate
        shown = f"${estimate:.3f}" if estimate is not None else f"unknown ({len(batch.unknown_prices())} unpriced)"
        if engine == "openai-batch" and estimate is not None:
            from imagewire.batch.openai_batch import support

            declared = support(options.get("provider"))
            billed = declared.cost(estimate) if declared is not None else None
            shown += f" at listed prices; {f'${billed:.3f}' if billed is not None else 'unknown'} through the Batch API"
        say.note(
            f"{len(batch.items)} request(s) checked; {already} already done, {len(todo)} to send; estimate {shown}"
        )
        unknown = [item.id for item in batch.items if states.get(item.id) == "unknown"]
        if unknown and not retry_unknown:
            say(
                f"{len(unknown)} item(s) were sent by an earlier run that stopped before their answer; they may "
                f"exist and be billed, so they are not sent again (--retry-unknown sends them): {', '.join(unknown)}",
                err=True,
                style="yellow",
            )
        if dry_run:
            say.note("dry run: nothing was sent")
            return EXIT_OK
        progress = Progress()
        stop = asyncio.Event()
        interrupted = _interrupts(say, stop, progress)
        results = []
        try:
            with _bar(say, progress, enabled=show_progress) as update:
                ticker = asyncio.ensure_future(_tick(update))
                try:
                    async for result in drive(batch, settings, stop=stop, progress=progress):
                        results.append(result)
                finally:
                    ticker.cancel()
        except BudgetError as err:
            say(f"imagewire batch: {err}\nnothing was sent", err=True, style="red")
            return EXIT_USAGE
        except EngineError as err:
            say(f"imagewire batch: {err}\nnothing was sent", err=True, style="red")
            return EXIT_USAGE
        except ProviderError as err:
            say(f"imagewire batch: {err}", err=True, style="red")
            return EXIT_UNREACHABLE if err.status is None else EXIT_FAILED
        except ImagewireError as err:
            from imagewire_client import APIConnectionError

            say(f"imagewire batch: {type(err).__name__}: {err}", err=True, style="red")
            return EXIT_UNREACHABLE if isinstance(err, APIConnectionError) else EXIT_FAILED
        finally:
            _restore_interrupts()
        data = report.summary(batch.journal)
        code = _summarise(say, batch, data, results, engine=engine, as_json=as_json, wait=wait)
        if interrupted.is_set():
            return EXIT_INTERRUPTED
        if any(r.unreachable for r in results) and not any(r.state == "done" for r in results):
            return EXIT_UNREACHABLE
        return code
    finally:
        batch.journal.close()


async def _tick(update: Any) -> None:
    while True:
        update()
        await asyncio.sleep(0.2)


def _interrupts(say: _Say, stop: asyncio.Event, progress: Any) -> asyncio.Event:
    """Ctrl-C once: stop scheduling, let the calls in flight finish; twice: the usual KeyboardInterrupt."""
    loop = asyncio.get_running_loop()
    seen = asyncio.Event()

    def first() -> None:
        seen.set()
        stop.set()
        say(
            f"interrupted: no new request starts; waiting for {progress.in_flight} in flight (Ctrl-C again to stop now)",
            err=True,
            style="yellow",
        )
        loop.remove_signal_handler(signal.SIGINT)

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, first)
    return seen


def _restore_interrupts() -> None:
    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)


def _summarise(
    say: _Say, batch: Any, data: dict[str, Any], results: list[Any], *, engine: str, as_json: bool, wait: bool
) -> int:
    counts = data["counts"]
    open_batches = batch.journal.get("batches") or []
    if as_json:
        say(json.dumps({k: v for k, v in data.items() if k != "items"} | {"items": data["items"]}, indent=2))
    else:
        order = ("done", "failed", "unknown", "submitted", "sent", "pending")
        label = {"pending": "not sent"}
        parts = [f"{counts[state]} {label.get(state, state)}" for state in order if counts.get(state)]
        say(f"{', '.join(parts)}; spent ${data['spent_usd']:.3f} (estimated)", style="bold")
        for entry in data["items"]:
            if entry["state"] == "failed":
                say(f"  failed  {entry['id']} (line {entry['line']}): {entry.get('error', '')}")
            elif entry["state"] == "unknown":
                say(f"  unknown {entry['id']} (line {entry['line']}): sent, no answer recorded; not sent again")
        pending = counts.get("pending", 0)
        if pending and engine == "local":
            say(f"  {pending} item(s) not sent (budget or interruption); run the same command again to continue")
        if open_batches:
            say(
                f"  Batch API batch(es) open: {', '.join(open_batches)}; `imagewire batch status {batch.out}` "
                f"and `imagewire batch fetch {batch.out}` collect the results"
            )
        say(f"report: {batch.out / 'report.json'} and {batch.out / 'index.html'}")
    if counts.get("failed") or counts.get("unknown") or (counts.get("pending") and not open_batches):
        return EXIT_FAILED
    return EXIT_OK


@run_app.command(help="Send a manifest (JSONL or CSV) of image requests; journaled, resumable, rate-limit aware.")
def batch(
    manifest: Annotated[
        Path | None,
        typer.Argument(help="JSONL (one request a line) or CSV (a prompt column); optional with --resume"),
    ] = None,
    out: OutOpt = Path("imagewire-batch"),
    provider: ProviderOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    model: Annotated[str | None, typer.Option("--model", help="model of the lines that name none")] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="local (this machine) or openai-batch (the provider's Batch API)")
    ] = "local",
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=1024, help="requests in flight")] = 16,
    budget: Annotated[
        float | None, typer.Option("--budget", min=0.0, help="USD: stop scheduling before the estimate passes it")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="continue the batch in --out (the manifest is optional)")
    ] = False,
    retry_unknown: Annotated[
        bool, typer.Option("--retry-unknown", help="send again what a dead run sent without an answer (may bill twice)")
    ] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="send again the items that failed")] = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="leave bad lines out instead of refusing the manifest")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="openai-batch: poll until the batch is finished")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check and estimate; send nothing")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or notes")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the summary as JSON")] = False,
) -> int:
    from imagewire.batch import ENGINES
    from imagewire.batch.journal import Journal

    say = _Say(Redactor(api_key), quiet=quiet)
    if engine not in ENGINES:
        say(f"imagewire batch: unknown engine {engine!r}; choose {' or '.join(ENGINES)}", err=True)
        return EXIT_USAGE
    source: Path | str | None = manifest
    if resume and not Journal.exists(out):
        say(f"imagewire batch: --resume: no journal in {out}", err=True)
        return EXIT_USAGE
    saved: dict[str, Any] = {}
    if Journal.exists(out):
        with Journal(out / "journal.sqlite") as journal:
            saved = dict(journal.get("client") or {})
            if source is None:
                source = journal.get("manifest")
    if source is None:
        say("imagewire batch: name a MANIFEST (or --resume with --out of an earlier batch)", err=True)
        return EXIT_USAGE
    options = {**saved, **_client_options(provider, base_url, api_key, model)}
    return asyncio.run(
        _run(
            say,
            source,
            out,
            options,
            engine=engine,
            concurrency=concurrency,
            budget=budget,
            retry_unknown=retry_unknown,
            retry_failed=retry_failed,
            skip_invalid=skip_invalid,
            wait=wait,
            dry_run=dry_run,
            show_progress=not quiet and sys.stderr.isatty(),
            as_json=as_json,
        )
    )


def _open(say: _Say, folder: Path) -> Any:
    from imagewire.batch.journal import Journal

    if not Journal.exists(folder):
        say(f"imagewire batch: no journal in {folder}", err=True)
        return None
    return Journal(folder / "journal.sqlite")


async def _remote(
    journal: Any, options: dict[str, Any], *, collect: bool, cancel: bool = False, wait: bool = False
) -> dict[str, Any]:
    import time

    from imagewire.batch import report
    from imagewire.batch.engine import Batch
    from imagewire.batch.manifest import Manifest
    from imagewire.batch.openai_batch import cancel as cancel_batches
    from imagewire.batch.openai_batch import collect as collect_results
    from imagewire.batch.openai_batch import poll

    open_ids = list(journal.get("batches") or [])
    if cancel and open_ids:
        await cancel_batches(options, open_ids)
        journal.set(cancelled=open_ids, cancelled_at=time.time())
    states = await poll(options, open_ids, wait=wait) if open_ids else {}
    if collect and states:
        costs = {row.id: row.usd for row in journal.rows()}
        folder = Path(journal.path).parent
        batch = Batch(folder, [], journal, options, costs, [], journal.states(), Manifest(None, [], []))
        async for _ in collect_results(batch, states):
            pass
        report.write(folder, journal)
    return states


def _status_or_fetch(
    folder: Path,
    api_key: str | None,
    base_url: str | None,
    *,
    collect: bool,
    as_json: bool,
    cancel: bool = False,
    wait: bool = False,
) -> int:
    import httpx

    from imagewire.batch import report
    from imagewire.batch.openai_batch import ProviderError
    from imagewire_client import ImagewireError

    say = _Say(Redactor(api_key))
    journal = _open(say, folder)
    if journal is None:
        return EXIT_USAGE
    with journal:
        options = dict(journal.get("client") or {})
        options.update(_client_options(None, base_url, api_key, None))
        try:
            if cancel and not journal.get("batches") and not as_json:
                say(f"no open Batch API batch in {folder}: nothing to cancel")
            states = asyncio.run(_remote(journal, options, collect=collect, cancel=cancel, wait=wait))
        except httpx.TransportError as err:
            say(f"imagewire batch: the provider cannot be reached: {type(err).__name__}: {err}", err=True)
            return EXIT_UNREACHABLE
        except ProviderError as err:
            say(f"imagewire batch: {err}", err=True)
            return EXIT_UNREACHABLE if err.status is None else EXIT_FAILED
        except ImagewireError as err:
            say(f"imagewire batch: {type(err).__name__}: {err}", err=True)
            return EXIT_FAILED
        data = {**report.summary(journal), "remote": states}
        if not as_json:
            for ident, state in states.items():
                counts = state.get("request_counts") or {}
                say(
                    f"batch {ident}: {state.get('status')} ({counts.get('completed', 0)} completed, "
                    f"{counts.get('failed', 0)} failed of {counts.get('total', 0)})"
                )
        return _summarise(
            say, _Folder(folder, journal), data, [], engine=str(data["engine"]), as_json=as_json, wait=False
        )


class _Folder:
    def __init__(self, out: Path, journal: Any) -> None:
        self.out = out
        self.journal = journal


@status_app.command(help="What the journal of a batch says; for open Batch API batches, what the provider says.")
def status(
    folder: Annotated[Path, typer.Argument(help="the --out folder of a batch")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> int:
    return _status_or_fetch(folder, api_key, base_url, collect=False, as_json=as_json)


@fetch_app.command(help="Collect the results of finished Batch API batches into the output folder.")
def fetch(
    folder: Annotated[Path, typer.Argument(help="the --out folder of a batch")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> int:
    return _status_or_fetch(folder, api_key, base_url, collect=True, as_json=as_json)


@cancel_app.command(
    help="Cancel the open Batch API batches of a batch: the provider stops them; what they finished is collected, "
    "the rest goes back to not sent (run the batch again to send it)."
)
def cancel(
    folder: Annotated[Path, typer.Argument(help="the --out folder of a batch")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="poll until the provider has stopped them")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
) -> int:
    return _status_or_fetch(folder, api_key, base_url, collect=True, as_json=as_json, cancel=True, wait=wait)


def _invoke(app: typer.Typer, name: str, argv: Sequence[str]) -> int:
    command = typer.main.get_command(app)
    try:
        code = command.main(args=list(argv), prog_name=name, standalone_mode=False)
    except typer.Exit as err:
        return int(err.exit_code)
    except typer.Abort:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:
        import click

        if isinstance(err, click.ClickException):
            err.show()
            return EXIT_USAGE
        raise
    return int(code) if isinstance(code, int) else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """``imagewire batch MANIFEST --out DIR ...``, ``imagewire batch status|fetch|cancel DIR``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "status":
        return _invoke(status_app, "imagewire batch status", args[1:])
    if args and args[0] == "fetch":
        return _invoke(fetch_app, "imagewire batch fetch", args[1:])
    if args and args[0] == "cancel":
        return _invoke(cancel_app, "imagewire batch cancel", args[1:])
    return _invoke(run_app, "imagewire batch", args)
