"""``imagewire drift``: spec/ against the locked openai SDK and the official OpenAPI documents in shared/upstream.

The upstream documents are read where they lie (``shared/upstream`` beside the checkout or above it), never
copied into the project; tests that need them skip, saying why, when they are absent. Planted drift works
on a copy of the SDK's type modules in a temporary folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from imagewire.drift import command
from imagewire.drift.compare import compare, explain
from imagewire.drift.ours import from_spec
from imagewire.drift.sdk import from_sdk, sdk_folder
from imagewire.generator.surface import from_openapi

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "spec" / "openapi.yaml"
#: shared/ sits beside the main checkout; a worktree is one level further down
UPSTREAM = next((p / "shared" / "upstream" for p in ROOT.parents if (p / "shared" / "upstream").is_dir()), None)


def upstream(*parts: str) -> Path:
    if UPSTREAM is None or not UPSTREAM.joinpath(*parts).is_file():
        reason = f"shared/upstream/{'/'.join(parts)} is not beside this checkout ({ROOT})"
        print(reason)
        pytest.skip(reason)
    return UPSTREAM.joinpath(*parts)


def drift(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = command.main(["--spec", str(SPEC), *args])
    out, err = capsys.readouterr()
    return code, out, err


def planted_sdk(tmp_path: Path, module: str, old: str, new: str) -> Path:
    folder = tmp_path / "types"
    shutil.copytree(sdk_folder(), folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / f"{module}.py"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the SDK's {module}.py changed; update the planted text"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


# ------------------------------------------------------------------------------------ clean as shipped


def test_the_spec_has_no_unexplained_drift_against_the_locked_sdk(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = drift(capsys, "--json")
    report = json.loads(out)
    assert [i["id"] for i in report["items"] if not i["explained"]] == []
    assert code == 0
    assert report["sources"][0].startswith("openai ")
    assert report["explained"] > 0  # waivers are exercised, not dead
    assert report["unused_waivers"] == []


def test_the_spec_has_no_unexplained_drift_against_the_official_openapi_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = upstream("openai-openapi", "openapi.yaml")
    code, out, _ = drift(capsys, "--openapi", str(document), "--json")
    report = json.loads(out)
    assert [i["id"] for i in report["items"] if not i["explained"]] == []
    assert code == 0
    assert report["sources"] == [report["sources"][0], "openapi 2.3.0"]
    # what the older document lacks is explained by the newer SDK, naming it
    newer = [i for i in report["items"] if i["source"] == "openapi 2.3.0" and i["explained"].startswith("stated by")]
    assert any(i["id"] == "field:generations.json.safety_identifier" for i in newer)
    assert any(i["id"] == "model:generations.json.model=gpt-image-2.5-sunburst" for i in newer)


def test_the_spec_holds_the_newer_upstream_facts() -> None:
    spec = from_spec(SPEC)
    for scope in ("generations.json", "edits.multipart", "edits.json"):
        for name in ("complexity", "frame_count", "frame_duration_ms", "svg"):
            assert f"{scope}.{name}" in spec.fields, f"{scope}.{name}"
    assert spec.fields["generations.json.frame_count"].bounds == {"minimum": 2, "maximum": 16}
    assert "response.safety_identifier" in spec.fields
    assert "response.svg_usage.reasoning_tokens" in spec.fields
    assert "event[image_edit.completed].safety_identifier" in spec.fields
    assert spec.fields["edits.multipart.image"].required
    assert spec.fields["edits.json.images"].required
    assert spec.fields["edits.json.images[].image_url"].bounds == {"maxLength": 20971520}
    assert spec.fields["event[image_generation.partial_image].quality"].enum is not None
    assert "auto" in (spec.fields["event[image_generation.partial_image].quality"].enum or ())
    assert spec.models is not None
    gpt1 = spec.models["gpt-image-1"]
    assert gpt1 is not None and gpt1.replacements == {"gpt-image-2.5-sunburst", "gpt-image-2.5-flare"}
    dalle3 = spec.models["dall-e-3"]
    assert dalle3 is not None and not dalle3.replacements


def test_the_sdk_is_read_without_importing_it() -> None:
    import sys

    sys.modules.pop("openai", None)
    before = set(sys.modules)
    sdk = from_sdk()
    assert not {m for m in set(sys.modules) - before if m.startswith("openai")}
    assert sdk.fields["generations.json.n"].bounds == {"minimum": 1, "maximum": 10}
    assert sdk.fields["edits.multipart.image"].required
    assert sdk.fields["edits.multipart.image"].types == {"binary", "array"}
    assert sdk.models is not None
    assert sdk.models["dall-e-2"] is not None and sdk.models["dall-e-2"].status == "retired"


# ------------------------------------------------------------------------------------ planted drift


def test_a_planted_upstream_field_is_reported_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    types = planted_sdk(
        tmp_path,
        "image_generate_params",
        "    style: Optional[Literal[",
        '    seed: Optional[int]\n    """A seed. Must be between 0 and 4294967295."""\n\n    style: Optional[Literal[',
    )
    code, out, _ = drift(capsys, "--sdk-types", str(types))
    assert code == 1
    assert "missing     field     generations.json.seed" in out
    assert "1 unexplained" in out


def test_a_planted_enum_value_bound_and_retirement_are_reported(tmp_path: Path) -> None:
    types = planted_sdk(
        tmp_path,
        "image_generate_params",
        'moderation: Optional[Literal["low", "auto"]]',
        'moderation: Optional[Literal["low", "auto", "strict"]]',
    )
    text = (types / "image_model.py").read_text(encoding="utf-8")
    text = text.replace(
        '- "dall-e-2", "dall-e-3":',
        '- "gpt-image-2": GPT Image 2 was shut down on January 5, 2027. Use gpt-image-2.6-flare instead.\n- "dall-e-2", "dall-e-3":',
    )
    (types / "image_model.py").write_text(text, encoding="utf-8")
    params = types / "image_edit_params.py"
    params.write_text(
        params.read_text(encoding="utf-8").replace("Must be between 1 and 10.", "Must be between 1 and 8.", 1),
        encoding="utf-8",
    )
    spec = from_spec(SPEC)
    sdk = from_sdk(types)
    items, _ = explain(spec, compare(spec, sdk), [sdk])
    found = {(i.kind, i.id) for i in items if not i.explained}
    assert found == {
        ("stale", "enum:generations.json.moderation=strict"),
        ("stale", "lifecycle:models.gpt-image-2"),
        ("conflicting", "bounds:edits.multipart.n"),
    }


def test_a_field_only_the_spec_has_is_extra(tmp_path: Path) -> None:
    types = planted_sdk(tmp_path, "images_response", "    svg_usage: Optional[SvgUsage] = None\n", "")
    spec = from_spec(SPEC)
    sdk = from_sdk(types)
    items, _ = explain(spec, compare(spec, sdk), [sdk])
    extra = [i for i in items if i.kind == "extra" and i.aspect == "field" and not i.explained]
    assert [i.where for i in extra] == ["response.svg_usage"]  # its fields fold into the one item


# ------------------------------------------------------------------------------------ waivers


def _spec_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "spec"
    shutil.copytree(SPEC.parent, folder)
    return folder / "openapi.yaml"


def test_waivers_explain_with_their_reason_and_unused_ones_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec_copy(tmp_path)
    text = spec.read_text(encoding="utf-8")
    text = text.replace(
        "x-imagewire-drift-waivers:\n",
        "x-imagewire-drift-waivers:\n"
        "  - match: 'field:generations.json.complexity'\n"
        "    kinds: [missing]\n"
        "    reason: not yet\n"
        "  - match: 'enum:nowhere'\n"
        "    reason: matches nothing\n",
    )
    start = text.index("        complexity:\n          anyOf:")  # drop generations' complexity
    end = text.index("        frame_count:", start)
    text = text[:start] + text[end:]
    spec.write_text(text, encoding="utf-8")
    code = command.main(["--spec", str(spec), "--all"])
    out = capsys.readouterr().out
    assert code == 0
    assert "missing     field     generations.json.complexity" in out
    assert "because: not yet" in out
    assert "unused waiver (matches nothing; remove it?): enum:nowhere: matches nothing" in out


def test_a_field_waiver_covers_the_field_and_what_is_under_it(tmp_path: Path) -> None:
    spec = from_spec(SPEC)
    field = spec.fields["generations.json.svg.model"]
    assert field.waivers and field.waivers[0]["aspects"] == ["required"]
    types = tmp_path / "types"
    shutil.copytree(sdk_folder(), types, ignore=shutil.ignore_patterns("__pycache__"))
    sdk = from_sdk(types)
    items, unused = explain(spec, compare(spec, sdk), [sdk])
    waived = [i for i in items if i.id == "required:generations.json.svg.model"]
    assert waived and waived[0].explained.startswith("The SDK's generations type requires svg.model")
    assert unused == []


# ------------------------------------------------------------------------------------ sources and output


@pytest.mark.parametrize("name", ["inference-2024-10-21.json", "inference-2025-04-01-preview.json"])
def test_azure_documents_are_read_and_compared(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = upstream("azure", name)
    code, out, _ = drift(capsys, "--no-sdk", "--openapi", str(document), "--json")
    report = json.loads(out)
    assert code in (0, 1)
    assert report["sources"] == [f"openapi {name.removeprefix('inference-').removesuffix('.json')}"]
    assert any(i["where"].startswith("generations.json.") for i in report["items"])
    assert code == (1 if report["unexplained"] else 0)


def test_openapi_surface_reads_nullable_and_31_styles() -> None:
    doc = {
        "openapi": "3.0.0",
        "paths": {
            "/v1/images/generations": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["prompt"],
                                    "properties": {
                                        "prompt": {"type": "string", "maxLength": 10},
                                        "n": {"type": "integer", "nullable": True, "minimum": 1},
                                        "quality": {
                                            "anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]
                                        },
                                    },
                                }
                            }
                        }
                    }
                }
            }
        },
    }
    surface = from_openapi(doc, "t")
    assert surface.fields["generations.json.prompt"].required
    assert surface.fields["generations.json.n"].types == {"integer"}
    assert surface.fields["generations.json.quality"].enum == {"a", "b"}


def test_unreadable_sources_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert drift(capsys, "--openapi", str(tmp_path / "missing.yaml"))[0] == 2
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("a: [unclosed", encoding="utf-8")
    code, _, err = drift(capsys, "--openapi", str(garbage))
    assert code == 2 and "neither JSON nor YAML" in err
    other = tmp_path / "other.json"
    other.write_text('{"openapi": "3.1.0", "paths": {"/pets": {}}}', encoding="utf-8")
    code, _, err = drift(capsys, "--openapi", str(other))
    assert code == 2 and "describes no image operation" in err
    code, _, err = drift(capsys, "--sdk-types", str(tmp_path / "nowhere"))
    assert code == 2 and "openai SDK" in err
    empty = tmp_path / "types"
    empty.mkdir()
    assert drift(capsys, "--sdk-types", str(empty))[0] == 2
    assert drift(capsys, "--no-sdk")[0] == 2


def test_markdown_and_text_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    types = planted_sdk(tmp_path, "images_response", "    svg_usage: Optional[SvgUsage] = None\n", "")
    code, out, _ = drift(capsys, "--sdk-types", str(types), "--markdown")
    assert code == 1
    assert "| source | kind | aspect | where | value | spec | upstream | explained |" in out
    assert "| extra | field | `response.svg_usage` |" in out
    code, out, _ = drift(capsys, "--sdk-types", str(types))
    assert out.splitlines()[1] == "1 unexplained:"


def test_the_command_is_registered() -> None:
    from imagewire.cli import COMMANDS

    assert COMMANDS["drift"].module == "imagewire.drift.command"
