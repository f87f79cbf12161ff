"""The records of the catalog: models with their rules and lifecycle, operations, providers.

The data itself is generated from the spec (``_catalog``: ``MODELS``, ``OPERATIONS``; ``_providers``:
``PROVIDERS`` and their model tables); :mod:`.catalog` is the public face of both.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "GONE",
    "Answer",
    "ApiVersion",
    "BatchSupport",
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
    "Value",
    "covers",
]

#: lifecycle states in which a vendor no longer serves a model (or an operation)
GONE = ("retired", "shutdown")

Value = str | int | bool


class Lifecycle(NamedTuple):
    """Where a model stands at its vendor: ``live``, ``preview``, ``deprecated``, ``retired`` or ``shutdown``."""

    status: str
    retired_on: str | None = None
    replacement: str | None = None
    note: str | None = None

    @property
    def gone(self) -> bool:
        """Retired or shut down: the vendor no longer serves it."""
        return self.status in GONE


class SizeRule(NamedTuple):
    """Free ``WxH`` sizes a model admits besides its listed ones. Aspect limits are ``"W:H"`` ratios."""

    multiple_of: int | None = None
    min_side: int | None = None
    max_side: int | None = None
    min_pixels: int | None = None
    max_pixels: int | None = None
    aspect_min: str | None = None
    aspect_max: str | None = None
    experimental_above_pixels: int | None = None


class Param(NamedTuple):
    """The values one request field may take for a model: listed ``values``, a ``min``..``max`` range, a size rule."""

    values: tuple[Value, ...] | None = None
    min: int | None = None
    max: int | None = None
    rule: SizeRule | None = None
    encodings: tuple[str, ...] | None = None


class Rule(NamedTuple):
    """When ``if_field`` is set (to one of ``if_in``), ``then_field`` must be one of ``then_in`` (or absent)."""

    id: str
    if_field: str
    then_field: str
    message: str
    if_in: tuple[Value, ...] | None = None
    then_in: tuple[Value, ...] | None = None
    then_absent: bool = False


class Files(NamedTuple):
    """Input images an operation takes."""

    min_count: int = 1
    max_count: int = 1
    formats: tuple[str, ...] = ()
    max_bytes: int | None = None
    square: bool = False
    #: without a mask the image needs transparency (its transparent areas mark where to edit)
    alpha_without_mask: bool = False


class Mask(NamedTuple):
    """The mask an edit takes."""

    formats: tuple[str, ...] = ()
    max_bytes: int | None = None
    same_size_as_first: bool = False


class OperationRules(NamedTuple):
    """What a model accepts for one operation."""

    params: Mapping[str, Param]
    defaults: Mapping[str, Value]
    rules: tuple[Rule, ...] = ()
    images: Files | None = None
    mask: Mask | None = None
    encodings: tuple[str, ...] = ()


class Answer(NamedTuple):
    """How a model's answers look: ``gpt-image`` (b64_json only, echoing background, output_format, quality and
    size, with token usage) or ``dall-e`` (url or b64_json); a ``revised_prompt`` per image; the image tokens
    of one 1024x1024 image by quality."""

    style: str = "dall-e"
    revised_prompt: bool = False
    output_tokens: Mapping[str, int] = MappingProxyType({})


class Model(NamedTuple):
    """One image model."""

    id: str
    title: str
    vendor: str
    lifecycle: Lifecycle
    operations: Mapping[str, OperationRules]
    prompt_max_length: int | None = None
    snapshot_of: str | None = None
    notes: tuple[str, ...] = ()
    answer: Answer = Answer()


class Operation(NamedTuple):
    """One operation of the spec, keyed like the catalog keys it (the last segment of its path)."""

    key: str
    operation_id: str
    method: str
    path: str
    encodings: tuple[str, ...]
    status: str = "live"
    retired_on: str | None = None
    note: str | None = None

    @property
    def gone(self) -> bool:
        """Retired or shut down in the spec."""
        return self.status in GONE


class Setting(NamedTuple):
    """A value a provider needs: a URL placeholder, a query parameter or a header."""

    name: str
    param: str | None = None
    env: str | None = None
    default: str | None = None
    description: str = ""


class Quirk(NamedTuple):
    """How a provider bends the contract; ``pointer`` (a glob: ``*`` matches one segment) says where."""

    id: str
    kind: str
    note: str
    pointer: str | None = None
    #: the models it concerns (None: every model)
    models: tuple[str, ...] | None = None

    def concerns(self, model_id: str) -> bool:
        """Whether the quirk applies to ``model_id``."""
        return self.models is None or model_id in self.models


class Price(NamedTuple):
    """US dollars per image; ``size``/``model`` ``*`` match anything, ``quality`` None matches any quality."""

    model: str
    size: str
    usd: float
    quality: str | None = None


class TokenPrice(NamedTuple):
    """US dollars per million tokens of one model (None: not known)."""

    model: str
    text_input: float | None = None
    text_input_cached: float | None = None
    image_input: float | None = None
    image_input_cached: float | None = None
    text_output: float | None = None
    image_output: float | None = None


class Token(NamedTuple):
    """A bearer token a provider takes instead of its key: given as ``param``, asked of a callable given as
    ``provider_param`` before every request, or read from ``env``."""

    param: str
    provider_param: str
    env: str | None = None


class ApiVersion(NamedTuple):
    """What one value of a provider's ``api-version`` setting changes: another address (the api-version is
    then not sent), the deployment sent as ``model``, fewer operations, a table narrowing the models it names."""

    name: str
    operations: tuple[str, ...]
    base_url: str | None = None
    deployment_as_model: bool = False
    models: Mapping[str, Model] | None = None


class BatchSupport(NamedTuple):
    """A provider's Batch API: the operations it batches; ``local_files``: edits may carry images inline."""

    operations: tuple[str, ...]
    local_files: bool = False


class Provider(NamedTuple):
    """One provider: where it is, how it authenticates, what it offers and sells, how it bends the contract.

    ``base_url`` may hold ``{placeholders}`` filled from ``url_params`` (None: the caller supplies the
    address); ``models`` lists the ids of its model table (None: it takes any model of the catalog).
    ``policy`` says what happens to a model the table does not list: ``known`` refuses it, ``open`` sends
    it with a warning.
    """

    id: str
    title: str
    base_url: str | None
    auth_style: str
    operations: tuple[str, ...]
    auth_header: str | None = None
    key_env: str | None = None
    key_optional: bool = False
    url_params: tuple[Setting, ...] = ()
    query: tuple[Setting, ...] = ()
    headers: tuple[Setting, ...] = ()
    model_from_deployment: bool = False
    serves_retired: bool = False
    models: tuple[str, ...] | None = None
    prices: tuple[Price, ...] | None = None
    quirks: tuple[Quirk, ...] = ()
    notes: tuple[str, ...] = ()
    policy: str = "open"
    base_url_env: str | None = None
    endpoint: Setting | None = None
    token: Token | None = None
    request_id_header: str | None = None
    token_prices: tuple[TokenPrice, ...] = ()
    batch_rate: float | None = None
    api_versions: tuple[ApiVersion, ...] = ()
    #: operation -> the model used when a request names none (with model_from_deployment: when the
    #: deployment's name is no model id)
    default_models: Mapping[str, str] = MappingProxyType({})
    #: further base URLs it is seen with
    also_at: tuple[str, ...] = ()
    #: how its event streams are written: ``openai`` (``event:`` lines) or ``relay`` (``data:`` lines only,
    #: ``:`` keep-alive comments, a final ``data: [DONE]``)
    stream_dialect: str = "openai"

    def api_version(self, name: str | None) -> ApiVersion | None:
        """What the api-version ``name`` changes; None when nothing is declared for it."""
        return next((v for v in self.api_versions if v.name == name), None)

    #: its Batch API (Files upload, batches with a 24 h window), when it has one
    batch: BatchSupport | None = None

    @property
    def key_variable(self) -> str:
        """The environment variable the key is read from."""
        if self.key_env:
            return self.key_env
        from ._providers import DEFAULT_KEY_VARIABLE

        return DEFAULT_KEY_VARIABLE

    @property
    def key_required(self) -> bool:
        """Whether a client refuses to start without a key."""
        return not (self.key_optional or self.auth_style == "none")

    @property
    def key_header(self) -> str | None:
        """The header the key travels in (``Authorization`` carries ``Bearer KEY``); None: no key is sent."""
        if self.auth_style == "bearer":
            return "Authorization"
        if self.auth_style == "none":
            return None
        return self.auth_header

    @property
    def settings(self) -> tuple[tuple[str, Setting], ...]:
        """Every setting with where it goes: ``("url", ...)``, ``("query", ...)`` or ``("header", ...)``."""
        return (
            *(("url", item) for item in self.url_params),
            *(("query", item) for item in self.query),
            *(("header", item) for item in self.headers),
        )

    @property
    def path_prefix(self) -> str | None:
        """The path of ``base_url`` (``/v1``, ``/openai/deployments/{deployment}``); None without a fixed address."""
        if self.base_url is None:
            return None
        return urlsplit(self.base_url).path.rstrip("/")

    @property
    def model_table(self) -> Mapping[str, Model] | None:
        """The models it lists, as it serves them (its overrides applied); None when it takes any model."""
        from ._providers import PROVIDER_MODELS

        return PROVIDER_MODELS.get(self.id)

    def catalog(self) -> Mapping[str, Model]:
        """The models the checks use for it: its table, or the whole model catalog when it takes any model."""
        from ._catalog import MODELS

        table = self.model_table
        return MODELS if table is None else table

    def served(self, model_id: str) -> Model | None:
        """The model as this provider serves it; None when it does not. A provider taking any model serves
        one its vendor retired only when it says so (``serves_retired``)."""
        table = self.model_table
        if table is not None:
            return table.get(model_id)
        from ._catalog import MODELS

        model = MODELS.get(model_id)
        if model is None or (model.lifecycle.gone and not self.serves_retired):
            return None
        return model

    def offers(self, model_id: str) -> tuple[str, ...]:
        """The operations this provider offers for a model, in its own order (empty: it does not serve it)."""
        model = self.served(model_id)
        if model is None:
            return ()
        return tuple(op for op in self.operations if op in model.operations)

    def serves(self, model_id: str, operation: str | None = None) -> bool:
        """Whether it serves the model (for ``operation``, when one is named)."""
        if operation is None:
            return self.served(model_id) is not None
        return operation in self.offers(model_id)

    def on_host(self, url: str) -> bool:
        """Whether ``url`` is on this provider's host (placeholders such as ``{resource}`` match any label)."""
        pattern = _host_pattern(self.base_url)
        if pattern is None:
            return False
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            return False
        return bool(pattern.fullmatch(f"{host}:{port}" if port else host))

    def quirk_at(self, pointer: str) -> Quirk | None:
        """The declared quirk whose pointer glob covers the JSON pointer ``pointer``."""
        return next((q for q in self.quirks if q.pointer is not None and covers(q.pointer, pointer)), None)


def covers(glob: str, pointer: str) -> bool:
    """Whether the JSON pointer ``pointer`` lies at or below the pointer glob ``glob`` (``*``: one segment)."""
    want = glob.split("/")
    have = pointer.split("/")
    return len(have) >= len(want) and all(w in ("*", h) for w, h in zip(want, have, strict=False))


@functools.lru_cache(maxsize=64)
def _host_pattern(base_url: str | None) -> re.Pattern[str] | None:
    if not base_url:
        return None
    marked = re.sub(r"\{[^{}]*\}", "PLACEHOLDER0", base_url)
    try:
        parts = urlsplit(marked)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    pattern = re.escape(host).replace("placeholder0", "[^.:/]+")
    if port:
        pattern += f":{port}"
    return re.compile(pattern)
