"""``imagewire providers``: the provider catalog of the generated client, as a matrix and per provider.

Everything shown is read from the client's catalog (:mod:`imagewire_client.catalog`), so a provider added to ``spec/providers.yaml`` and regenerated shows up
here with no change to this module. ``--json`` gives the same data to machines; ``--provider NAME``
shows one provider in detail: its models with their lifecycle as that provider serves them, its prices,
its quirks. Tables are drawn with ``rich`` on a terminal and as plain text otherwise (or with ``--plain``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from imagewire_client.catalog import Price, Provider

__all__ = [
    "abbreviations",
    "app",
    "auth_header",
    "auth_text",
    "data",
    "detail",
    "matrix",
    "price_text",
    "providers",
    "record",
    "render_detail",
    "render_overview",
]

#: the cell of a model a provider does not offer (README matrix uses the same)
NOT_OFFERED = "·"


# ---------------------------------------------------------------------------------------------- data


def _operations() -> list[str]:
    from imagewire_client.catalog import OPERATIONS

    return list(OPERATIONS)


def abbreviations(operations: Sequence[str]) -> dict[str, str]:
    """Each operation's shortest prefix that no other operation shares (``g``, ``e``, ``v``)."""
    short: dict[str, str] = {}
    for op in operations:
        size = 1
        while size < len(op) and any(other != op and other.startswith(op[:size]) for other in operations):
            size += 1
        short[op] = op[:size]
    return short


def _offered(provider: Provider, model_id: str) -> list[str]:
    """The operations a provider offers for a model as it serves it, in spec order."""
    offered = provider.offers(model_id)
    return [op for op in _operations() if op in offered]


def matrix() -> list[dict[str, Any]]:
    """One row per catalog model: its status at the vendor and, per provider, the operations offered."""
    from imagewire_client.catalog import MODELS, PROVIDERS

    rows = []
    for model_id, model in MODELS.items():
        life = model.lifecycle
        rows.append(
            {
                "model": model_id,
                "vendor": model.vendor,
                "status": life.status,
                "retired_on": life.retired_on,
                "offered": {pid: _offered(p, model_id) for pid, p in PROVIDERS.items()},
            }
        )
    return rows


def _price(price: Price) -> dict[str, Any]:
    return {"model": price.model, "size": price.size, "quality": price.quality, "usd": price.usd}


def _settings(provider: Provider) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "name": item.name,
            "param": item.param or (item.name if kind == "url" else None),
            "env": item.env,
            "default": item.default,
            "description": item.description,
        }
        for kind, item in provider.settings
    ]


def auth_header(provider: Provider) -> str | None:
    """The header the key travels in (None: no key is sent)."""
    return provider.key_header


def record(provider: Provider) -> dict[str, Any]:
    """A provider as JSON-ready data. ``models`` is ``"any"`` and ``prices`` ``"unknown"`` where the catalog says so."""
    return {
        "id": provider.id,
        "title": provider.title,
        "base_url": provider.base_url,
        "auth": {
            "style": provider.auth_style,
            "header": auth_header(provider),
            "env": provider.key_env,
            "optional": not provider.key_required,
        },
        "settings": _settings(provider),
        "model_from_deployment": provider.model_from_deployment,
        "operations": list(provider.operations),
        "models": "any" if provider.models is None else list(provider.models),
        "prices": "unknown" if provider.prices is None else [_price(p) for p in provider.prices],
        "quirks": [{"id": q.id, "kind": q.kind, "pointer": q.pointer, "note": q.note} for q in provider.quirks],
        "notes": list(provider.notes),
    }


def _model_prices(provider: Provider, model_id: str) -> list[dict[str, Any]] | str:
    if provider.prices is None:
        return "unknown"
    return [_price(p) for p in provider.prices if p.model in ("*", model_id)]


def detail(provider: Provider) -> dict[str, Any]:
    """:func:`record` plus ``served``: each model with its lifecycle as this provider serves it.

    For a provider that takes any model, ``served`` lists the catalog with the vendor's lifecycle.
    """
    served = []
    for model_id, model in provider.catalog().items():
        life = model.lifecycle
        generations = model.operations.get("generations")
        sizes = generations.params["size"].values if generations and "size" in generations.params else None
        served.append(
            {
                "model": model_id,
                "title": model.title,
                "vendor": model.vendor,
                "status": life.status,
                "retired_on": life.retired_on,
                "note": life.note,
                # as the checks and the matrix see it: a retired model at an any-model provider needs allow_retired
                "operations": _offered(provider, model_id),
                "sizes": list(map(str, sizes)) if sizes is not None else None,
                "prices": _model_prices(provider, model_id),
            }
        )
    return {**record(provider), "served": served}


def data() -> dict[str, Any]:
    """Everything ``--json`` prints: the operations, every provider, and the matrix."""
    from imagewire_client.catalog import PROVIDERS

    return {
        "operations": _operations(),
        "providers": {pid: record(p) for pid, p in PROVIDERS.items()},
        "matrix": matrix(),
    }


# ------------------------------------------------------------------------------------------ wording


def auth_text(rec: Mapping[str, Any]) -> str:
    """``bearer (Authorization: Bearer $OPENAI_API_KEY)`` and the like, from a :func:`record`."""
    auth = rec["auth"]
    if auth["header"] is None:
        return "none"
    value = f"Bearer ${auth['env']}" if auth["style"] == "bearer" else f"${auth['env']}"
    return f"{auth['style']} ({auth['header']}: {value})" + (", optional" if auth["optional"] else "")


def _setting_text(item: Mapping[str, Any]) -> str:
    sources = [f"{item['param']}=..." if item["param"] else None, f"${item['env']}" if item["env"] else None]
    text = f"{item['kind']} {item['name']}: " + " or ".join(s for s in sources if s)
    if item["default"]:
        text += f" (default {item['default']})"
    if item["description"]:
        text += f" - {item['description']}"
    return text


def price_text(price: Mapping[str, Any], *, model: bool = True) -> str:
    """``dall-e-3 1024x1024 standard: $0.040 per image`` (``model=False``: without the model)."""
    words = []
    if model:
        words.append("any model" if price["model"] == "*" else price["model"])
    words.append("any size" if price["size"] == "*" else price["size"])
    if price.get("quality"):
        words.append(price["quality"])
    return f"{' '.join(words)}: ${price['usd']:.3f} per image"


def _prices_lines(prices: Any, *, model: bool = True) -> list[str]:
    if prices == "unknown":
        return ["unknown"]
    if not prices:
        return ["none listed (price unknown)"]
    return [price_text(p, model=model) for p in prices]


def _quirk_text(quirk: Mapping[str, Any]) -> str:
    where = f" at {quirk['pointer']}" if quirk["pointer"] else ""
    return f"{quirk['id']} ({quirk['kind']}{where}): {quirk['note']}"


def _status_text(status: str, retired_on: str | None) -> str:
    return f"{status} {retired_on}" if retired_on else status


def _summary_rows(rec: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """The facts of a provider as (label, lines) pairs, shared by the plain and the rich output."""
    models = rec["models"]
    rows: list[tuple[str, list[str]]] = [
        ("base URL", [rec["base_url"] or "yours (base_url=...)"]),
        ("auth", [auth_text(rec)]),
    ]
    if rec["settings"]:
        rows.append(("settings", [_setting_text(s) for s in rec["settings"]]))
    if rec["model_from_deployment"]:
        rows.append(("model", ["comes from the deployment (name it with model= for the checks)"]))
    rows += [
        ("operations", [", ".join(rec["operations"])]),
        ("models", ["any (the model catalog decides)" if models == "any" else ", ".join(models)]),
        ("prices", _prices_lines(rec["prices"])),
        ("quirks", [_quirk_text(q) for q in rec["quirks"]] or ["none declared"]),
    ]
    if rec["notes"]:
        rows.append(("notes", list(rec["notes"])))
    return rows


def _cell(ops: Iterable[str], short: Mapping[str, str]) -> str:
    cells = [short[op] for op in ops]
    return " ".join(cells) if cells else NOT_OFFERED


def _legend(operations: Sequence[str]) -> str:
    short = abbreviations(operations)
    names = ", ".join(f"{short[op]} {op}" for op in operations)
    return f"Model x provider, per operation ({names}; {NOT_OFFERED} not offered)"


def _served_status(item: Mapping[str, Any]) -> str:
    text = _status_text(item["status"], item["retired_on"])
    return f"{text} ({item['note']})" if item["note"] else text


# ------------------------------------------------------------------------------------------- plain


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def _block(title: str, rows: Sequence[tuple[str, list[str]]]) -> list[str]:
    width = max(len(label) for label, _ in rows)
    lines = [title]
    for label, values in rows:
        for index, value in enumerate(values):
            lines.append(f"  {(label if index == 0 else '').ljust(width)}  {value}".rstrip())
    return lines


def render_overview(info: Mapping[str, Any]) -> str:
    """The matrix, then a summary of each provider, as plain text."""
    operations = info["operations"]
    short = abbreviations(operations)
    providers = list(info["providers"])
    table = [["model", "status at vendor", *providers]]
    for row in info["matrix"]:
        status = _status_text(row["status"], row["retired_on"])
        table.append([row["model"], status, *(_cell(row["offered"][pid], short) for pid in providers)])
    lines = [_legend(operations), "", *_columns(table), "", f"Providers ({len(providers)})"]
    for pid, rec in info["providers"].items():
        lines += ["", *_block(f"{pid} - {rec['title']}", _summary_rows(rec))]
    return "\n".join(lines)


def render_detail(info: Mapping[str, Any]) -> str:
    """One provider (:func:`detail`) as plain text."""
    lines = _block(f"{info['id']} - {info['title']}", _summary_rows(info))
    heading = "Models served" if info["models"] != "any" else "Models (any model of the catalog; status at the vendor)"
    table = [["model", "lifecycle as served", "operations", "prices"]]
    for item in info["served"]:
        prices = _prices_lines(item["prices"], model=False)
        table.append([item["model"], _served_status(item), ", ".join(item["operations"]) or NOT_OFFERED, prices[0]])
        table += [["", "", "", more] for more in prices[1:]]
    lines += ["", heading, *("  " + line for line in _columns(table))]
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------- rich


_STATUS_STYLE = {"live": "green", "preview": "cyan", "deprecated": "yellow", "retired": "red", "shutdown": "red"}


def _rich_overview(console: Any, info: Mapping[str, Any]) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    operations = info["operations"]
    short = abbreviations(operations)
    providers = list(info["providers"])
    table = Table(title=_legend(operations), box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("model", style="bold", no_wrap=True)
    table.add_column("status at vendor", no_wrap=True)
    for pid in providers:
        table.add_column(pid, justify="center", no_wrap=True)
    for row in info["matrix"]:
        style = _STATUS_STYLE.get(row["status"], "")
        status = escape(_status_text(row["status"], row["retired_on"]))
        cells = [_cell(row["offered"][pid], short) for pid in providers]
        table.add_row(
            escape(row["model"]),
            f"[{style}]{status}[/]" if style else status,
            *(f"[dim]{c}[/]" if c == NOT_OFFERED else f"[green]{c}[/]" for c in cells),
        )
    console.print(table)
    console.print(f"[bold]Providers[/] ({len(providers)})", highlight=False)
    for pid, rec in info["providers"].items():
        _rich_block(console, f"{pid} - {rec['title']}", _summary_rows(rec))


def _rich_block(console: Any, title: str, rows: Sequence[tuple[str, list[str]]]) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    grid = Table(title=f"[bold]{escape(title)}[/]", box=box.SIMPLE, show_header=False, title_justify="left")
    grid.add_column(style="cyan", no_wrap=True)
    grid.add_column()
    for label, values in rows:
        grid.add_row(label, escape("\n".join(values)))
    console.print(grid)


def _rich_detail(console: Any, info: Mapping[str, Any]) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    _rich_block(console, f"{info['id']} - {info['title']}", _summary_rows(info))
    heading = "Models served" if info["models"] != "any" else "Models (any model of the catalog; status at the vendor)"
    table = Table(title=heading, box=box.SIMPLE_HEAD, title_justify="left")
    for name in ("model", "lifecycle as served", "operations", "prices"):
        table.add_column(name, no_wrap=name == "model")
    for item in info["served"]:
        style = _STATUS_STYLE.get(item["status"], "")
        status = escape(_served_status(item))
        table.add_row(
            escape(item["model"]),
            f"[{style}]{status}[/]" if style else status,
            ", ".join(item["operations"]) or NOT_OFFERED,
            escape("\n".join(_prices_lines(item["prices"], model=False))),
        )
    console.print(table)


# --------------------------------------------------------------------------------------------- main


def _printable(text: str) -> str:
    """``text`` for stdout: the not-offered dot becomes ``-`` where the encoding cannot show it."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return text.replace(NOT_OFFERED, "-")
    return text


app = typer.Typer(add_completion=False)


@app.command(
    "providers",
    help="The provider x model x operation matrix of the generated client, and each provider's facts.",
)
def providers(
    provider: Annotated[
        str | None,
        typer.Option(
            "--provider",
            metavar="NAME",
            help="show one provider: its models as served, prices, quirks",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="print JSON (with --provider: that provider in detail)")
    ] = False,
    plain: Annotated[bool, typer.Option("--plain", help="plain text even on a terminal")] = False,
    rich: Annotated[bool, typer.Option("--rich", help="rich tables even when stdout is not a terminal")] = False,
) -> int:
    from imagewire.cli.options import provider_choice

    if plain and rich:
        raise typer.BadParameter("--plain and --rich do not go together", param_hint="'--rich'")
    chosen = provider_choice(provider)
    info = detail(chosen) if chosen is not None else data()
    if as_json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    isatty = getattr(sys.stdout, "isatty", None)
    if rich or (not plain and callable(isatty) and isatty()):
        from rich.console import Console

        console = Console(force_terminal=True if rich else None)
        if chosen is not None:
            _rich_detail(console, info)
        else:
            _rich_overview(console, info)
        return 0
    print(_printable(render_detail(info) if chosen is not None else render_overview(info)))
    return 0
