"""What the commands share on their command lines, written once.

- :func:`with_connection` gives a command the provider options: ``--provider``, ``--base-url``,
  ``--api-key`` and one option per provider setting of the catalog (``--resource``, ``--deployment``,
  ``--api-version``, ``--organization``, ``--project``), collected into one :class:`Connection`.
- :func:`resolve_key` and :func:`key_env`: which key a command sends (``--api-key``, else the provider's
  key variable).
- :func:`extend` builds a command's signature from parameters made at run time (the request fields of the
  image commands come from the generated client that way).
- ``SpecOpt``, ``NoValidateOpt``, ``AllowRetiredOpt``: options several commands take, spelled once.

Provider facts (presets, settings, key variables) and key resolution are the generated client's public
catalog's (:mod:`imagewire_client.catalog`); this module only spells them as options.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from imagewire.cli.common import option_name, words
from imagewire.generator.locate import SPEC_HELP

__all__ = [
    "PROVIDER_PANEL",
    "AllowRetiredOpt",
    "ApiKeyOpt",
    "BaseUrlOpt",
    "Connection",
    "NoValidateOpt",
    "ProviderOpt",
    "SpecOpt",
    "extend",
    "key_env",
    "parse_settings",
    "provider_choice",
    "provider_settings",
    "resolve_key",
    "spec_path",
    "with_connection",
]

PROVIDER_PANEL = "Provider"

SpecOpt = Annotated[
    Path | None,
    typer.Option(
        "--spec",
        metavar="DIR",
        help=SPEC_HELP,
        show_default=False,
    ),
]
NoValidateOpt = Annotated[
    bool, typer.Option("--no-validate", help="skip the client's model checks and send anyway", show_default=False)
]
AllowRetiredOpt = Annotated[
    bool,
    typer.Option(
        "--allow-retired", help="accept models retired at their vendor (providers still serve some)", show_default=False
    ),
]


def spec_path(given: Path | None) -> Path:
    """The root document ``--spec`` names (``./spec`` when present, else the packaged one); ``SpecNotFound`` otherwise."""
    from imagewire.generator.locate import spec_document

    return spec_document(given)


# ---------------------------------------------------------------- the catalog, as the options see it
# (the seam: these read the generated client's provider catalog)


def _providers() -> Mapping[str, Any]:
    from imagewire_client.catalog import PROVIDERS

    return PROVIDERS


def provider_settings() -> dict[str, str]:
    """Every provider setting of the catalog, by the client's keyword, with a line of help (in catalog order)."""
    found: dict[str, list[str]] = {}
    helps: dict[str, str] = {}
    for provider in _providers().values():
        for _, item in provider.settings:
            keyword = item.param or item.name
            found.setdefault(keyword, []).append(provider.id)
            if item.description and keyword not in helps:
                helps[keyword] = item.description
    out = {}
    for keyword, owners in found.items():
        what = helps.get(keyword) or f"the {keyword.replace('_', ' ')}"
        out[keyword] = f"{words(owners)}: {what}"
    return out


def _setting_aliases() -> dict[str, str]:
    """Each spelling a setting may be given in with ``--setting NAME=VALUE`` -> the client's keyword."""
    aliases: dict[str, str] = {}
    for provider in _providers().values():
        for _, item in provider.settings:
            keyword = item.param or item.name
            for name in (keyword, item.name.lower(), keyword.replace("_", "-")):
                aliases.setdefault(name, keyword)
    return aliases


def parse_settings(items: Iterable[str]) -> dict[str, str]:
    """``["resource=x", "api-version=2025-04-01-preview"]`` -> the client's keywords; ``ValueError`` otherwise."""
    aliases = _setting_aliases()
    settings: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        key = name.strip().lower().replace(" ", "")
        if not sep or not key:
            raise ValueError(f"--setting expects NAME=VALUE, got {item!r}")
        if key not in aliases:
            raise ValueError(f"unknown setting {name.strip()!r}; known: {', '.join(provider_settings())}")
        settings[aliases[key]] = value.strip()
    return settings


def key_env(provider: str | None) -> str:
    """The variable the key of ``provider`` is read from (the plain client's without a provider)."""
    from imagewire_client.catalog import key_variable

    return key_variable(provider)


def key_variables() -> list[str]:
    """Every key variable of the catalog (to redact their values wherever they appear)."""
    from imagewire_client import catalog

    return list(catalog.key_variables())


def resolve_key(provider: str | None, given: str | None) -> str | None:
    """The key a client of ``provider`` sends: ``given`` (``--api-key``), else the provider's key variable."""
    from imagewire_client.catalog import api_key

    return api_key(provider, given)


def key_optional(provider: str | None) -> bool:
    """True when ``provider`` works without a key (the reference provider, for one)."""
    preset = _providers().get(provider) if provider is not None else None
    return preset is not None and not preset.key_required


# ---------------------------------------------------------------- the provider options


@dataclass(frozen=True)
class Connection:
    """The provider options of one command line."""

    provider: str | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def key_env(self) -> str:
        return key_env(self.provider)

    def key(self) -> str | None:
        """The key this command line sends (``--api-key``, else the key variable); never printed."""
        return resolve_key(self.provider, self.api_key)

    def client_options(self) -> dict[str, Any]:
        """Keywords for ``imagewire_client.Client``: provider, base_url, api_key and the settings."""
        return {"provider": self.provider, "base_url": self.base_url, "api_key": self.api_key, **self.settings}


def provider_choice(name: str | None) -> Any:
    """The catalog's provider called ``name`` (None for None); a usage error naming the known ones otherwise."""
    if name is None:
        return None
    from imagewire_client.catalog import UnknownProviderError, provider

    try:
        return provider(name)
    except UnknownProviderError as err:
        raise typer.BadParameter(str(err), param_hint="'--provider'") from None


def _check_provider(value: str | None) -> str | None:
    provider_choice(value)
    return value


def _option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def _provider_option(help_: str) -> Any:
    return typer.Option(
        "--provider",
        metavar="NAME",
        help=help_,
        callback=_check_provider,
        rich_help_panel=PROVIDER_PANEL,
        show_default=False,
    )


_PROVIDER_HELP = "provider preset: address, auth, key variable, model table, prices"
ProviderOpt = Annotated[str | None, _provider_option(_PROVIDER_HELP)]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url", metavar="URL", help="the API's base URL (overrides the preset's)", rich_help_panel=PROVIDER_PANEL
    ),
]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        metavar="KEY",
        help="the API key (default: the provider's key variable, which is safer: a command line is visible to other "
        "users); never printed or recorded",
        rich_help_panel=PROVIDER_PANEL,
        show_default=False,
    ),
]


def _connection_parameters(*, provider_help: str) -> list[inspect.Parameter]:
    panel = PROVIDER_PANEL
    params = [
        _option("provider", Annotated[str | None, _provider_option(f"{provider_help} ({', '.join(_providers())})")]),
        _option("base_url", BaseUrlOpt),
        _option("api_key", ApiKeyOpt),
    ]
    for keyword, text in provider_settings().items():
        params.append(
            _option(
                f"setting_{keyword}",
                Annotated[
                    str | None,
                    typer.Option(
                        option_name(keyword), metavar="VALUE", help=text, rich_help_panel=panel, show_default=False
                    ),
                ],
            )
        )
    # spellings older scripts use, kept working but not shown
    params += [
        _option("alias_url", Annotated[str | None, typer.Option("--url", hidden=True)]),
        _option("alias_token", Annotated[str | None, typer.Option("--token", hidden=True)]),
        _option("alias_setting", Annotated[list[str] | None, typer.Option("--setting", hidden=True)]),
    ]
    return params


def _connection(values: dict[str, Any]) -> Connection:
    settings = parse_settings_or_usage(values.pop("alias_setting", None) or [])
    for name in list(values):
        if name.startswith("setting_"):
            value = values.pop(name)
            if value is not None:
                settings[name.removeprefix("setting_")] = value
    base_url = values.pop("base_url")
    url = values.pop("alias_url")
    api_key = values.pop("api_key")
    token = values.pop("alias_token")
    return Connection(
        provider=values.pop("provider"),
        base_url=base_url if base_url is not None else url,
        api_key=api_key if api_key is not None else token,
        settings=settings,
    )


def parse_settings_or_usage(items: Iterable[str]) -> dict[str, str]:
    try:
        return parse_settings(items)
    except ValueError as problem:
        raise typer.BadParameter(str(problem), param_hint="'--setting'") from None


def extend(
    func: Callable[..., Any],
    extra: list[inspect.Parameter],
    build: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    drop: Iterable[str] = (),
) -> Callable[..., Any]:
    """``func`` with ``extra`` keyword parameters in its signature (and ``drop`` left out of it).

    typer reads a command's options from its signature; this is how options made at run time (from the
    catalogs) join the ones written in the function. ``build`` turns the values of all of them into the
    keywords ``func`` takes.
    """
    hints = typing.get_type_hints(func, include_extras=True)
    gone = {*drop, *(e.name for e in extra)}
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(func).parameters.values()
        if p.name not in gone
    ]
    params = [*own, *extra]

    @functools.wraps(func)
    def command(**values: Any) -> Any:
        return func(**build(values))

    del command.__wrapped__  # typer reads the signature below, not the function's own
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def with_connection(*, provider_help: str = _PROVIDER_HELP) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command function taking ``connection: Connection``: it gets the provider options instead."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        def build(values: dict[str, Any]) -> dict[str, Any]:
            connection = _connection(values)
            return {**values, "connection": connection}

        return extend(func, _connection_parameters(provider_help=provider_help), build, drop=("connection",))

    return decorate
