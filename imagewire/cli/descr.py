"""``--descr``: request fields given as one JSON object, a ``.json`` file, or OpenIntegrations' quoted form.

OpenIntegrations' ``oint openai GetImages --descr "{'prompt':'Yellow alpaca','n':1,'size':'1024x1024'}"``
passes a Python-style dict with single quotes; it is read with :func:`ast.literal_eval` (literals only,
nothing is evaluated), with JSON's ``true``/``false``/``null`` accepted as well.

Which keys an operation takes, and which values a key admits, come from the generated client through
:mod:`imagewire.cli.fields`. There is no second list here.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imagewire.cli.common import UsageProblem, words
from imagewire.cli.fields import Field, choices, request_fields

__all__ = ["Field", "body_fields", "choices", "merge", "parse"]

_DESCR_LIMIT = 1_000_000  # characters


def body_fields(operation: str) -> dict[str, Field]:
    """The request fields ``operation`` takes as values (``stream`` included; files and references are not)."""
    return {name: f for name, f in request_fields(operation).items() if f.kind in ("str", "int", "bool", "object")}


def _json_names_to_python(text: str) -> str:
    """``true``/``false``/``null`` as Python names, leaving strings alone."""
    names = {"true": "True", "false": "False", "null": "None"}
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.NAME and token.string in names:
            token = token._replace(string=names[token.string])
        tokens.append(token)
    return tokenize.untokenize(tokens)


_CLOSING = {"{": "}", "[": "]", "(": ")"}


def _unbalanced(text: str) -> str | None:
    """What is left open or closed too often in ``text`` (strings are skipped), or None when it balances."""
    opened: list[tuple[str, int]] = []
    quote: tuple[str, int] | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == "\\":
                index += 2
                continue
            if char == quote[0]:
                quote = None
        elif char in "'\"":
            quote = (char, index)
        elif char in _CLOSING:
            opened.append((char, index))
        elif char in _CLOSING.values():
            if not opened:
                return f"{char!r} at column {index + 1} closes nothing that is open"
            if _CLOSING[opened[-1][0]] != char:
                last, where = opened[-1]
                return f"{char!r} at column {index + 1} does not close {last!r} at column {where + 1}"
            opened.pop()
        index += 1
    if quote is not None:
        return f"the string opened at column {quote[1] + 1} is not closed"
    if opened:
        char, where = opened[-1]
        return f"{char!r} at column {where + 1} is not closed with {_CLOSING[char]!r}"
    return None


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    why = _unbalanced(text)
    if why is None:
        try:
            return ast.literal_eval(_json_names_to_python(text))
        except SyntaxError as err:
            hint = " (a comma missing?)" if "comma" in (err.msg or "") else ""
            why = f"unexpected text at column {err.offset}{hint}" if err.offset else "not an object"
        except (tokenize.TokenError, MemoryError, RecursionError):
            why = "not an object"
        except (ValueError, TypeError):
            why = "only literal values are allowed (strings, numbers, true/false/null, lists and objects)"
    raise UsageProblem(
        f"--descr: {why}; give a JSON object or a quoted one like {{'prompt':'Yellow alpaca','n':1}}",
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
    if field.kind == "object":
        if not isinstance(value, dict):
            raise UsageProblem(f"{where} must be an object, not {value!r}", rule="descr", field=field.name)
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
