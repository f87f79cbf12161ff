"""The tolerant reader behind every result class.

Answers are read by the contract, and what a provider adds is kept, not dropped: unknown keys go to
``extra``; a missing required field, a null where a value was expected or a value of the wrong type is
noted in ``warnings`` (with its JSON pointer) and read as ``None``. Only an answer that cannot be read
at all (not an object where one is needed) raises :class:`ShapeError`.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple, TypeVar

__all__ = ["Field", "Model", "ShapeError", "read"]

M = TypeVar("M", bound="Model")


class ShapeError(Exception):
    """The answer cannot be read as the contract's shape; ``pointer`` says where."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{pointer or '/'}: {reason}")
        self.pointer = pointer
        self.reason = reason


class Field(NamedTuple):
    attr: str
    key: str
    kind: str  # str | int | float | bool | any | model | list
    model: type[Model] | None = None  # for kind model, or list of models
    item: str | None = None  # for kind list: the kind of each item
    nullable: bool = True
    required: bool = False


class Model:
    """Base of every result class: ``extra`` keeps unknown keys, ``warnings`` lists undeclared deviations
    read past (``"<JSON pointer>: <what>"``), ``quirks`` the ids of the provider's declared quirks seen.

    Result classes are plain classes with ``__slots__`` and a generated keyword-only ``__init__``: equal when
    of the same class with equal fields (``extra``, ``warnings`` and ``quirks`` included), unhashable, shown
    by their contract fields. No class machinery runs at import."""

    __slots__ = ("_client", "extra", "quirks", "warnings")
    __hash__ = None  # type: ignore[assignment]  # mutable and compared by value

    extra: dict[str, Any]
    warnings: list[str]
    quirks: list[str]
    _client: Any

    _FIELDS: ClassVar[tuple[Field, ...]] = ()

    def __init__(
        self,
        *,
        extra: dict[str, Any] | None = None,
        warnings: list[str] | None = None,
        quirks: list[str] | None = None,
        client: Any = None,
    ) -> None:
        self.extra = {} if extra is None else extra
        self.warnings = [] if warnings is None else warnings
        self.quirks = [] if quirks is None else quirks
        self._client = client

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.attr}={getattr(self, f.attr)!r}" for f in self._FIELDS)
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Model)
        return self._compared() == other._compared()

    def _compared(self) -> tuple[Any, ...]:
        return (self.extra, self.warnings, self.quirks, *(getattr(self, f.attr) for f in self._FIELDS))

    @classmethod
    def _quick(cls, data: dict[str, Any]) -> Any:
        """``data`` read straight when it is the contract exactly, with nothing to note; None for anything else.
        Result classes generate theirs (straight-line code per class); :func:`read` falls back on itself."""
        return None

    @classmethod
    def from_dict(cls: type[M], data: Any) -> M:
        """Read ``data`` (decoded JSON); deviations land in ``warnings`` of the returned object."""
        notes: list[str] = []
        obj = read(cls, data, "", notes)
        obj.warnings = notes
        return obj

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-ready data: known fields that are set, then the extra keys."""
        out: dict[str, Any] = {}
        for f in self._FIELDS:
            value = getattr(self, f.attr)
            if value is None:
                continue
            if isinstance(value, Model):
                value = value.to_dict()
            elif isinstance(value, list):
                value = [v.to_dict() if isinstance(v, Model) else v for v in value]
            out[f.key] = value
        out.update(self.extra)
        return out


_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,)}


def _name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )


def _value(f: Field, kind: str, value: Any, pointer: str, notes: list[str]) -> Any:
    if value is None:
        if not f.nullable:
            notes.append(f"{pointer}: null where the contract expects {kind}")
        return None
    if kind == "any":
        return value
    if kind == "model":
        if not isinstance(value, dict):
            notes.append(f"{pointer}: expected an object, got {_name(value)}")
            return None
        assert f.model is not None
        return read(f.model, value, pointer, notes)
    types = _TYPES[kind]
    if isinstance(value, types) and not (kind != "bool" and isinstance(value, bool)):
        return value
    if kind == "int" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        notes.append(f"{pointer}: integer sent as a string")
        return int(value)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        notes.append(f"{pointer}: integer sent as a number")
        return int(value)
    if kind == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
        notes.append(f"{pointer}: string sent as a number")
        return str(value)
    notes.append(f"{pointer}: expected {kind}, got {_name(value)}")
    return None


_INDEX: dict[type, tuple[dict[str, Field], tuple[Field, ...]]] = {}
#: kinds whose values are taken as they are when their type is exactly this
_EXACT: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _index(cls: type[Model]) -> tuple[dict[str, Field], tuple[Field, ...]]:
    found = _INDEX.get(cls)
    if found is None:
        found = ({f.key: f for f in cls._FIELDS}, tuple(f for f in cls._FIELDS if f.required))
        _INDEX[cls] = found
    return found


def _where(pointer: str, key: object) -> str:
    return f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"


def read(cls: type[M], data: Any, pointer: str, notes: list[str]) -> M:
    """Build ``cls`` from ``data``; raise :class:`ShapeError` when ``data`` is not an object."""
    if data.__class__ is dict:
        quick: M | None = cls._quick(data)
        if quick is not None:  # the contract exactly: no notes, the same object the generic path builds
            return quick
    elif not isinstance(data, dict):
        raise ShapeError(pointer, f"expected an object, got {_name(data)}")
    by_key, required = _index(cls)
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        f = by_key.get(key)
        if f is None:
            extra[key] = value
            continue
        kind = f.kind
        if kind == "any" or value.__class__ is _EXACT.get(kind):
            values[f.attr] = value
        elif kind == "list":
            where = _where(pointer, key)
            if value is None:
                if not f.nullable:
                    notes.append(f"{where}: null where the contract expects an array")
                values[f.attr] = []
            elif not isinstance(value, list):
                notes.append(f"{where}: expected an array, got {_name(value)}")
                values[f.attr] = []
            elif f.item == "model" and f.model is not None:  # objects: read straight, anything else noted
                model = f.model
                values[f.attr] = [
                    read(model, v, f"{where}/{i}", notes)
                    if v.__class__ is dict
                    else _value(f, "model", v, f"{where}/{i}", notes)
                    for i, v in enumerate(value)
                ]
            else:
                item_kind = f.item or "any"
                values[f.attr] = [_value(f, item_kind, v, f"{where}/{i}", notes) for i, v in enumerate(value)]
        else:
            values[f.attr] = _value(f, kind, value, _where(pointer, key), notes)
    for f in required:
        if f.key not in data:
            notes.append(f"{pointer}/{f.key}: missing (the contract requires it)")
    return cls(**values, extra=extra)
