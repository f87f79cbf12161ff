"""``imagewire check --live`` against the reference provider in every persona: the contract holds end to end.

    python scripts/check_personas.py [--persona P ...] [--record DIR]

For each persona: start ``imagewire.server`` on a free loopback port (with a key), run
``imagewire check --live --provider P --base-url URL --prices-from local --budget 0.01`` (the reference
server is free: its probes are priced as the ``local`` provider), stop the server by its PID, and print
one summary row (``--fault NAME`` injects a server fault, to see the check fail). Exit status 1 when any persona shows an unexpected violation or an unmet probe
expectation (or its server does not start), else 0. Recordings go to a temporary folder unless
``--record DIR`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

from imagewire.check import command as check
from imagewire.server import start
from imagewire_client.catalog import PROVIDERS

#: one persona per provider of the catalog, in catalog order (a provider added to spec/ is probed too)
PERSONAS = tuple(PROVIDERS)
KEY = "sk-imagewire-personas-0123456789abcdef"
#: provider settings a persona needs besides its URL (Azure's deployment comes from each probe's model)
SETTINGS = {"azure": ["resource=imagewire", "api_version=2025-04-01-preview"]}


def run(persona: str, record: Path, faults: tuple[str, ...] = ()) -> dict[str, object]:
    began = time.monotonic()
    row: dict[str, object] = {"persona": persona}
    try:
        server = start(persona, api_key=KEY, faults=faults)
    except RuntimeError as err:
        return row | {"exit": "no server", "error": str(err).splitlines()[0], "seconds": time.monotonic() - began}
    report_file = record / persona / "report.json"
    argv = ["--live", "--provider", persona, "--base-url", server.base_url, "--api-key", KEY]
    argv += ["--prices-from", "local", "--budget", "0.01", "--record", str(record / persona)]
    argv += ["--json-out", str(report_file), "--quiet"]
    for setting in SETTINGS.get(persona, []):
        argv += ["--setting", setting]
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = check.main(argv)
    finally:
        server.stop()  # by PID
    row["exit"] = code
    row["seconds"] = time.monotonic() - began
    if report_file.is_file():
        report = json.loads(report_file.read_text())
        row |= report["summary"]
        row["probes"] = sum(1 for p in report["live"]["probes"] if p["sent"])
        row["mismatches"] = [m["message"] for m in report["expectation_mismatches"]]
    else:
        row["error"] = output.getvalue().strip().splitlines()[-1:] or ["no report"]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_personas.py", description=__doc__.splitlines()[0])
    parser.add_argument("--persona", action="append", choices=PERSONAS, help="only these personas (repeatable)")
    parser.add_argument("--record", metavar="DIR", help="keep the recordings and reports here")
    parser.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="inject a server fault (the check must fail)"
    )
    args = parser.parse_args(argv)
    personas = args.persona or list(PERSONAS)
    with tempfile.TemporaryDirectory(prefix="imagewire-personas-") as scratch:
        record = Path(args.record) if args.record else Path(scratch)
        rows = [run(persona, record, tuple(args.fault)) for persona in personas]
    columns = ("persona", "probes", "conforms", "quirk", "deviation", "violation", "mismatches", "seconds", "exit")
    table = [list(columns)]
    for row in rows:
        cells = []
        for name in columns:
            value = row.get(name, "-")
            if name == "mismatches":
                value = len(value) if isinstance(value, list) else "-"
            elif name == "seconds" and isinstance(value, float):
                value = f"{value:.1f}"
            cells.append(str(value))
        table.append(cells)
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for number, line in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)))
        if number == 0:
            print("  ".join("-" * w for w in widths))
    failed = [row for row in rows if row.get("exit") != 0]
    for row in failed:
        print(f"\n{row['persona']}: exit {row.get('exit')}", file=sys.stderr)
        mismatches = row.get("mismatches")
        for message in mismatches if isinstance(mismatches, list) else []:
            print(f"  mismatch: {message}", file=sys.stderr)
        if row.get("violation"):
            print(f"  {row['violation']} violation(s): see the report (--record DIR keeps it)", file=sys.stderr)
        if row.get("error"):
            print(f"  {row['error']}", file=sys.stderr)
    kept = len(rows) - len(failed)
    names = ", ".join(str(row["persona"]) for row in failed)
    print(f"\n{kept} of {len(rows)} personas keep the contract" + (f"; failing: {names}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
