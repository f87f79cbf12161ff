"""``--descr``: request fields given as one JSON object, a ``.json`` file, or OpenIntegrations' quoted form.

OpenIntegrations' ``oint openai GetImages --descr "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"``
passes a Python-style dict with single quotes; it is read with :func:`ast.literal_eval` (literals only,
nothing is evaluated), with JSON's ``true``/``false``/``null`` accepted as well.

Which keys an operation takes, and which values a key admits, come from the generated client: the body
parameters of ``Images.generate``/``edit``/``create_variation`` and the ``Literal`` aliases of
the client's parameter types they are annotated with. There is no second list here.
"""

from __future__ import annotations

import ast
import functools
import inspect
import io
import json
import tokenize
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

import imagewire_client
from imagewire.cli.common import UsageProblem, words
from imagewire_client import Images

__all__ = ["Field", "body_fields", "choices", "merge", "parse"]

#: operation -> the client method that performs it
METHODS: Mapping[str, Callable[..., Any]] = {
    "generations": Images.generate,
    "edits": Images.edit,
    "variations": Images.create_variation,
}
#: parameters of the client methods that are call options, not request fields
_CALL_OPTIONS = frozenset({"validate", "timeout", "max_retries", "retry_read_errors"})
#: annotation names of parameters that carry files or references (given as arguments, not in --descr)
_FILE_TYPES = frozenset({"FileInput", "ImageReference"})
_DESCR_LIMIT = 1_000_000  # characters


class Field(NamedTuple):
    """One request field of an operation: its JSON type and, for an enum, the values the spec admits."""

    name: str
    kind: Literal["str", "int", "bool"]
    choices: tuple[str, ...] | None = None  # closed set (a Literal alias without ``| str``)
    suggestions: tuple[str, ...] | None = None  # listed values of an open field (``ImageSize | str``)


def choices(alias: object) -> tuple[str, ...]:
    """The values of a ``Literal`` alias of the generated client, as strings."""
    return tuple(str(value) for value in typing.get_args(alias))


def _field(name: str, annotation: str) -> Field | None:
    terms = {term.strip() for term in annotation.replace("Sequence[", "").replace("]", "").split("|")}
    terms.discard("None")
    if terms & _FILE_TYPES or not terms:
        return None
    literals: list[str] = []
    for term in sorted(terms):
        alias = getattr(imagewire_client, term, None)
        if alias is not None and typing.get_origin(alias) is Literal:
            literals += choices(alias)
    if "bool" in terms:
        return Field(name, "bool")
    if "int" in terms:
        return Field(name, "int")
    if "str" in terms:
        return Field(name, "str", None, tuple(literals) or None)
    return Field(name, "str", tuple(literals) or None)


@functools.cache
def body_fields(operation: str) -> dict[str, Field]:
    """The request fields ``operation`` takes besides files, in the client's order (``stream`` included)."""
    out: dict[str, Field] = {}
    for name, param in inspect.signature(METHODS[operation]).parameters.items():
        if name == "self" or name in _CALL_OPTIONS or name.startswith("extra_"):
            continue
        field = _field(name, str(param.annotation))
        if field is not None:
            out[name] = field
    return out


def _json_names_to_python(text: str) -> str:
    """``true``/``false``/``null`` as Python names, leaving strings alone."""
    names = {"true": "True", "false": "False", "null": "None"}
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME and token.string in names:
            token = token._replace(string=names[token.string])
        tokens.append(token)
    return tokenize.untokenize(tokens)


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        return ast.literal_eval(_json_names_to_python(text))
    except SyntaxError as err:
        why = f"{err.msg} at column {err.offset}" if err.offset else err.msg
    except (tokenize.TokenError, MemoryError, RecursionError) as err:
        why = f"{type(err).__name__}: {err}"
    except (ValueError, TypeError):
        why = "only literal values are allowed (strings, numbers, true/false/null, lists and objects)"
    raise UsageProblem(
        f"--descr is neither a JSON object nor a quoted object like {{'prompt':'Yellow alpaca','n':1}}: {why}",
        rule="descr",
    )


def parse(text: str) -> dict[str, Any]:
    """``--descr`` as a dict: JSON text, a path to a ``.json`` file, or a single-quoted Python-style dict."""
    source = text.strip()
    if not source.startswith(("{", "[")):
        path = Path(text)
        if not path.is_file():
            raise UsageProblem(
                f"--descr {text!r} is neither an object ({{...}}) nor a readable .json file", rule="descr"
            )
        try:
            if path.stat().st_size > _DESCR_LIMIT:
                raise UsageProblem(f"--descr file {text!r} is larger than {_DESCR_LIMIT:,} bytes", rule="descr")
            source = path.read_text(encoding="utf-8-sig").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise UsageProblem(f"--descr file {text!r} cannot be read: {err}", rule="descr") from None
    if len(source) > _DESCR_LIMIT:
        raise UsageProblem(f"--descr is longer than {_DESCR_LIMIT:,} characters", rule="descr")
    try:
        value = json.loads(source)
    except (ValueError, RecursionError):
        value = _literal(source)
    if not isinstance(value, dict):
        raise UsageProblem(f"--descr must be an object of request fields, not {type(value).__name__}", rule="descr")
    for key in value:
        if not isinstance(key, str):
            raise UsageProblem(f"--descr keys must be strings, not {key!r}", rule="descr")
    return value


def _check_value(field: Field, value: Any) -> None:
    where = f"--descr {field.name!r}"
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise UsageProblem(f"{where} must be true or false, not {value!r}", rule="descr", field=field.name)
        return
    if field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageProblem(f"{where} must be a whole number, not {value!r}", rule="descr", field=field.name)
        return
    if not isinstance(value, str):
        raise UsageProblem(f"{where} must be a string, not {value!r}", rule="descr", field=field.name)
    if field.choices is not None and value not in field.choices:
        raise UsageProblem(
            f"{where} {value!r} is not a value the spec admits; choose {words(field.choices)}",
            rule="values",
            field=field.name,
            allowed=field.choices,
        )


def merge(
    operation: str, descr: Mapping[str, Any], explicit: Mapping[str, Any], *, validate: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Request fields from ``--descr`` overridden by the explicit options (those not ``None``).

    Returns ``(fields, extra)``: ``extra`` holds ``--descr`` keys the operation does not know, which are
    refused unless ``validate`` is false (then they are sent as they are).
    """
    known = body_fields(operation)
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in descr.items():
        field = known.get(key)
        if field is None:
            if validate:
                raise UsageProblem(
                    f"--descr key {key!r} is not a field of {operation}; it takes {words(known, 'and')} "
                    "(--no-validate sends unknown keys as they are)",
                    rule="descr",
                    field=key,
                    allowed=known,
                )
            extra[key] = value
            continue
        if value is None:
            continue
        if validate:
            _check_value(field, value)
        fields[key] = value
    fields.update({key: value for key, value in explicit.items() if value is not None})
    return fields, extra
