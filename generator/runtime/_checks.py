"""Per-model checks, run before any request: is this model, operation, field, value and file acceptable?

The rules come from the model catalog (:mod:`._catalog`, generated from the spec's ``models`` catalog). :func:`check` raises :class:`CheckError` for the first problem found, in this
order: operation name, model, model lifecycle, operation offered, operation lifecycle, body encoding,
each set field in alphabetical order (accepted, encoding, value), combination rules (catalog order),
prompt length, input images, mask.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ._catalog import MODELS, OPERATIONS, STRUCTURAL
from ._catalog_types import GONE, Model, OperationRules, Param, SizeRule
from ._facts import SCHEMA

if TYPE_CHECKING:
    from ._multipart import Upload

__all__ = [
    "STRUCTURAL",
    "CheckError",
    "allowed_values",
    "check",
    "check_schema",
    "size_problem",
    "suggest",
    "text_bounds",
]

_FORMAT_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "gif": "GIF"}
_ENCODING_NAMES = {"json": "JSON", "multipart": "multipart/form-data"}


class CheckError(ValueError):
    """A request a model would reject, found before sending it. The message is what users read.

    ``rule`` names the check: ``operation``, ``model``, ``lifecycle``, ``encoding``, ``param`` (a field
    the model does not take), ``values``, ``size``, ``n``, ``range`` (other numeric fields), ``prompt``,
    ``images``, ``mask`` or ``rule:<catalog rule id>``; the spec's own schema constraints
    (:func:`check_schema`) are ``schema:<keyword>`` (``schema:enum``, ``schema:minimum``, ``schema:pattern``,
    ...). ``allowed`` lists acceptable values when known.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        field: str | None = None,
        allowed: tuple[str, ...] | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field
        self.allowed = allowed
        self.model = model

    def __repr__(self) -> str:
        return f"CheckError({self.message!r}, rule={self.rule!r}, field={self.field!r})"


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _unset(value: object) -> bool:
    return value is None or type(value).__name__ == "Unset"


def _show(value: object) -> str:
    value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def suggest(word: object, choices: Sequence[str]) -> str:
    """``"; did you mean X?"`` for the closest of ``choices`` to a misspelt ``word``, or ``""``."""
    from difflib import get_close_matches

    if not isinstance(word, str) or not choices:
        return ""
    sized = word.replace("x", "").isdigit()  # a size: only a slip of a digit or two, not another size
    close = get_close_matches(word, list(choices), n=1, cutoff=0.85 if sized else 0.75)
    return f"; did you mean {close[0]}?" if close and close[0] != word else ""


def _choices(items: Sequence[str], last: str = "or") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _bytes(n: int) -> str:
    mib = 1024 * 1024
    if n >= mib and n % mib == 0:
        return f"{n:,} bytes ({n // mib} MiB)"
    return f"{n:,} bytes"


def allowed_values(
    model: str, operation: str, field: str, *, models: Mapping[str, Model] = MODELS
) -> tuple[str, ...] | None:
    """The values ``model`` lists for ``field`` in ``operation`` (booleans as ``true``/``false``).

    ``None`` when the model, operation or field is unknown or the field has no list of values (free
    text, a numeric range). For a size with a rule (gpt-image-2) only the listed values (``auto``) are
    returned; free ``WxH`` sizes are accepted besides them.
    """
    entry = models.get(model)
    rules = entry.operations.get(operation) if entry is not None else None
    param = rules.params.get(field) if rules is not None else None
    if param is None or param.values is None:
        return None
    return tuple(_show(v) for v in param.values)


def _offering(operation: str, models: Mapping[str, Model], *, usable: bool = False) -> tuple[str, ...]:
    return tuple(
        model_id
        for model_id, m in models.items()
        if operation in m.operations and not (usable and m.lifecycle.status in GONE)
    )


def check(
    operation: str,
    fields: Mapping[str, object],
    *,
    images: Sequence[Upload] = (),
    mask: Upload | None = None,
    encoding: str = "json",
    models: Mapping[str, Model] = MODELS,
    allow_retired: bool = False,
) -> None:
    """Check one request against the catalog; raise :class:`CheckError` on the first problem.

    ``fields`` holds what the caller set (``None`` counts as not set), including ``model`` and ``prompt``;
    ``images`` and ``mask`` are the files of a multipart edit or variation (a JSON edit passes its
    references in ``fields["images"]``/``fields["mask"]``, which are counted but not inspected).
    ``encoding`` is the request body: ``json`` or ``multipart``. ``allow_retired`` lets retired and
    shut-down models and operations through (providers still serve some), checking them as usual.
    """
    values = {name: _plain(value) for name, value in fields.items() if not _unset(value)}

    # -- operation name
    if operation not in OPERATIONS and not _offering(operation, models):
        raise CheckError(
            f"unknown operation {operation!r}; choose {_choices(list(OPERATIONS))}",
            rule="operation",
            allowed=tuple(OPERATIONS),
        )

    # -- model
    model_id = values.get("model")
    if model_id is None:
        usable = _offering(operation, models, usable=True)
        raise CheckError(
            f"model is required: the server's default model for {operation} is disputed or retired, so name one "
            f"({', '.join(usable) or 'none is known'}), or pass validate=False to send the request unchecked",
            rule="model",
            field="model",
            allowed=usable,
        )
    entry = models.get(model_id) if isinstance(model_id, str) else None
    if entry is None:
        known = _offering(operation, models)
        raise CheckError(
            f"unknown model {_show(model_id)!r} for {operation}{suggest(model_id, known) or '.'} Known models that offer "
            f"it: {', '.join(known) or 'none'}; for a model the spec does not know yet, pass validate=False to send it anyway",
            rule="model",
            field="model",
            allowed=known,
        )
    model = entry.id

    # -- lifecycle (``deprecated`` and ``preview`` models pass)
    life = entry.lifecycle
    if life.status in GONE and not allow_retired:
        verb = "was retired" if life.status == "retired" else "was shut down"
        when = f" on {life.retired_on}" if life.retired_on else ""
        if life.replacement:
            advice = f"use {life.replacement} instead, or pass validate=False if your provider still serves it"
        else:
            advice = "name a live model, or pass validate=False if your provider still serves it"
        raise CheckError(
            f"{model} {verb}{when}; {advice}",
            rule="lifecycle",
            field="model",
            # several replacements are one advice, "a or b"; model ids hold no spaces
            allowed=tuple(life.replacement.split(" or ")) if life.replacement else None,
            model=model,
        )

    # -- operation offered
    rules = entry.operations.get(operation)
    if rules is None:
        offering = _offering(operation, models)
        others = f"models that do: {', '.join(offering)}" if offering else "no known model does"
        raise CheckError(
            f"{model} does not offer {operation}; {others}",
            rule="operation",
            field="model",
            allowed=offering,
            model=model,
        )

    # -- operation lifecycle
    op = OPERATIONS.get(operation)
    if op is not None and op.status in GONE and not allow_retired:
        verb = "was retired" if op.status == "retired" else "was shut down"
        when = f" on {op.retired_on}" if op.retired_on else ""
        raise CheckError(
            f"the {operation} operation {verb}{when}; pass validate=False if your provider still serves it",
            rule="lifecycle",
            model=model,
        )

    # -- body encoding
    accepted = rules.encodings or (op.encodings if op is not None else ())
    if encoding not in _ENCODING_NAMES or (accepted and encoding not in accepted):
        names = [_ENCODING_NAMES.get(e, e) for e in accepted or tuple(_ENCODING_NAMES)]
        raise CheckError(
            f"{model} accepts {operation} only as {_choices(names)}, not as {_ENCODING_NAMES.get(encoding, encoding)}",
            rule="encoding",
            allowed=tuple(accepted),
            model=model,
        )

    # -- each set field
    structural = STRUCTURAL.get(operation, frozenset({"prompt", "model"}))
    for name in sorted(values):
        if name in structural:
            continue
        param = rules.params.get(name)
        if param is None:
            raise CheckError(
                f"{name} is not accepted by {model} for {operation}",
                rule="param",
                field=name,
                allowed=tuple(rules.params),
                model=model,
            )
        if param.encodings and encoding not in param.encodings:
            wanted = _choices([_ENCODING_NAMES.get(e, e) for e in param.encodings])
            raise CheckError(
                f"{name} cannot be sent in a {_ENCODING_NAMES.get(encoding, encoding)} body to {model} for {operation}; "
                f"use the {wanted} form of the request, or leave {name} out",
                rule="encoding",
                field=name,
                allowed=param.encodings,
                model=model,
            )
        _check_value(name, values[name], param, model)

    # -- combination rules
    _check_rules(rules, values, model, mask)

    # -- prompt
    prompt = values.get("prompt")
    limit = entry.prompt_max_length
    if isinstance(prompt, str) and limit is not None and len(prompt) > limit:
        raise CheckError(
            f"prompt is {len(prompt):,} characters long; {model} takes at most {limit:,}",
            rule="prompt",
            field="prompt",
            model=model,
        )

    # -- input images and mask
    _check_images(operation, rules, values, images, encoding, model)
    _check_mask(operation, rules, mask, images, model)


def _check_value(name: str, value: object, param: Param, model: str) -> None:
    if param.values is not None or param.rule is not None:
        listed = param.values or ()
        if not any(_same(v, value) for v in listed):
            if param.rule is not None:
                _check_size(name, value, listed, param.rule, model)
            else:
                choices = tuple(_show(v) for v in listed)
                raise CheckError(
                    f"{name} {_show(value)!r} is not available for {model}"
                    + (f"{hint} Choose" if (hint := suggest(_show(value), choices)) else "; choose")
                    + f" {_choices(choices)}",
                    rule="values",
                    field=name,
                    allowed=choices,
                    model=model,
                )
    if param.min is None and param.max is None:
        return
    rule = "n" if name == "n" else "range"
    if isinstance(value, bool) or not isinstance(value, int):
        raise CheckError(f"{name} must be a whole number, not {_show(value)!r}", rule=rule, field=name, model=model)
    low, high = param.min, param.max
    if (low is None or value >= low) and (high is None or value <= high):
        return
    # the bounds are compared, never the range built: a few values are listed, a wide range only named
    few = low is not None and high is not None and high - low < 20
    allowed = tuple(str(i) for i in range(low, high + 1)) if few and low is not None and high is not None else None
    if low is not None and low == high:
        hint = f"only {low} is allowed"
    elif low is not None and high is not None:
        hint = f"choose {low} to {high}"
    elif low is not None:
        hint = f"choose at least {low}"
    else:
        hint = f"choose at most {high}"
    raise CheckError(
        f"{name} {value} is out of range for {model}; {hint}", rule=rule, field=name, allowed=allowed, model=model
    )


def _parse_size(value: object) -> tuple[int, int] | None:
    """``WxH`` with positive decimal sides (no sign, no leading zero, at most 9 digits each)."""
    if not isinstance(value, str):
        return None
    width, sep, height = value.partition("x")
    for side in (width, height):
        if not (side.isascii() and side.isdigit() and 1 <= len(side) <= 9 and side[0] != "0"):
            return None
    return (int(width), int(height)) if sep else None


def _ratio(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    w, sep, h = text.partition(":")
    if not (sep and w.isascii() and w.isdigit() and h.isascii() and h.isdigit() and int(w) > 0 and int(h) > 0):
        return None
    return int(w), int(h)


def size_problem(width: int, height: int, rule: SizeRule) -> str | None:
    """Why ``WxH`` breaks ``rule`` (the first constraint that fails), or ``None`` when it satisfies all."""
    if width < 1 or height < 1:
        return "width and height must be positive"
    sides = (("width", width), ("height", height))
    if rule.multiple_of:
        for side, v in sides:
            if v % rule.multiple_of:
                return f"width and height must be multiples of {rule.multiple_of}; the {side} {v} is not"
    if rule.min_side is not None:
        for side, v in sides:
            if v < rule.min_side:
                return f"each side must be at least {rule.min_side} pixels; the {side} is {v}"
    if rule.max_side is not None:
        for side, v in sides:
            if v > rule.max_side:
                return f"each side must be at most {rule.max_side} pixels; the {side} is {v}"
    pixels = width * height
    if rule.min_pixels is not None and pixels < rule.min_pixels:
        return f"it must have at least {rule.min_pixels:,} pixels; {width}x{height} has {pixels:,}"
    if rule.max_pixels is not None and pixels > rule.max_pixels:
        return f"it may have at most {rule.max_pixels:,} pixels; {width}x{height} has {pixels:,}"
    low, high = _ratio(rule.aspect_min), _ratio(rule.aspect_max)
    # width/height >= a/b  <=>  width*b >= a*height (integers, no rounding)
    if (low is not None and width * low[1] < low[0] * height) or (
        high is not None and width * high[1] > high[0] * height
    ):
        from math import gcd

        g = gcd(width, height)
        bounds = (
            f"between {rule.aspect_min} and {rule.aspect_max}"
            if low and high
            else f"at least {rule.aspect_min}"
            if low
            else f"at most {rule.aspect_max}"
        )
        return f"the aspect ratio must be {bounds}; {width}x{height} is {width // g}:{height // g}"
    return None


def _check_size(name: str, value: object, listed: Sequence[object], rule: SizeRule, model: str) -> None:
    choices = tuple(_show(v) for v in listed)
    parsed = _parse_size(value)
    if parsed is None:
        example = " (e.g. 1024x1024)" if size_problem(1024, 1024, rule) is None else ""
        options = _choices([*choices, f"a size WxH in pixels{example}"])
        raise CheckError(
            f"{name} {_show(value)!r} is not available for {model}; choose {options}",
            rule="size",
            field=name,
            allowed=choices,
            model=model,
        )
    problem = size_problem(parsed[0], parsed[1], rule)
    if problem is not None:
        raise CheckError(
            f"{name} {_show(value)!r} is not available for {model}: {problem}",
            rule="size",
            field=name,
            allowed=choices,
            model=model,
        )


def _check_rules(rules: OperationRules, values: Mapping[str, object], model: str, mask: Upload | None) -> None:
    def is_set(name: str) -> bool:
        return name in values or (name == "mask" and mask is not None)

    for rule in rules.rules:
        if not is_set(rule.if_field):
            continue
        if rule.if_in is not None and not any(_same(v, values.get(rule.if_field)) for v in rule.if_in):
            continue
        then = rule.then_field
        if rule.then_absent:
            if is_set(then):
                raise CheckError(rule.message, rule=f"rule:{rule.id}", field=then, model=model)
            continue
        if rule.then_in is None:
            continue
        allowed = tuple(_show(v) for v in rule.then_in)
        if then in values:
            current, why = values[then], f"{then} is {_show(values[then])!r}"
        elif then in rules.defaults:
            current = rules.defaults[then]
            why = f"{then} is not set and {model} defaults to {_show(current)}"
        else:
            continue  # unset, and the server default is unknown: the server decides
        if not any(_same(v, current) for v in rule.then_in):
            raise CheckError(
                f"{rule.message} ({why})", rule=f"rule:{rule.id}", field=then, allowed=allowed, model=model
            )


def _references(values: Mapping[str, object]) -> int:
    """How many input images a request names in ``fields`` (JSON references or unread files)."""
    for key in ("images", "image"):
        value = values.get(key)
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            return len(value)
        return 1
    return 0


def _label(field: str, index: int, total: int, upload: Upload) -> str:
    if total == 1:
        return f"{field} {upload.filename!r}"
    return f"{field} {index} of {total} ({upload.filename!r})"


def _check_images(
    operation: str,
    rules: OperationRules,
    values: Mapping[str, object],
    images: Sequence[Upload],
    encoding: str,
    model: str,
) -> None:
    field = "image" if encoding == "multipart" else "images"
    spec = rules.images
    count = len(images) if images else _references(values)
    if spec is None:
        if count:
            raise CheckError(f"{model} takes no input images for {operation}", rule="images", field=field, model=model)
        return
    if not spec.min_count <= count <= spec.max_count:
        if spec.min_count == spec.max_count:
            wanted = f"exactly {_count(spec.min_count, 'image')}"
        else:
            wanted = f"{spec.min_count} to {spec.max_count} images"
        raise CheckError(
            f"{model} takes {wanted} for {operation}; got {count or 'none'}",
            rule="images",
            field=field,
            model=model,
        )
    formats = tuple(_FORMAT_NAMES.get(f, f) for f in spec.formats)
    for index, upload in enumerate(images, 1):
        label = _label(field, index, len(images), upload)
        info = upload.info
        if spec.formats and (info is None or info.format not in spec.formats):
            what = f"is {_article(_FORMAT_NAMES[info.format])}" if info is not None else "is not a recognised image"
            raise CheckError(
                f"{label} {what}; {model} takes {_choices(formats)}{' only' if len(formats) == 1 else ''} for {operation}",
                rule="images",
                field=field,
                allowed=spec.formats,
                model=model,
            )
        if spec.max_bytes is not None and len(upload.data) > spec.max_bytes:
            raise CheckError(
                f"{label} is {len(upload.data):,} bytes; {model} takes at most {_bytes(spec.max_bytes)} per image",
                rule="images",
                field=field,
                model=model,
            )
        # square: checked when the header gave the dimensions
        if spec.square and info is not None and info.width and info.height and info.width != info.height:
            raise CheckError(
                f"{label} is {info.width}x{info.height} pixels; {model} needs a square image for {operation}",
                rule="images",
                field=field,
                model=model,
            )


def _article(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def _check_mask(
    operation: str, rules: OperationRules, mask: Upload | None, images: Sequence[Upload], model: str
) -> None:
    if mask is None:
        return
    spec = rules.mask
    if spec is None:
        raise CheckError(f"{model} takes no mask for {operation}", rule="mask", field="mask", model=model)
    label = f"mask {mask.filename!r}"
    info = mask.info
    if spec.formats and (info is None or info.format not in spec.formats):
        formats = tuple(_FORMAT_NAMES.get(f, f) for f in spec.formats)
        what = f"is {_article(_FORMAT_NAMES[info.format])}" if info is not None else "is not a recognised image"
        raise CheckError(
            f"{label} {what}; {model} takes {_choices(formats)}{' only' if len(formats) == 1 else ''} as a mask",
            rule="mask",
            field="mask",
            allowed=spec.formats,
            model=model,
        )
    if spec.max_bytes is not None and len(mask.data) > spec.max_bytes:
        raise CheckError(
            f"{label} is {len(mask.data):,} bytes; {model} takes at most {_bytes(spec.max_bytes)} as a mask",
            rule="mask",
            field="mask",
            model=model,
        )
    first = images[0].info if images else None
    if (
        spec.same_size_as_first
        and info is not None
        and first is not None
        and None not in (info.width, info.height, first.width, first.height)
        and (info.width, info.height) != (first.width, first.height)
    ):
        raise CheckError(
            f"{label} is {info.width}x{info.height} pixels but the first image is {first.width}x{first.height}; "
            "they must be the same size",
            rule="mask",
            field="mask",
            model=model,
        )


# --- the spec's own schema constraints ------------------------------------------------------------------

#: JSON Schema type -> what a Python value of it is
_KINDS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (Mapping,),
}


def _kind_of(value: object, alternative: Mapping[str, Any]) -> bool:
    kinds = str(alternative.get("type", "any")).split("|")
    if "any" in kinds:
        return True
    if isinstance(value, bool):
        return "boolean" in kinds
    return any(isinstance(value, _KINDS.get(kind, ())) for kind in kinds)


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _brief(value: object, limit: int = 60) -> str:
    text = _show(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _violation(name: str, value: object, alt: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...] | None] | None:
    """The first constraint of ``alt`` that ``value`` breaks, as (keyword, message, allowed); None: it passes.
    Lengths and counts are compared before a pattern is searched; bounds are compared, never enumerated."""
    low, high = alt.get("minimum"), alt.get("maximum")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        below, above = low is not None and value < low, high is not None and value > high
        if below or above:
            if low is not None and high is not None:
                bounds = f"{low} to {high}"
            else:
                bounds = f"at least {low}" if low is not None else f"at most {high}"
            return "minimum" if below else "maximum", f"{name} {value} is out of range; the spec allows {bounds}", None
    if isinstance(value, (str, list, tuple)):
        size = len(value)
        unit = "characters" if isinstance(value, str) else "items"
        short, long = ("minLength", "maxLength") if isinstance(value, str) else ("minItems", "maxItems")
        if alt.get(short) is not None and size < alt[short]:
            return short, f"{name} has {size:,} {unit}; the spec asks for at least {alt[short]:,}", None
        if alt.get(long) is not None and size > alt[long]:
            return long, f"{name} has {size:,} {unit}; the spec allows at most {alt[long]:,}", None
    enum = alt.get("enum")
    if enum is not None and not any(_same(v, value) for v in enum):
        choices = tuple(_show(v) for v in enum)
        return "enum", f"{name} {_brief(value)!r} is not one of the spec's values: {_choices(choices)}", choices
    if isinstance(value, str) and alt.get("pattern") is not None and not _pattern(alt["pattern"]).search(value):
        return "pattern", f"{name} {_brief(value)!r} does not match the spec's pattern {alt['pattern']}", None
    return None


def check_schema(
    operation: str,
    encoding: str,
    fields: Mapping[str, object],
    *,
    schema: Mapping[str, Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]]] = SCHEMA,
) -> None:
    """Check the set fields against the constraints of their own schema in the spec, whatever the model;
    raise :class:`CheckError` (rule ``schema:<keyword>``) for the first field, in alphabetical order, that
    no alternative of its kind accepts. A value of a kind the schema does not constrain is left alone."""
    table = schema.get(operation, {}).get(encoding, {})
    for name in sorted(fields):
        alternatives = table.get(name)
        value = _plain(fields[name])
        if not alternatives or _unset(value):
            continue
        fitting = [alt for alt in alternatives if _kind_of(value, alt)]
        if not fitting:
            continue
        found = [_violation(name, value, alt) for alt in fitting]
        if any(problem is None for problem in found):
            continue
        problems = [p for p in found if p is not None]
        keyword, message, allowed = problems[0]
        if len(problems) > 1:  # e.g. size: one of the listed values, or text matching WxH
            keyword = "|".join(dict.fromkeys(p[0] for p in problems))
            forms = " or ".join(_form(alt) for alt in fitting)
            message = f"{name} {_brief(value)!r} is not accepted by the spec, which takes {forms}"
            allowed = next((p[2] for p in problems if p[2] is not None), None)
        raise CheckError(message, rule=f"schema:{keyword}", field=name, allowed=allowed)


@lru_cache(maxsize=64)
def text_bounds(operation: str, encoding: str, name: str) -> tuple[int, float] | None:
    """(least, most) characters when the spec constrains the field ``name`` only as text of a length, so that
    :func:`check_schema` passes a string of that field exactly when its length is within them; None when its
    schema says more (a pattern, an enum, several alternatives) or nothing."""
    alternatives = SCHEMA.get(operation, {}).get(encoding, {}).get(name)
    if not alternatives or len(alternatives) != 1:
        return None
    alt = alternatives[0]
    if alt.get("type") != "string" or not set(alt) <= {"type", "minLength", "maxLength"}:
        return None
    most = alt.get("maxLength")
    return int(alt.get("minLength") or 0), float("inf") if most is None else most


def _form(alt: Mapping[str, Any]) -> str:
    """One alternative of a schema in words: ``one of a, b or c``, ``text matching ^x$``, ``1 to 10``."""
    parts = []
    if alt.get("enum") is not None:
        parts.append(f"one of {_choices([_show(v) for v in alt['enum']])}")
    if alt.get("pattern") is not None:
        parts.append(f"text matching {alt['pattern']}")
    for low, high, unit in (("minimum", "maximum", ""), ("minLength", "maxLength", " characters")):
        if alt.get(low) is not None or alt.get(high) is not None:
            parts.append(f"{alt.get(low, '')}..{alt.get(high, '')}{unit}")
    return ", ".join(parts) or str(alt.get("type", "any"))
