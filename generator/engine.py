"""The one module that knows openapi-python-client's internals.

The engine's template API is not public and changes between patch releases, so every use of it is
here: its configuration, the document we hand it (prepared by :func:`prepare`), the extra template
globals our own templates need, and its errors, every one of which (warnings included) fails the run.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Mapping
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

__all__ = ["EngineError", "Rendered", "engine_version", "prepare", "render"]

ENGINE = "openapi-python-client"


class EngineError(Exception):
    """The engine refused the document or dropped part of it."""


def engine_version() -> str:
    from importlib.metadata import version

    return version(ENGINE)


def prepare(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document as the engine should see it.

    - string enums whose values are not identifiers (``256x256``) get readable member names through
      ``x-enum-varnames`` (``SIZE_256X256``), unless the spec already names them;
    - our own ``x-imagewire-*`` keys are removed (they are read by the generator, not the engine);
    - an object's ``oneOf``/``anyOf`` whose branches only list ``required`` fields (``ImageReference``:
      exactly one of ``image_url`` and ``file_id``) is removed: the engine would turn the object into a
      union; the rule stays in the spec for validators and the reference provider.
    """
    prepared = copy.deepcopy(dict(document))
    for key in [k for k in prepared if k.startswith("x-imagewire-")]:
        del prepared[key]
    for name, schema in ((prepared.get("components") or {}).get("schemas") or {}).items():
        _name_enum(name, schema)
        _drop_required_only_branches(schema)
    return prepared


def _drop_required_only_branches(schema: Any) -> None:
    if not isinstance(schema, dict) or "properties" not in schema:
        return
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
            del schema[key]


def _name_enum(schema_name: str, schema: Any) -> None:
    if not isinstance(schema, dict):
        return
    values = schema.get("enum")
    if not isinstance(values, list) or "x-enum-varnames" in schema:
        return
    if all(isinstance(v, str) for v in values) and any(not v.isidentifier() for v in values):
        prefix = _snake(schema_name).split("_")[-1].upper()
        schema["x-enum-varnames"] = [_member(prefix, v) for v in values]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _member(prefix: str, value: str) -> str:
    """``256x256`` -> ``SIZE_256X256``; ``image/png`` -> ``IMAGE_PNG``; ``auto`` -> ``AUTO``."""
    from .spec import enum_member

    body = enum_member(value)
    return f"{prefix}_{body}" if body[0].isdigit() else body


class Rendered:
    """What the engine made: the package folder, plus a Jinja environment for our own templates."""

    def __init__(self, package_dir: Path, env: Any, openapi: Any) -> None:
        self.package_dir = package_dir
        self.env = env
        self.openapi = openapi


def render(
    document: dict[str, Any],
    *,
    package_dir: Path,
    package_name: str,
    templates: Path,
    config: Mapping[str, Any],
    globals: Mapping[str, Any],
    filters: Mapping[str, Any],
) -> Rendered:
    """Run the engine on ``document`` into ``package_dir`` (which must not exist yet), unformatted.

    ``config`` is the engine's config file content; ``globals`` are made available to every template.
    Raises :class:`EngineError` with every message the engine produced, warnings included.
    """
    from openapi_python_client import Project
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from openapi_python_client.parser import GeneratorData

    known = {k: v for k, v in config.items() if k in ConfigFile.model_fields}
    config_file = ConfigFile(**{**known, "package_name_override": package_name, "post_hooks": []})
    engine_config = Config.from_sources(
        config_file,
        MetaType.NONE,
        document_source=Path("openapi.yaml"),
        file_encoding="utf-8",
        overwrite=False,
        output_path=package_dir,
    )
    data = GeneratorData.from_dict(document, config=engine_config)
    if not isinstance(data, GeneratorData):
        raise EngineError(_describe([data]))
    _patch(data)
    project = Project(openapi=data, config=engine_config, custom_template_path=templates)
    project.env.bytecode_cache = _bytecode_cache()
    project.env.globals.update(globals)
    project.env.filters.update(filters)
    with redirect_stdout(io.StringIO()):  # the engine prints "Generating <dir>"
        errors = project.build()
    if errors:
        raise EngineError(_describe(errors))
    return Rendered(package_dir, project.env, data)


def _patch(data: Any) -> None:
    """Work around engine defects in its parsed data rather than in copies of its templates.

    - openapi-python-client#1451: an operation with several request content types is generated as
      ``body: A | B | Unset = UNSET`` without importing ``Unset`` (NameError on import).
    """
    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            if len(getattr(endpoint, "bodies", ())) > 1:
                endpoint.relative_imports.add("from ...types import Unset")


def _bytecode_cache() -> Any:
    """Compiled templates are cached per user (keyed by template source), saving most of a run's time."""
    import os

    from jinja2 import FileSystemBytecodeCache

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "imagewire" / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))


def _describe(errors: Any) -> str:
    lines = []
    for err in errors:
        level = getattr(getattr(err, "level", None), "value", "ERROR")
        detail = (err.detail or "").strip()
        data = getattr(err, "data", None)
        where = f" ({type(data).__name__})" if data is not None else ""
        lines.append(f"{level}: {err.header}{where} {detail}".strip())
    return "the engine (openapi-python-client) did not accept the document:\n  " + "\n  ".join(lines)
