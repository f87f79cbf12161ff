"""The providers the verdicts know: their hosts (to guess who answered) and their declared quirks.

The source is the client's catalog, :data:`imagewire_client.catalog.PROVIDERS`: a provider's ``base_url``
(with ``{placeholders}``, matched by :meth:`Provider.on_host`) and its ``quirks``. An answer from no known
host is ``generic``, where nothing is a declared quirk.

A quirk's ``pointer`` is a JSON-pointer glob: ``*`` stands for one segment (``/data/*/content_filter_results``),
and a quirk covers what lies below its pointer too (``/error/inner_error`` covers ``/error/inner_error/code``);
:meth:`Provider.quirk_at` finds the one that covers a pointer.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from imagewire_client.catalog import PROVIDERS, Provider
from imagewire_client.catalog import covers as matches

__all__ = ["GENERIC", "catalog", "guess", "matches"]

GENERIC = "generic"


@functools.cache
def catalog() -> Mapping[str, Provider]:
    """Every known provider by id, ``generic`` always among them; cached."""
    found = dict(PROVIDERS)
    found.setdefault(GENERIC, Provider(GENERIC, "Any provider", None, "bearer", ()))
    return found


def guess(url: str, providers: Mapping[str, Provider] | None = None) -> str:
    """The id of the provider whose host serves ``url``; ``generic`` when none does."""
    for provider in (catalog() if providers is None else providers).values():
        if provider.on_host(url):
            return provider.id
    return GENERIC
