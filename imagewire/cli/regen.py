"""``imagewire regen``: regenerate the client from the spec, or check that it is up to date.

The command line of :mod:`imagewire.generator` (which stays free of it: spec in, files out).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from imagewire import exits
from imagewire.cli.options import SpecOpt
from imagewire.generator.regen import Paths, default_paths

__all__ = ["app", "regen_command"]

app = typer.Typer(add_completion=False)


@app.command(
    "regen",
    help="Compile the spec into the generated client (atomically; a no-op when nothing changed), print what"
    " changed (breaking changes marked), bump the client's version and prepend the report to its CHANGELOG.md.",
    epilog=exits.SUMMARY,
)
def regen_command(
    check: Annotated[
        bool, typer.Option("--check", help="regenerate into a temporary folder and list the files that differ")
    ] = False,
    spec: SpecOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="the generated tree (default: ./generated_client)", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="regenerate even when the inputs are unchanged")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="list every problem, also those that follow from another one")
    ] = False,
) -> int:
    from imagewire.generator.locate import SpecNotFound, spec_document

    try:
        document = spec_document(spec)
    except SpecNotFound as err:
        print(f"imagewire regen: {err}", file=sys.stderr)
        return exits.USAGE
    defaults = default_paths()
    target = out or defaults.out
    same = document.resolve() == defaults.spec.resolve() and target.resolve() == defaults.out.resolve()
    paths = Paths(spec=document, out=target, readme=defaults.readme if same else None)
    from imagewire.generator.engine import EngineError
    from imagewire.generator.problems import SpecError

    try:
        if check:
            from imagewire.generator.regen import check as check_tree

            checked = check_tree(paths)
            if checked.differences:
                print(f"drift: {target} differs from what {paths.spec_name} generates:", file=sys.stderr)
                for line in checked.differences:
                    print(f"  {line}", file=sys.stderr)
                if checked.report is not None and checked.report.level not in ("none", "first"):
                    print(f"regenerating would release: {checked.report.text()}", file=sys.stderr)
                print("run `imagewire regen` (or `make regen`) and commit the result", file=sys.stderr)
                return exits.FAILED
            print(f"clean: {target} matches {paths.spec_name} ({checked.files} files, {checked.seconds:.2f}s)")
            return exits.OK
        from imagewire.generator.regen import regen

        result = regen(paths, force=force)
    except SpecError as err:
        print(err.report(verbose=verbose), file=sys.stderr)
        print(f"nothing was written; {target} is unchanged", file=sys.stderr)
        return exits.FAILED
    except (EngineError, RuntimeError) as err:
        print(err, file=sys.stderr)
        print(f"nothing was written; {target} is unchanged", file=sys.stderr)
        return exits.FAILED
    except Exception as err:
        print(f"imagewire regen: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        print(f"nothing was written; {target} is unchanged", file=sys.stderr)
        return exits.FAILED
    if result.status == "unchanged":
        print(f"unchanged: inputs match {target}/imagewire.lock; nothing to do ({result.seconds:.2f}s)")
    else:
        print(f"regenerated {target} from {paths.spec_name}: {result.files} files ({result.seconds:.2f}s)")
        if result.report is not None:
            print(result.report.text())
    return exits.OK
