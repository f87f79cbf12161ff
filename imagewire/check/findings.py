"""What the check finds: :class:`Finding` (where, as a JSON pointer, and what kind) and the small helpers that
word findings (pointers, clipped messages, JSON type names).

``kind`` is one of:

``schema``        the body breaks the spec's schema (a missing required field, a wrong type)
``extra-key``     a key the schema does not declare (tolerated by the spec, named by the report)
``media-type``    a content type the spec does not declare for this status (or the wrong one for the request)
``json``          the body (or an event's data) is not JSON
``status``        a status the spec does not declare as a success
``image-format``  an image in a format other than the one asked for (``output_format``, PNG by default)
``image``         a ``b64_json`` that is not an image
``stream-error``  an error event inside a 200 event stream
``request``       the recorded request does not match the spec (reported; not the provider's deviation)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["MESSAGE_LIMIT", "Finding", "clip", "escape", "json_type", "pointer"]

#: the longest message a finding carries
MESSAGE_LIMIT = 200


@dataclass(frozen=True)
class Finding:
    """One thing in an interaction that is not as the contract says."""

    pointer: str
    message: str
    kind: str
    quirk: str | None = None  # the id of the provider quirk that declares it, when one does

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pointer": self.pointer, "message": self.message, "kind": self.kind}
        if self.quirk:
            out["quirk"] = self.quirk
        return out


def escape(token: object) -> str:
    """A JSON pointer token (``~`` and ``/`` escaped)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(base: str, path: Iterable[Any]) -> str:
    """``base`` followed by the escaped parts of ``path``."""
    return base + "".join(f"/{escape(part)}" for part in path)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` on one line, cut with an ellipsis at ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (``object``, ``array``, ``string``, ...)."""
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(value), type(value).__name__
    )
