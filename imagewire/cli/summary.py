"""``imagewire summary``: what the generated client offers, read from its own catalog."""

from __future__ import annotations

import typer

__all__ = ["app", "render", "summary"]

app = typer.Typer(add_completion=False)


def render() -> str:
    from imagewire_client.catalog import MODELS, OPERATIONS

    lines = ["Operations"]
    width = max(len(f"{op.method} {op.path}") for op in OPERATIONS.values())
    for op in OPERATIONS.values():
        status = op.status + (f" since {op.retired_on}" if op.retired_on else "")
        call = f"{op.method} {op.path}".ljust(width)
        lines.append(f"  {call}  {op.operation_id:<22} {', '.join(op.encodings):<16} {status}")
    lines += ["", "Models"]
    width = max(map(len, MODELS))
    for model in MODELS.values():
        life = model.lifecycle
        status = life.status + (f" {life.retired_on}" if life.retired_on else "")
        if life.replacement:
            status += f" -> {life.replacement}"
        ops = ", ".join(model.operations)
        lines.append(f"  {model.id.ljust(width)}  {status:<34} {ops}")
    live = sum(1 for m in MODELS.values() if m.lifecycle.status in ("live", "preview"))
    lines += ["", f"{len(OPERATIONS)} operations, {len(MODELS)} models ({live} live or preview)"]
    return "\n".join(lines)


@app.command("summary", help="Print the generated API: its operations, and its models with their status.")
def summary() -> int:
    print(render())
    return 0
