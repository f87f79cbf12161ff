"""``imagewire drift``: how far spec/ is from upstream (the openai SDK's image types, official OpenAPI documents).

Each source is read into a :class:`~imagewire.generator.surface.Surface`; :func:`~imagewire.drift.compare.compare`
lists the differences, and the waivers declared in the spec (``x-imagewire-drift-waivers`` at the root of
openapi.yaml, ``x-imagewire-waiver`` on a field) explain the deliberate ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .command import Report, main, run

__all__ = ["Report", "main", "run"]


def __getattr__(name: str) -> Any:
    """The command's names are imported when asked for, so reading a spec's surface (``imagewire regen``'s
    change report) does not import the command and what it reads."""
    if name in __all__:
        from . import command

        return getattr(command, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
