"""Print the before/after table of the hostile cases (Markdown), one row per case.

    .venv/bin/python tests/hostile/hostile_table.py BEFORE_CHECKOUT [AFTER_CHECKOUT] [--case NAME ...]

BEFORE_CHECKOUT is a checkout of an older commit (``git worktree add --detach /tmp/before <commit>``);
AFTER_CHECKOUT defaults to this one. Each case runs in a child process against each checkout; ``--case``
runs only the rows named (to refresh them after a change).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import hostile_files
from hostile_attacks import ATTACKS, CLIENT
from hostile_files import KIT
from hostile_harness import ROOT, Outcome, bound_mb, run_case, run_client_case


def _sent(hostile: Any, outcome: Outcome) -> str:
    """What the hostile server received, for the cases that count it."""
    if hostile.requests is None:
        return ""
    on = f" on {outcome.facts['connections']} connection(s)" if hostile.connections is not None else ""
    return f"; {outcome.facts['requests']} request(s){on}"


def main(argv: list[str]) -> int:
    wanted = {argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--case"}
    argv = [arg for i, arg in enumerate(argv) if arg != "--case" and (i == 0 or argv[i - 1] != "--case")]
    before = Path(argv[0]).resolve()
    after = Path(argv[1]).resolve() if len(argv) > 1 else ROOT
    print("| case | before | after | bound (RSS, time) |")
    print("|---|---|---|---|")
    for name, spec in KIT.items():
        if wanted and name not in wanted:
            continue
        cells = []
        for root in (before, after):
            with tempfile.TemporaryDirectory(prefix="hostile-input-") as tmp:
                hostile_files.SPEC = root / "spec"  # a spec case starts from the spec of the checkout it runs
                crafted = spec.write(Path(tmp))
                outcome = run_case(
                    name, root=root, env={"HOSTILE_INPUT": str(crafted), "HOSTILE_LIMIT": str(spec.limit)}
                )
            cells.append(outcome.summary().replace("|", "\\|"))
        bound = spec.rss_mb or bound_mb(spec.limit)
        print(f"| {name} | {cells[0]} | {cells[1]} | {bound:.0f} MB, {spec.seconds:.0f} s |", flush=True)
    for name, attack in ATTACKS.items():
        if wanted and name not in wanted:
            continue
        env = {"HOSTILE_SERVER": json.dumps(attack.options)}
        cells = [run_case("serve", root=root, env=env, during=attack.run).summary() for root in (before, after)]
        print(f"| {name} | {cells[0]} | {cells[1]} | {attack.rss_mb:.0f} MB, {attack.seconds:.1f} s |", flush=True)
    for name, hostile in CLIENT.items():
        if wanted and name not in wanted:
            continue
        cells = []
        for root in (before, after):
            try:
                outcome = run_client_case(name, hostile, root=root)
            except RuntimeError as err:  # a server that needs what is not installed here (brotli, zstandard)
                print(f"{name}: not run: {err}", file=sys.stderr)
                break
            leaked = outcome.facts.get("leaked")
            cells.append(
                outcome.summary() + (f"; leaked {', '.join(leaked)}" if leaked else "") + _sent(hostile, outcome)
            )  # type: ignore[arg-type]
        if len(cells) < 2:
            continue
        bound = f"{bound_mb(hostile.limit):.0f} MB, {hostile.deadline + 2:.0f} s"
        print(f"| {name} | {cells[0]} | {cells[1]} | {bound} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
