"""``imagewire drift``: how far spec/ is from upstream (the openai SDK's image types, official OpenAPI documents).

Each source is read into a :class:`~imagewire.drift.surface.Surface`; :func:`~imagewire.drift.compare.compare`
lists the differences, and the waivers declared in the spec (``x-imagewire-drift-waivers`` at the root of
openapi.yaml, ``x-imagewire-waiver`` on a field) explain the deliberate ones.
"""

from .command import Report, main, run

__all__ = ["Report", "main", "run"]
