"""Personas: how the reference provider presents itself, derived from the provider catalog.

Each persona is one provider of :data:`imagewire_client.catalog.PROVIDERS`, read through the client's
provider model: its URL shape (the path of ``base_url``, and of the further base URLs it is seen with,
``also_at``), its auth style (bearer or an ``api-key`` header), the operations and models it offers
(``Provider.catalog()``: its model table, or the whole model catalog when it takes any model), its
declared quirks (by id, for the models a quirk names), the model used when a request names none
(``default_models``) and the dialect of its event streams (``stream_dialect: relay``: no ``event:`` lines,
``:`` comments, a final ``data: [DONE]``). How each model answers is the model's ``answer``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from imagewire_client.catalog import PROVIDERS, Answer, Model, Provider

__all__ = ["DEFAULT_PREFIX", "Persona", "persona", "personas"]

#: the path prefix of a persona whose provider has no fixed address (generic)
DEFAULT_PREFIX = "/v1"

_OPERATIONS = ("generations", "edits", "variations")


@dataclass(frozen=True)
class Persona:
    """One provider as the reference server plays it."""

    provider: Provider
    #: the path prefix template of the provider's base URL: ``/v1``, ``/api/v2/openai``,
    #: ``/openai/deployments/{deployment}``
    prefix: str
    aliases: tuple[str, ...]
    #: lower-case header that carries the key: ``authorization`` (bearer) or ``api-key``
    auth_header: str
    #: the models it serves (with the provider's overrides); the whole catalog when it takes any model
    models: Mapping[str, Model]
    #: extra-key quirks: id -> the JSON pointer (``*``: every list item) where the key goes in an answer
    extra_keys: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.provider.id

    @property
    def title(self) -> str:
        return self.provider.title

    @property
    def bearer(self) -> bool:
        return self.provider.auth_style == "bearer"

    @property
    def operations(self) -> tuple[str, ...]:
        return self.provider.operations

    @property
    def any_model(self) -> bool:
        return self.provider.model_table is None

    @property
    def quirks(self) -> frozenset[str]:
        return frozenset(q.id for q in self.provider.quirks)

    @property
    def relay_sse(self) -> bool:
        return self.provider.stream_dialect == "relay"

    @property
    def model_from_deployment(self) -> bool:
        """The model is named by the deployment in the URL (Azure)."""
        return self.provider.model_from_deployment

    @property
    def default_models(self) -> Mapping[str, str]:
        """Operation -> the model used when a request names none (Azure: a deployment whose name is no model id)."""
        return self.provider.default_models

    @property
    def body_prefixes(self) -> tuple[str, ...]:
        """Prefixes of api-versions whose deployment travels in the body as ``model`` (Azure's ``/openai/v1``)."""
        return tuple(
            urlsplit(v.base_url).path.rstrip("/")
            for v in self.provider.api_versions
            if v.base_url and v.deployment_as_model
        )

    @property
    def token(self) -> bool:
        """A bearer token is taken instead of the key (Azure's Microsoft Entra ID tokens)."""
        return self.provider.token is not None

    @property
    def request_id_header(self) -> str | None:
        """A header that carries the request id besides ``x-request-id`` (Azure's ``apim-request-id``)."""
        return self.provider.request_id_header

    def answer(self, model_id: str) -> Answer:
        """How a model answers (the model catalog's ``answer``)."""
        model = self.models.get(model_id)
        return model.answer if model is not None else Answer()

    def base_url(self, origin: str) -> str:
        """The base URL clients use, e.g. ``http://127.0.0.1:8765/v1`` (Azure: with ``{deployment}`` left in)."""
        return origin.rstrip("/") + self.prefix

    def has(self, quirk: str, model: str | None = None) -> bool:
        """Whether the persona declares ``quirk`` (for ``model``, when the quirk names its models)."""
        return any(q.id == quirk and (model is None or q.concerns(model)) for q in self.provider.quirks)

    def in_body(self, path: str) -> bool:
        """Whether ``path`` is under an address whose deployment is the ``model`` of the body."""
        return any(path.startswith(prefix + "/") for prefix in self.body_prefixes)

    def match(self, path: str) -> tuple[str, str | None] | None:
        """``(operation, deployment)`` for an operation path of this persona, ``None`` for any other path."""
        for prefix in (self.prefix, *self.aliases, *self.body_prefixes):
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


def _build(provider: Provider) -> Persona:
    return Persona(
        provider=provider,
        prefix=_prefix(provider.base_url),
        aliases=tuple(_prefix(url) for url in provider.also_at),
        auth_header=(provider.key_header or "api-key").lower(),
        models=provider.catalog(),
        extra_keys={q.id: q.pointer for q in provider.quirks if q.kind == "extra-key" and q.pointer},
    )


@functools.cache
def personas() -> Mapping[str, Persona]:
    """Every persona, by name: one per provider of the catalog."""
    return {name: _build(provider) for name, provider in PROVIDERS.items()}


def persona(name: str) -> Persona:
    """The persona called ``name``; a ``ValueError`` naming the known ones otherwise."""
    known = personas()
    try:
        return known[name]
    except KeyError:
        raise ValueError(f"unknown persona {name!r}; choose {', '.join(known)}") from None
