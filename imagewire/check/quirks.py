"""The providers the verdicts know: their hosts (to guess who answered) and their declared quirks.

The source is the generated client's catalog, ``imagewire_client._providers.PROVIDERS`` (``Provider.id``,
``.base_url`` with ``{placeholders}``, ``.quirks``: ``Quirk(id, kind, pointer, note)``). Where the client
does not have it yet, the spec's own catalog (``spec/providers.yaml``, the file the client's is generated
from) is read instead; with neither, every provider is ``generic`` and nothing is a declared quirk.

A quirk's ``pointer`` is a JSON-pointer glob: ``*`` stands for one segment (``/data/*/content_filter_results``),
and a quirk covers what lies below its pointer too (``/error/inner_error`` covers ``/error/inner_error/code``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from imagewire._spec import packaged_spec_dir

__all__ = ["GENERIC", "ProviderInfo", "QuirkInfo", "catalog", "guess", "matches"]

GENERIC = "generic"
_SPEC_CATALOG = packaged_spec_dir() / "providers.yaml"


@dataclass(frozen=True)
class QuirkInfo:
    id: str
    kind: str
    pointer: str | None
    note: str

    def covers(self, pointer: str) -> bool:
        return self.pointer is not None and matches(self.pointer, pointer)


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    base_url: str | None = None
    quirks: tuple[QuirkInfo, ...] = ()
    title: str = ""
    _host: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def serves(self, url: str) -> bool:
        """Whether ``url`` is on this provider's host (placeholders such as ``{resource}`` match any label)."""
        if self._host is None:
            return False
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            return False
        return bool(self._host.fullmatch(f"{host}:{port}" if port else host))


def matches(glob: str, pointer: str) -> bool:
    """Whether the JSON pointer ``pointer`` lies at or below the pointer glob ``glob``."""
    want = glob.split("/")
    have = pointer.split("/")
    if len(have) < len(want):
        return False
    return all(w == "*" or w == h for w, h in zip(want, have, strict=False))


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


def _quirk(raw: Any) -> QuirkInfo | None:
    get = raw.get if isinstance(raw, Mapping) else (lambda name, default=None: getattr(raw, name, default))
    quirk_id = get("id")
    if not isinstance(quirk_id, str):
        return None
    pointer = get("pointer")
    return QuirkInfo(
        quirk_id, str(get("kind") or ""), pointer if isinstance(pointer, str) else None, str(get("note") or "")
    )


def _provider(provider_id: str, raw: Any) -> ProviderInfo:
    get = raw.get if isinstance(raw, Mapping) else (lambda name, default=None: getattr(raw, name, default))
    base_url = get("base_url")
    base = base_url if isinstance(base_url, str) else None
    raw_quirks = get("quirks") or ()
    quirks = (
        tuple(q for q in (_quirk(item) for item in raw_quirks) if q is not None)
        if isinstance(raw_quirks, Iterable)
        else ()
    )
    return ProviderInfo(str(get("id") or provider_id), base, quirks, str(get("title") or ""), _host_pattern(base))


def _from_client() -> dict[str, ProviderInfo] | None:
    try:
        from imagewire_client import _providers  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    providers = getattr(_providers, "PROVIDERS", None)
    if not isinstance(providers, Mapping):
        return None
    return {str(key): _provider(str(key), value) for key, value in providers.items()}


def _from_spec(path: Path) -> dict[str, ProviderInfo] | None:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    providers = data.get("providers") if isinstance(data, dict) else None
    if not isinstance(providers, dict):
        return None
    return {str(key): _provider(str(key), value or {}) for key, value in providers.items() if isinstance(value, dict)}


@functools.cache
def catalog() -> Mapping[str, ProviderInfo]:
    """Every known provider by id (see the module doc for where they come from); cached."""
    found = _from_client()
    if found is None:
        found = _from_spec(_SPEC_CATALOG)
    found = dict(found or {})
    found.setdefault(GENERIC, ProviderInfo(GENERIC))
    return found


def guess(url: str, providers: Mapping[str, ProviderInfo] | None = None) -> str:
    """The id of the provider whose host serves ``url``; ``generic`` when none does."""
    for provider in (catalog() if providers is None else providers).values():
        if provider.serves(url):
            return provider.id
    return GENERIC
