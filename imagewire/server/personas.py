"""Personas: how the reference provider presents itself, derived from the provider catalog.

Each persona is one provider of :data:`imagewire_client.catalog.PROVIDERS`, read through the client's
provider model: its URL shape (``Provider.path_prefix``, and of the further base URLs it is seen with, ``also_at``), its auth style (bearer or an
``api-key`` header), the operations and models it offers (``Provider.catalog()``: its model table, or the whole
model catalog when it takes any model) and its declared quirks (by id). What the client's catalog does not carry is read from the spec's
catalogs (:attr:`imagewire.check.validate.SpecValidator.catalogs`): the model used when a request names
none (``default_models``), the dialect of its event streams (``stream_dialect: relay``: no ``event:``
lines, ``:`` comments, a final ``data: [DONE]``) and how each model answers (``answer``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from imagewire.generator.catalog import resolve_models
from imagewire_client.catalog import PROVIDERS, Model

__all__ = ["DEFAULT_PREFIX", "Answer", "Persona", "persona", "personas"]

#: the path prefix of a persona whose provider has no fixed address (generic)
DEFAULT_PREFIX = "/v1"

_OPERATIONS = ("generations", "edits", "variations")


@dataclass(frozen=True)
class Answer:
    """How a model answers (the model catalog's ``answer``), and what its edits need without a mask."""

    #: ``gpt-image``: b64_json only, echoing background, output_format, quality and size, with usage
    style: str = "dall-e"
    #: each image carries the prompt the model used
    revised_prompt: bool = False
    #: image tokens of one 1024x1024 image, by quality
    output_tokens: Mapping[str, int] = field(default_factory=dict)
    #: operations whose image, sent without a mask, needs transparency (its transparent areas mark the edit)
    alpha_without_mask: frozenset[str] = frozenset()

    @property
    def gpt(self) -> bool:
        return self.style == "gpt-image"


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
    #: operation -> the model used when a request names none (Azure: a deployment whose name is no model id)
    default_models: Mapping[str, str]
    #: model id -> how it answers (every model of the catalog)
    answers: Mapping[str, Answer]
    #: quirk id -> the models it concerns (quirks that name none concern every model)
    quirk_models: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: prefixes of api-versions whose deployment travels in the body as ``model`` (Azure's ``/openai/v1``)
    body_prefixes: tuple[str, ...] = ()
    #: a bearer token is taken instead of the key (Azure's Microsoft Entra ID tokens)
    token: bool = False
    #: a header that carries the request id besides ``x-request-id`` (Azure's ``apim-request-id``)
    request_id_header: str | None = None

    def base_url(self, origin: str) -> str:
        """The base URL clients use, e.g. ``http://127.0.0.1:8765/v1`` (Azure: with ``{deployment}`` left in)."""
        return origin.rstrip("/") + self.prefix

    def has(self, quirk: str, model: str | None = None) -> bool:
        """Whether the persona declares ``quirk`` (for ``model``, when the quirk names its models)."""
        scope = self.quirk_models.get(quirk)
        return quirk in self.quirks and (model is None or scope is None or model in scope)

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


def _build(name: str, catalogs: Mapping[str, Any]) -> Persona:
    provider = PROVIDERS[name]
    providers = catalogs.get("providers") or {}
    declared = (providers.get("providers") or {}).get(name) or {}
    return Persona(
        name=name,
        title=provider.title,
        prefix=_prefix(provider.base_url),
        aliases=tuple(_prefix(url) for url in declared.get("also_at") or ()),
        auth_header=(provider.key_header or "api-key").lower(),
        bearer=provider.auth_style == "bearer",
        operations=provider.operations,
        models=provider.catalog(),
        any_model=provider.model_table is None,
        quirks=frozenset(q.id for q in provider.quirks),
        extra_keys={q.id: q.pointer for q in provider.quirks if q.kind == "extra-key" and q.pointer},
        relay_sse=declared.get("stream_dialect") == "relay",
        model_from_deployment=provider.model_from_deployment,
        default_models={**(providers.get("default_models") or {}), **(declared.get("default_models") or {})},
        answers=_answers(catalogs.get("models") or {}),
        quirk_models={
            str(q["id"]): frozenset(q["models"]) for q in declared.get("quirks") or () if q.get("models") is not None
        },
        body_prefixes=tuple(
            urlsplit(v.base_url).path.rstrip("/") for v in provider.api_versions if v.base_url and v.deployment_as_model
        ),
        token=provider.token is not None,
        request_id_header=provider.request_id_header,
    )


def _answers(catalog: Mapping[str, Any]) -> dict[str, Answer]:
    out: dict[str, Answer] = {}
    for model_id, model in resolve_models(dict(catalog)).items():
        answer = model.get("answer") or {}
        out[model_id] = Answer(
            style=str(answer.get("style") or "dall-e"),
            revised_prompt=bool(answer.get("revised_prompt")),
            output_tokens=dict(answer.get("output_tokens") or {}),
            alpha_without_mask=frozenset(
                op
                for op, rules in (model.get("operations") or {}).items()
                if ((rules or {}).get("images") or {}).get("alpha_without_mask")
            ),
        )
    return out


@functools.cache
def _personas(spec_path: str | None) -> Mapping[str, Persona]:
    from imagewire.check.validate import validator

    catalogs = validator(spec_path).catalogs
    return {name: _build(name, catalogs) for name in PROVIDERS}


def personas(spec_path: str | Path | None = None) -> Mapping[str, Persona]:
    """Every persona, by name: one per provider of the catalog (facts the client does not carry from the spec
    at ``spec_path``, default: the packaged spec)."""
    return _personas(str(spec_path) if spec_path is not None else None)


def persona(name: str, spec_path: str | Path | None = None) -> Persona:
    """The persona called ``name``; a ``ValueError`` naming the known ones otherwise."""
    known = personas(spec_path)
    try:
        return known[name]
    except KeyError:
        raise ValueError(f"unknown persona {name!r}; choose {', '.join(known)}") from None
