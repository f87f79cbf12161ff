"""One edit per change: a request field is one property in openapi.yaml, a model one entry in models.yaml.

The catalog schema takes its field names from the spec, and a provider selecting by ``models_where`` serves
a new model without an edit of providers.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imagewire.generator.catalog import resolve_models, resolve_providers
from imagewire.generator.problems import SpecError
from imagewire.generator.spec import read

SPEC = Path(__file__).resolve().parents[2] / "spec"

SEED = """        seed:
          type: [integer, 'null']
          minimum: 0
          maximum: 4294967295
          description: A seed for repeatable images.
"""


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(SPEC, tmp_path / "spec")
    return tmp_path / "spec"


def _add_seed(spec: Path, catalog_entry: str) -> None:
    openapi = spec / "openapi.yaml"
    text = openapi.read_text(encoding="utf-8")
    anchor = "    CreateImageRequest:\n"
    start = text.index(anchor)
    at = text.index("        user:\n", start)
    openapi.write_text(text[:at] + SEED + text[at:], encoding="utf-8")
    models = spec / "models.yaml"
    text = models.read_text(encoding="utf-8")
    anchor = "  gpt-image-2:\n"
    at = text.index("          user: {}\n", text.index(anchor))
    models.write_text(text[:at] + catalog_entry + text[at:], encoding="utf-8")


def test_a_new_request_field_needs_no_schema_edit(tmp_path: Path) -> None:
    spec = _copy(tmp_path)
    _add_seed(spec, "          seed: {min: 0, max: 4294967295}\n")
    loaded = read(spec / "openapi.yaml")
    model = resolve_models(loaded.catalogs["models"].data)["gpt-image-2"]
    assert model["operations"]["generations"]["params"]["seed"] == {"min": 0, "max": 4294967295}


def test_the_fields_shape_comes_from_its_schema(tmp_path: Path) -> None:
    spec = _copy(tmp_path)
    _add_seed(spec, "          seed: {values: [one]}\n")
    with pytest.raises(SpecError) as caught:
        read(spec / "openapi.yaml")
    assert any("/params/seed" in p.pointer and p.rule == "catalog-schema" for p in caught.value.problems)


def test_a_field_the_spec_lacks_is_named_by_the_cross_check(tmp_path: Path) -> None:
    spec = _copy(tmp_path)
    models = spec / "models.yaml"
    text = models.read_text(encoding="utf-8")
    at = text.index("          user: {}\n", text.index("  gpt-image-2:\n"))
    models.write_text(text[:at] + "          sead: {min: 0, max: 9}\n" + text[at:], encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        read(spec / "openapi.yaml")
    assert [p.message for p in caught.value.problems] == ["createImage has no request field 'sead'"]


def test_a_new_model_reaches_the_providers_that_select_by_rule(tmp_path: Path) -> None:
    spec = _copy(tmp_path)
    models = spec / "models.yaml"
    models.write_text(
        models.read_text(encoding="utf-8").replace(
            "  # ------------------------------------------------------------------ provider models\n",
            "  gpt-image-3:\n    title: GPT Image 3\n    extends: gpt-image-2\n\n"
            "  # ------------------------------------------------------------------ provider models\n",
        ),
        encoding="utf-8",
    )
    loaded = read(spec / "openapi.yaml")
    catalog = resolve_models(loaded.catalogs["models"].data)
    providers = resolve_providers(loaded.catalogs["providers"].data, catalog)
    assert "gpt-image-3" in providers["openai"]["models"]
    assert "gpt-image-1" not in providers["openai"]["models"]  # shut down: not selected
    assert "gpt-image-3" not in providers["bothub"]["models"]  # a listed table stays as listed
