"""The request fields of each operation, as the command line needs them, read from the generated client.

The client's ``Images`` methods are generated from the spec's request schemas: one keyword per request
field, typed with the ``Literal`` aliases of the client's parameter types (closed value sets) or with
``FileInput`` / ``ImageReference`` for files (the aliases are public: ``imagewire_client.ImageQuality``, ...),
and documented one field per docstring entry from the
spec's descriptions. :func:`request_fields` reads those, so a field added to the spec and regenerated
becomes an option of ``imagewire generate``/``edit``/``vary`` and a key ``--descr`` takes, with no
edit here. This module is the one place that reads them (the seam: should the client's catalog come
to describe request fields itself, only :func:`request_fields` changes). :func:`option` makes a field a
typer option (its spelling, type, choices and help), for every command that takes request fields.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import typer
from rich.markup import escape

from imagewire.cli.common import option_name

__all__ = [
    "URL_SCHEMES",
    "Field",
    "choices",
    "fold_old_spellings",
    "json_object",
    "keyword",
    "operations",
    "option",
    "reference",
    "request_fields",
]

Kind = Literal["str", "int", "bool", "object", "file", "files", "reference", "references"]

#: parameters of the client methods that are call options, not request fields
_CALL_OPTIONS = frozenset({"validate", "timeout", "max_retries", "retry_read_errors", "deadline"})
_FILE = "FileInput"
_REFERENCE = "ImageReference"


class Field(NamedTuple):
    """One request field of an operation."""

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] | None = None  # a closed set (a Literal alias without ``| str``)
    suggestions: tuple[str, ...] | None = None  # the listed values of an open field (``ImageSize | str``)
    help: str = ""
    deprecated: bool = False
    by_reference: bool = False  # a file field that also takes a reference (``FileInput | ImageReference``)


def _methods() -> Mapping[str, Callable[..., Any]]:
    from imagewire_client import Images

    return {"generations": Images.generate, "edits": Images.edit, "variations": Images.create_variation}


def choices(alias: object) -> tuple[str, ...]:
    """The values of a ``Literal`` alias of the generated client, as strings."""
    return tuple(str(value) for value in typing.get_args(alias))


def _terms(annotation: str) -> set[str]:
    terms = {term.strip() for term in annotation.replace("Sequence[", "").replace("]", "").split("|")}
    terms.discard("None")
    return terms


def _literals(terms: set[str]) -> tuple[str, ...]:
    import imagewire_client

    values: list[str] = []
    for term in sorted(terms):
        alias = getattr(imagewire_client, term, None)
        if alias is not None and typing.get_origin(alias) is Literal:
            values += choices(alias)
    return tuple(values)


def _objects(terms: set[str]) -> bool:
    """True when a term is an object type of the client (a ``TypedDict`` of its parameter types, say ``ImageSvgOptions``)."""
    import imagewire_client

    return any(typing.is_typeddict(getattr(imagewire_client, term, None)) for term in terms - {_REFERENCE})


def _field(name: str, annotation: str, *, required: bool, doc: str) -> Field:
    terms = _terms(annotation)
    deprecated = doc.endswith("(deprecated)")
    text = doc.removesuffix("(deprecated)").strip()
    common: dict[str, Any] = {"required": required, "help": text, "deprecated": deprecated}
    if _FILE in terms:
        many = f"Sequence[{_FILE}]" in annotation
        return Field(name, "files" if many else "file", by_reference=_REFERENCE in terms, **common)
    if _REFERENCE in terms:
        return Field(name, "references" if f"Sequence[{_REFERENCE}]" in annotation else "reference", **common)
    if _objects(terms):
        return Field(name, "object", **common)
    if "bool" in terms:
        return Field(name, "bool", **common)
    if "int" in terms:
        return Field(name, "int", **common)
    literals = _literals(terms)
    if "str" in terms:
        return Field(name, "str", suggestions=literals or None, **common)
    return Field(name, "str", choices=literals or None, **common)


_DOC_ENTRY = re.compile(r"^``(\w+)``: (.*)$")


def _docs(method: Callable[..., Any]) -> dict[str, str]:
    """``name -> text`` from the method's docstring entries (````name``: text``, continued by indented lines)."""
    docs: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in (inspect.getdoc(method) or "").splitlines():
        found = _DOC_ENTRY.match(line)
        if found:
            current = docs.setdefault(found[1], [])
            current.append(found[2])
        elif current is not None and line.startswith(" ") and line.strip():
            current.append(line.strip())
        else:
            current = None
    return {name: " ".join(lines) for name, lines in docs.items()}


@functools.cache
def request_fields(operation: str) -> dict[str, Field]:
    """Every request field ``operation`` takes (``stream`` included, files too), in the client's order."""
    method = _methods()[operation]
    docs = _docs(method)
    out: dict[str, Field] = {}
    for name, param in inspect.signature(method).parameters.items():
        if name == "self" or name in _CALL_OPTIONS or name.startswith("extra_"):
            continue
        required = param.default is inspect.Parameter.empty
        out[name] = _field(name, str(param.annotation), required=required, doc=docs.get(name, ""))
    return out


def operations() -> list[str]:
    """The operations the client performs, in spec order."""
    return list(_methods())


# ---------------------------------------------------------------- as command-line options

#: how a few request fields are spelled (the others: ``--field-name``); the response format is ``--format``
_SPELLING: dict[str, tuple[str, ...]] = {
    "model": ("--model", "-m"),
    "size": ("--size", "-s"),
    "n": ("-n", "--n"),
    "quality": ("--quality", "-q"),
    "response_format": ("--format",),
}
#: earlier spellings of a field's option, still accepted but not shown (their values come as ``old_<name>``)
_OLD_SPELLING = {"response_format": "--response-format"}
#: a reference is an image URL (these schemes) or, otherwise, a file id
URL_SCHEMES = ("http://", "https://", "data:")


def _complete_models(incomplete: str) -> list[str]:
    from imagewire_client.catalog import MODELS

    return [model for model in MODELS if model.startswith(incomplete)]


def _help(field: Field) -> str:
    """An option's help: the spec's description of the field, its listed values for an open one."""
    text = _first_sentences(field.help) or f"the request field {field.name}" + (
        " (true)" if field.kind == "bool" else ""
    )
    if field.deprecated:
        text += " (deprecated)"
    if field.suggestions and field.name != "model":
        text += f" Listed: {', '.join(field.suggestions)}."
    if field.name == "model":
        text += " (another id needs --no-validate)"
    return escape(text)


def _first_sentences(text: str, least: int = 40) -> str:
    """The first sentences of ``text`` that make at least ``least`` characters (a help line, not a page)."""
    taken = ""
    for sentence in text.split(". "):
        taken = f"{taken}. {sentence}" if taken else sentence
        if len(taken) >= least:
            break
    return taken if taken.endswith(".") or taken == text else taken + "."


def keyword(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """A keyword-only parameter (what typer reads an option or an argument from)."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def option(field: Field, *, panel: str = "Request") -> list[inspect.Parameter]:
    """A request field as an option: its type and choices from the client, its help from the spec (and a
    hidden ``old_<name>`` parameter for an earlier spelling; :func:`fold_old_spellings` merges it)."""
    decls = _SPELLING.get(field.name, (option_name(field.name),))
    common: dict[str, Any] = {"help": _help(field), "rich_help_panel": panel, "show_default": False}
    annotation: Any
    if field.kind == "bool":
        annotation, default = bool, False
    elif field.kind == "int":
        annotation, default = int | None, None
    elif field.kind in ("file", "reference"):
        metavar = "FILE" if field.kind == "file" else "URL|FILE_ID"
        annotation = (Path | None) if field.kind == "file" and not field.by_reference else (str | None)
        default = None
        common["metavar"] = f"{metavar}|URL" if field.by_reference else metavar
    elif field.kind == "object":
        annotation, default = str | None, None
        common["metavar"] = "JSON"
        common["help"] += " (a JSON object)"
    elif field.kind in ("files", "references"):
        annotation, default = list[str] | None, None
        common["metavar"] = "FILE" if field.kind == "files" else "URL|FILE_ID"
    elif field.choices:
        annotation, default = Literal[field.choices] | None, None
    else:
        annotation, default = str | None, None
        if field.name == "model":
            common.update(metavar="MODEL", autocompletion=_complete_models)
    params = [keyword(field.name, Annotated[annotation, typer.Option(*decls, **common)], default)]
    old = _OLD_SPELLING.get(field.name)
    if old is not None:
        params.append(keyword(f"old_{field.name}", Annotated[annotation, typer.Option(old, hidden=True)], default))
    return params


def fold_old_spellings(values: dict[str, Any]) -> None:
    """Merge each ``old_<name>`` value :func:`option` made into ``<name>`` (the current spelling wins)."""
    for name in list(values):
        if name.startswith("old_"):
            old = values.pop(name)
            values[name.removeprefix("old_")] = values.get(name.removeprefix("old_")) or old


def reference(value: str) -> dict[str, str]:
    """``https://...`` or ``data:...`` -> ``{"image_url": ...}``; anything else is a file id."""
    return {"image_url": value} if value.startswith(URL_SCHEMES) else {"file_id": value}


def json_object(name: str, text: str) -> dict[str, Any]:
    """An object field's option value: a JSON object, or a usage error saying what is wrong."""
    try:
        value = json.loads(text)
    except ValueError as err:
        raise typer.BadParameter(f"not JSON: {err}", param_hint=f"'{option_name(name)}'") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=f"'{option_name(name)}'")
    return value
