"""Personas: how the reference provider presents itself, derived from the provider catalog.

Each persona is one provider of ``imagewire_client._providers.PROVIDERS``: its URL shape (the path of its
``base_url``), its auth style (bearer or an ``api-key`` header), the operations and models it offers
(``PROVIDER_MODELS``; ``any`` → the whole model catalog) and its declared quirks (by id). The persona
``generic`` also speaks the relay dialect of server-sent events (no ``event:`` lines, ``:`` comments,
a final ``data: [DONE]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from imagewire_client._catalog import MODELS, Model
from imagewire_client._providers import PROVIDER_MODELS, PROVIDERS

__all__ = ["DEFAULT_PREFIX", "PERSONAS", "Persona", "persona"]

#: the path prefix of a persona whose provider has no fixed address (generic)
DEFAULT_PREFIX = "/v1"

#: further prefixes a provider is seen with (provider notes)
_ALIASES: Mapping[str, tuple[str, ...]] = {"bothub": ("/api/v2/openai/v1",)}

#: personas that speak the relay dialect of server-sent events
_RELAY_SSE = frozenset({"generic"})

_OPERATIONS = ("generations", "edits", "variations")


@dataclass(frozen=True)
class Persona:
    """One provider as the reference server plays it."""

    name: str
    title: str
    #: the path prefix template of the provider's base URL: ``/v1``, ``/api/v2/openai``,
    #: ``/openai/deployments/{deployment}``
    prefix: str
    aliases: tuple[str, ...]
    #: lower-case header that carries the key: ``authorization`` (bearer) or ``api-key``
    auth_header: str
    bearer: bool
    operations: tuple[str, ...]
    #: the models it serves (with the provider's overrides); the whole catalog when it takes any model
    models: Mapping[str, Model]
    any_model: bool
    quirks: frozenset[str]
    #: extra-key quirks: id -> the JSON pointer (``*``: every list item) where the key goes in an answer
    extra_keys: Mapping[str, str]
    relay_sse: bool
    #: the model is named by the deployment in the URL (Azure)
    model_from_deployment: bool

    def base_url(self, origin: str) -> str:
        """The base URL clients use, e.g. ``http://127.0.0.1:8765/v1`` (Azure: with ``{deployment}`` left in)."""
        return origin.rstrip("/") + self.prefix

    def has(self, quirk: str) -> bool:
        return quirk in self.quirks

    def match(self, path: str) -> tuple[str, str | None] | None:
        """``(operation, deployment)`` for an operation path of this persona, ``None`` for any other path."""
        for prefix in (self.prefix, *self.aliases):
            pattern = re.escape(prefix).replace(re.escape("{deployment}"), "(?P<deployment>[^/]+)")
            found = re.fullmatch(pattern + r"/images/(?P<operation>[a-z]+)/?", path)
            if found and found.group("operation") in _OPERATIONS:
                deployment = found.groupdict().get("deployment")
                return found.group("operation"), deployment
        return None


def _prefix(base_url: str | None) -> str:
    if not base_url:
        return DEFAULT_PREFIX
    path = urlsplit(base_url).path.rstrip("/")
    return path or ""


def _build(name: str) -> Persona:
    provider = PROVIDERS[name]
    table = PROVIDER_MODELS.get(name)
    bearer = provider.auth_style == "bearer"
    header = "authorization" if bearer else (provider.auth_header or "api-key").lower()
    return Persona(
        name=name,
        title=provider.title,
        prefix=_prefix(provider.base_url),
        aliases=_ALIASES.get(name, ()),
        auth_header=header,
        bearer=bearer,
        operations=provider.operations,
        models=table if table is not None else MODELS,
        any_model=table is None,
        quirks=frozenset(q.id for q in provider.quirks),
        extra_keys={q.id: q.pointer for q in provider.quirks if q.kind == "extra-key" and q.pointer},
        relay_sse=name in _RELAY_SSE,
        model_from_deployment=provider.model_from_deployment,
    )


#: every persona, by name: one per provider of the catalog
PERSONAS: Mapping[str, Persona] = {name: _build(name) for name in PROVIDERS}


def persona(name: str) -> Persona:
    """The persona called ``name``; a ``ValueError`` naming the known ones otherwise."""
    try:
        return PERSONAS[name]
    except KeyError:
        raise ValueError(f"unknown persona {name!r}; choose {', '.join(PERSONAS)}") from None
