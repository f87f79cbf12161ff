"""The request fields of each operation, as the command line needs them, read from the generated client.

The client's ``Images`` methods are generated from the spec's request schemas: one keyword per request
field, typed with the ``Literal`` aliases of the client's parameter types (closed value sets) or with
``FileInput`` / ``ImageReference`` for files (the aliases are public: ``imagewire_client.ImageQuality``, ...),
and documented one field per docstring entry from the
spec's descriptions. :func:`request_fields` reads those, so a field added to the spec and regenerated
becomes an option of ``imagewire generate``/``edit``/``vary`` and a key ``--descr`` takes, with no
edit here. This module is the one place that reads them (the seam: should the client's catalog come
to describe request fields itself, only :func:`request_fields` changes).
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

__all__ = ["Field", "choices", "operations", "request_fields"]

Kind = Literal["str", "int", "bool", "object", "file", "files", "reference", "references"]

#: parameters of the client methods that are call options, not request fields
_CALL_OPTIONS = frozenset({"validate", "timeout", "max_retries", "retry_read_errors"})
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
