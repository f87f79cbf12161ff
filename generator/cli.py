"""``imagewire regen``: regenerate the client from the spec, or check that it is up to date."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .regen import Paths, default_paths

__all__ = ["main"]

EXIT_OK, EXIT_PROBLEM = 0, 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="imagewire regen",
        description="Compile the spec into the generated client (atomically; a no-op when nothing changed).",
    )
    p.add_argument("--check", action="store_true", help="regenerate into a temporary folder and list files that differ")
    p.add_argument(
        "--spec", type=Path, default=None, help="spec folder or root document (default: ./spec, else the packaged spec)"
    )
    p.add_argument("--out", type=Path, default=None, help="generated tree (default: ./generated_client)")
    p.add_argument("--force", action="store_true", help="regenerate even when the inputs are unchanged")
    p.add_argument("--verbose", action="store_true", help="list every problem, also those that follow from another one")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from imagewire._spec import SpecNotFound, spec_document

    try:
        args.spec = spec_document(args.spec)
    except SpecNotFound as err:
        print(f"imagewire regen: {err}", file=sys.stderr)
        return EXIT_PROBLEM
    defaults = default_paths()
    args.out = args.out or defaults.out
    same = args.spec.resolve() == defaults.spec.resolve() and args.out.resolve() == defaults.out.resolve()
    paths = Paths(spec=args.spec, out=args.out, readme=defaults.readme if same else None)
    from .engine import EngineError
    from .problems import SpecError

    try:
        if args.check:
            from .regen import check

            result = check(paths)
            if result.differences:
                print(f"drift: {args.out} differs from what {paths.spec_name} generates:", file=sys.stderr)
                for line in result.differences:
                    print(f"  {line}", file=sys.stderr)
                print("run `imagewire regen` (or `make regen`) and commit the result", file=sys.stderr)
                return EXIT_PROBLEM
            print(f"clean: {args.out} matches {paths.spec_name} ({result.files} files, {result.seconds:.2f}s)")
            return EXIT_OK
        from .regen import regen

        result = regen(paths, force=args.force)
    except SpecError as err:
        print(err.report(verbose=args.verbose), file=sys.stderr)
        print(f"nothing was written; {args.out} is unchanged", file=sys.stderr)
        return EXIT_PROBLEM
    except (EngineError, RuntimeError) as err:
        print(err, file=sys.stderr)
        print(f"nothing was written; {args.out} is unchanged", file=sys.stderr)
        return EXIT_PROBLEM
    except Exception as err:
        print(f"imagewire regen: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        print(f"nothing was written; {args.out} is unchanged", file=sys.stderr)
        return EXIT_PROBLEM
    if result.status == "unchanged":
        print(f"unchanged: inputs match {args.out}/imagewire.lock; nothing to do ({result.seconds:.2f}s)")
    else:
        print(f"regenerated {args.out} from {paths.spec_name}: {result.files} files ({result.seconds:.2f}s)")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
