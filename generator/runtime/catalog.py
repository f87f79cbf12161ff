"""The catalog the client is generated with: models, operations, providers, and the questions asked of them.

    from imagewire_client import catalog

    catalog.provider("azure").key_variable            # 'AZURE_OPENAI_API_KEY'
    catalog.serves("openai", "gpt-image-2", "edits")  # True
    catalog.endpoint("azure", settings={"resource": "r", "deployment": "d", "api_version": "v"}).base_url

``MODELS`` and ``OPERATIONS`` come from the spec's model catalog and operations, ``PROVIDERS`` from its
provider catalog. A :class:`Provider` carries its address template, auth style, key variable, settings,
operations, model table (``Provider.model_table``), prices, quirks and Batch API (``Provider.batch``). :func:`check` applies a model's
rules to a request the way the client does before sending it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from ._catalog import DEFAULT_BASE_URL, MODELS, OPERATIONS
from ._catalog_types import (
    GONE,
    Answer,
    ApiVersion,
    BatchSupport,
    Files,
    Lifecycle,
    Mask,
    Model,
    Operation,
    OperationRules,
    Param,
    Price,
    Provider,
    Quirk,
    Rule,
    Setting,
    SizeRule,
    Token,
    TokenPrice,
    Value,
    covers,
)
from ._checks import CheckError, allowed_values, check, size_problem
from ._errors import ImagewireError
from ._logs import redact_url
from ._providers import BASE_URL_VARIABLE, DEFAULT_KEY_VARIABLE, PLAIN, PROVIDERS

__all__ = [
    "BASE_URL_VARIABLE",
    "DEFAULT_BASE_URL",
    "DEFAULT_KEY_VARIABLE",
    "GONE",
    "MODELS",
    "OPERATIONS",
    "PLAIN",
    "PROVIDERS",
    "Answer",
    "ApiVersion",
    "BatchSupport",
    "CheckError",
    "Endpoint",
    "Estimate",
    "Files",
    "Lifecycle",
    "Mask",
    "Model",
    "Operation",
    "OperationRules",
    "Param",
    "Price",
    "Provider",
    "Quirk",
    "Rule",
    "Setting",
    "SizeRule",
    "Token",
    "TokenPrice",
    "UnknownProviderError",
    "Value",
    "allowed_values",
    "api_key",
    "check",
    "cost",
    "covers",
    "endpoint",
    "estimate",
    "key_variable",
    "key_variables",
    "provider",
    "provider_at",
    "providers_serving",
    "serves",
    "setting",
    "size_problem",
]


class UnknownProviderError(ImagewireError, ValueError):
    """No provider of that name in the catalog."""


def provider(name: str | Provider) -> Provider:
    """The provider called ``name``; an :class:`UnknownProviderError` listing the known ones otherwise."""
    if isinstance(name, Provider):
        return name
    try:
        return PROVIDERS[name]
    except KeyError:
        known = ", ".join(PROVIDERS) or "none"
        raise UnknownProviderError(f"unknown provider {name!r}; known providers: {known}") from None


def serves(provider_id: str | Provider, model_id: str, operation: str | None = None) -> bool:
    """Whether the provider serves the model (for ``operation``, when one is named); see :meth:`Provider.served`."""
    return provider(provider_id).serves(model_id, operation)


def providers_serving(model_id: str, operation: str | None = None) -> list[str]:
    """Providers whose model table lists ``model_id`` (those taking any model are not counted)."""
    return [
        p.id
        for p in PROVIDERS.values()
        if p.models is not None and model_id in p.models and (operation is None or p.serves(model_id, operation))
    ]


def provider_at(url: str) -> Provider | None:
    """The provider whose host serves ``url`` (placeholders in its address match any label); None: none does."""
    return next((p for p in PROVIDERS.values() if p.on_host(url)), None)


# --- keys --------------------------------------------------------------------------------------------------


def key_variable(provider_id: str | Provider | None) -> str:
    """The environment variable a client of ``provider_id`` (None: no provider) reads its key from."""
    if provider_id is None:
        return DEFAULT_KEY_VARIABLE
    return provider(provider_id).key_variable


def key_variables() -> tuple[str, ...]:
    """Every key variable the catalog names (the default one first), e.g. to redact their values."""
    return tuple(dict.fromkeys([DEFAULT_KEY_VARIABLE, *(p.key_variable for p in PROVIDERS.values())]))


def api_key(
    provider_id: str | Provider | None, given: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The key a client of ``provider_id`` sends: ``given``, else its key variable's value (empty counts as unset)."""
    if given is not None:
        return given
    env = os.environ if environ is None else environ
    return env.get(key_variable(provider_id)) or None


# --- addresses ---------------------------------------------------------------------------------------------


class Endpoint(NamedTuple):
    """Where a client sends its requests: ``base_url`` (absolute, no query, no trailing slash), plus the
    query parameters and headers its provider's settings add."""

    base_url: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    #: what the chosen api-version changes (None: nothing declared for it)
    version: ApiVersion | None = None
    #: the deployment the provider's settings name (Azure), in the URL or, with ``version.deployment_as_model``,
    #: in the body as ``model``
    deployment: str | None = None

    @property
    def body_model(self) -> str | None:
        """The ``model`` the body carries in place of the caller's: the deployment, on Azure's v1 paths."""
        return self.deployment if self.version is not None and self.version.deployment_as_model else None

    def url(self, operation: str) -> str:
        """The URL of an operation (``generations``, ...), without the query."""
        return self.base_url + OPERATIONS[operation].path


def setting(item: Setting, given: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """A setting's value: given by the caller, else from its environment variable, else its default."""
    if given is not None:
        return given
    env = os.environ if environ is None else environ
    if item.env and env.get(item.env):
        return env[item.env]
    return item.default


def _needs(p: Provider, item: Setting, instead: Setting | None = None) -> str:
    name = item.param or item.name
    env = f" or set {item.env}" if item.env else ""
    why = f" ({item.description})" if item.description else ""
    if instead is not None:
        other = instead.param or instead.name
        why += f", or {other}=..." + (f" or {instead.env}" if instead.env else "")
    return f"provider {p.id!r} needs {name}=...{env}{why}"


def endpoint(
    provider_id: str | Provider | None,
    *,
    base_url: str | None = None,
    settings: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Endpoint:
    """Where a client of ``provider_id`` (None: no provider) goes, given its ``base_url`` and ``settings``
    (by parameter name: ``resource``, ``api_version``, ``organization``, ...; unset ones are read from their
    variables). Raises :class:`ImagewireError` naming what is missing or malformed."""
    env = os.environ if environ is None else environ
    given = dict(settings or {})
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    version: ApiVersion | None = None
    deployment: str | None = None
    if provider_id is None:
        template = str(base_url or (env.get(BASE_URL_VARIABLE) if BASE_URL_VARIABLE else None) or DEFAULT_BASE_URL)
        for item in PLAIN.headers if PLAIN is not None else ():
            value = setting(item, given.get(item.param or item.name) or None, env)
            if value:
                headers[item.name] = value
    else:
        p = provider(provider_id)
        if base_url is None and p.base_url_env:
            base_url = env.get(p.base_url_env) or None
        if base_url is None and p.base_url is None:
            also = f" or set {p.base_url_env}" if p.base_url_env else ""
            raise ImagewireError(f"provider {p.id!r} has no fixed address: pass base_url=...{also}")
        missing: Setting | None = None
        for item in p.query:
            value = setting(item, given.get(item.param or item.name), env)
            if value is None:
                missing = missing or item
            else:
                query[item.name] = value
        version = p.api_version(query.get("api-version"))
        template = str(base_url or (version.base_url if version is not None else None) or p.base_url)
        if version is not None and version.base_url:
            del query["api-version"]  # optional on that address: its default is the version itself
        at = setting(p.endpoint, given.get(p.endpoint.param or p.endpoint.name), env) if p.endpoint else None
        if base_url is None and at:  # the endpoint gives scheme and host whole
            template = at.rstrip("/") + urlsplit(template).path
        for item in p.url_params:
            in_body = version is not None and version.deployment_as_model and item.name == "deployment"
            if "{" + item.name + "}" not in template and not in_body:  # an explicit base_url that fills it already
                continue
            value = setting(item, given.get(item.param or item.name), env)
            if value is None:
                raise ImagewireError(_needs(p, item, p.endpoint if item.name != "deployment" else None))
            if item.name == "deployment":
                deployment = value
            template = template.replace("{" + item.name + "}", quote(value, safe=""))
        if missing is not None:  # reported after the address, whose settings come first
            raise ImagewireError(_needs(p, missing))
        for item in p.headers:
            value = setting(item, given.get(item.param or item.name), env)
            if value is not None:
                headers[item.name] = value
    try:
        parts = urlsplit(template)
        parts.port  # noqa: B018 - parses the port, raising on a bad one
    except ValueError as err:
        raise ImagewireError(f"base_url {redact_url(template)!r} is not a URL: {err}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImagewireError(f"base_url {redact_url(template)!r} is not an absolute http(s) URL")
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")).rstrip("/")
    query = {**dict(parse_qsl(parts.query, keep_blank_values=True)), **query}
    return Endpoint(base, query, headers, version, deployment)


# --- prices ------------------------------------------------------------------------------------------------


class Estimate(NamedTuple):
    """What a call would cost: ``usd`` is None when the price is unknown, and ``note`` says why."""

    usd: float | None
    per_image: float | None
    n: int
    provider: str | None
    model: str | None
    size: str | None
    quality: str | None
    note: str = ""

    def __str__(self) -> str:
        if self.usd is None:
            return self.note
        what = " ".join(str(x) for x in (self.provider, self.model, self.size, self.quality) if x)
        return f"${self.usd:.3f} ({self.n} x ${self.per_image:.3f}, {what})" + (f" {self.note}" if self.note else "")


def estimate(
    provider: Provider | None,
    model: Model | None,
    model_id: str | None,
    *,
    operation: str = "generations",
    size: str | None = None,
    quality: str | None = None,
    n: int = 1,
    batch: bool = False,
) -> Estimate:
    """The cost of ``n`` images from the provider's price table (``batch``: through its Batch API, at its
    batch rate); unknown prices are said, never guessed."""
    name = provider.id if provider is not None else None

    def unknown(why: str) -> Estimate:
        return Estimate(None, None, n, name, model_id, size, quality, why)

    if provider is None:
        return unknown(f"price unknown for {model_id or 'this model'}: no provider named (Client(provider=...))")
    if model_id is None:
        return unknown(f"price unknown for {provider.id}: name a model")
    if provider.prices is None:
        return unknown(f"price unknown for {provider.id}/{model_id}")
    rules = model.operations.get(operation) if model is not None else None
    defaults = rules.defaults if rules is not None else {}
    size = size if size is not None else _text(defaults.get("size"))
    sizes = rules.params["size"].values if rules is not None and "size" in rules.params else None
    if size is None and sizes is not None and len(sizes) == 1:  # the only size there is
        size = str(sizes[0])
    quality = quality if quality is not None else _text(defaults.get("quality"))
    if batch and provider.batch_rate is None:
        return unknown(f"price unknown for {provider.id}/{model_id} through a Batch API: no batch rate known")
    price = _price(provider, model_id, size, quality)
    if price is not None:
        usd = price.usd * ((provider.batch_rate or 1.0) if batch else 1.0)
        return Estimate(usd * n, usd, n, provider.id, model_id, size, quality, "through the Batch API" if batch else "")
    what = " ".join(x for x in (size, quality) if x)
    return unknown(f"price unknown for {provider.id}/{model_id}" + (f" at {what}" if what else ""))


def _price(provider: Provider, model_id: str | None, size: str | None, quality: str | None) -> Price | None:
    for price in provider.prices or ():
        if price.model not in ("*", model_id) or price.size not in ("*", size):
            continue
        if price.quality is not None and price.quality != quality:  # an unknown quality matches no pinned price
            continue
        return price
    return None


def _number(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _field(holder: object, name: str) -> object:
    return holder.get(name) if isinstance(holder, Mapping) else getattr(holder, name, None)


def cost(
    provider: Provider,
    model_id: str | None,
    usage: object,
    *,
    size: str | None = None,
    quality: str | None = None,
    images: int = 1,
    batch: bool = False,
) -> float | None:
    """What an answer cost in US dollars: from its ``usage`` (a mapping or the result's usage object) where
    the provider's token prices for the model are known, else from its per-image price at the answer's
    ``size`` and ``quality`` times ``images``; None when neither is known. Output tokens without a
    breakdown count as image tokens."""
    rate = (provider.batch_rate or 1.0) if batch else 1.0
    tokens = next((t for t in provider.token_prices if t.model == model_id), None)
    if tokens is not None and usage is not None:
        given = _field(usage, "input_tokens_details")
        made = _field(usage, "output_tokens_details")
        text_in, image_in = _number(_field(given, "text_tokens")), _number(_field(given, "image_tokens"))
        if given is None:
            text_in = _number(_field(usage, "input_tokens"))
        text_out, image_out = _number(_field(made, "text_tokens")), _number(_field(made, "image_tokens"))
        if made is None:
            image_out = _number(_field(usage, "output_tokens"))
        parts = [
            (text_in, tokens.text_input),
            (image_in, tokens.image_input),
            (text_out, tokens.text_output),
            (image_out, tokens.image_output),
        ]
        if all(rate_per_m is not None for count, rate_per_m in parts if count):
            return sum(count * (rate_per_m or 0.0) for count, rate_per_m in parts) / 1_000_000 * rate
    price = _price(provider, model_id, size, quality)
    return None if price is None else price.usd * images * rate


def _text(value: object) -> str | None:
    return None if value is None else str(value)
