"""The package's public surface: ``imagewire_client.__all__``."""

from __future__ import annotations

import importlib
import inspect

import imagewire_client


def _module(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"imagewire_client.{name}")


def _isort_style(names: list[str]) -> list[str]:
    """ruff RUF022 / isort order: SCREAMING_CASE, then CamelCase, then the rest, each case-sensitively."""

    def key(name: str) -> tuple[int, str]:
        if name.isupper() and len(name) > 1:
            return (0, name)
        if name[:1].isupper():
            return (1, name)
        return (2, name)

    return sorted(names, key=key)


def test_all_is_sorted_and_unique() -> None:
    names = list(imagewire_client.__all__)
    # plain ``sorted()`` or ruff's RUF022 order; a case-insensitive order (Jinja's default ``sort``) is neither
    assert names in (sorted(names), _isort_style(names)), names
    assert len(names) == len(set(names))


def test_every_name_resolves() -> None:
    for name in imagewire_client.__all__:
        value = getattr(imagewire_client, name)
        assert value is not None, name
    assert set(imagewire_client.__all__) <= set(dir(imagewire_client))


def test_names_resolve_to_their_defining_modules() -> None:
    from imagewire_client import _client, _errors, _results

    assert imagewire_client.Client is _client.Client
    assert imagewire_client.ValidationError is _errors.ValidationError
    assert imagewire_client.ImagesResponse is _results.ImagesResponse


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        imagewire_client.NoSuchThing  # noqa: B018
    except AttributeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_the_facade_is_exported() -> None:
    assert set(_module("_client").__all__) <= set(imagewire_client.__all__)


def test_every_error_class_is_exported() -> None:
    errors = _module("_errors")
    classes = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.ImagewireError) and not name.startswith("_")
    }
    assert classes
    assert classes <= set(imagewire_client.__all__), sorted(classes - set(imagewire_client.__all__))


def test_every_result_class_and_event_union_is_exported() -> None:
    results = _module("_results")
    public = {name for name in results.__all__ if name != "EVENT_TYPES"}
    assert public <= set(imagewire_client.__all__), sorted(public - set(imagewire_client.__all__))


def test_parameter_types_used_in_public_signatures_are_exported() -> None:
    """``generate(size: ImageSize, quality: ImageQuality, ...)``: callers annotating their own code need them."""
    params = _module("_params")
    missing = set(params.__all__) - set(imagewire_client.__all__)
    assert not missing, sorted(missing)


def test_no_private_names_exported() -> None:
    assert not [name for name in imagewire_client.__all__ if name.startswith("_")]
