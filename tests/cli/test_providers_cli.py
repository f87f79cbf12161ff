"""``imagewire providers``: the matrix and the provider facts, read from the generated client alone.

The matrix is compared with the README's (rendered by the generator from the spec, not by this command);
the facts with the sources. "Adding a provider is one catalog entry plus ``make regen``" is proved on a copy
of ``spec/`` given the README's example entry, generated into a temporary folder, and run in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from imagewire import cli

ROOT = Path(__file__).resolve().parents[2]
ANSI = "\x1b["


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.run("providers", argv)
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(["--json", *argv], capsys)
    assert (code, err) == (0, "")
    return json.loads(out)


# ----------------------------------------------------------------------------------------- the data


def test_the_command_is_registered_and_its_import_is_light() -> None:
    assert cli.COMMANDS["providers"][0] == "imagewire.cli.providers"
    probe = "import sys, imagewire.cli.providers; print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'imagewire_client', 'httpx')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_json_lists_every_provider_of_the_client(capsys: pytest.CaptureFixture[str]) -> None:
    from imagewire_client.catalog import PROVIDERS

    data = as_json(capsys)
    assert list(data["providers"]) == list(PROVIDERS)
    assert data["operations"] == ["generations", "edits", "variations"]
    for pid, rec in data["providers"].items():
        assert set(rec) == {
            "id",
            "title",
            "base_url",
            "auth",
            "settings",
            "model_from_deployment",
            "operations",
            "models",
            "prices",
            "quirks",
            "notes",
        }
        assert rec["id"] == pid


def test_json_facts_per_provider(capsys: pytest.CaptureFixture[str]) -> None:
    got = as_json(capsys)["providers"]
    openai, azure, bothub, aipomogator, local, generic = (
        got[p] for p in ("openai", "azure", "bothub", "aipomogator", "local", "generic")
    )
    assert openai["base_url"] == "https://api.openai.com/v1"
    assert openai["auth"] == {"style": "bearer", "header": "Authorization", "env": "OPENAI_API_KEY", "optional": False}
    assert [(s["kind"], s["name"], s["param"], s["env"]) for s in openai["settings"]] == [
        ("header", "OpenAI-Organization", "organization", "OPENAI_ORG_ID"),
        ("header", "OpenAI-Project", "project", "OPENAI_PROJECT_ID"),
    ]
    assert openai["operations"] == ["generations", "edits"]
    assert "dall-e-3" not in openai["models"] and "gpt-image-1.5" in openai["models"]
    assert {"model": "gpt-image-1.5", "size": "1024x1024", "quality": "low", "usd": 0.009} in openai["prices"]
    assert openai["quirks"] == []

    assert azure["base_url"] == "https://{resource}.openai.azure.com/openai/deployments/{deployment}"
    assert azure["auth"] == {"style": "api-key", "header": "api-key", "env": "AZURE_OPENAI_API_KEY", "optional": False}
    assert [(s["kind"], s["name"], s["param"], s["env"]) for s in azure["settings"]] == [
        ("url", "resource", "resource", "AZURE_OPENAI_RESOURCE"),
        ("url", "deployment", "deployment", "AZURE_OPENAI_DEPLOYMENT"),
        ("query", "api-version", "api_version", "OPENAI_API_VERSION"),
    ]
    assert azure["model_from_deployment"] is True
    assert (azure["models"], azure["prices"]) == ("any", "unknown")
    assert {q["id"]: q["pointer"] for q in azure["quirks"]} == {
        "content-filter-results": "/data/*/content_filter_results",
        "prompt-filter-results": "/data/*/prompt_filter_results",
        "error-401-numeric-code": "/error/code",
        "content-filter-inner-error": "/error/inner_error",
        "model-from-deployment": None,
    }

    assert (bothub["base_url"], bothub["auth"]["env"], bothub["models"]) == (
        "https://bothub.chat/api/v2/openai",
        "BOTHUB_API_KEY",
        ["dall-e-3"],
    )
    assert aipomogator["models"] == ["dall-e-3", "dall-e-2", "yandexgpt/yandex-art"]
    assert {"model": "dall-e-2", "size": "512x512", "quality": None, "usd": 0.018} in aipomogator["prices"]
    assert [q["id"] for q in aipomogator["quirks"]] == ["jpeg-in-b64"]
    assert local["auth"]["optional"] is True
    assert local["prices"] == [{"model": "*", "size": "*", "quality": None, "usd": 0.0}]
    assert (generic["base_url"], generic["models"], generic["prices"]) == (None, "any", "unknown")


def _readme_matrix() -> dict[str, dict[str, list[str]]]:
    """The README's model x provider table (written by `imagewire regen` from the spec), as model -> provider -> ops."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- imagewire:providers:start", 1)[1].split("<!-- imagewire:providers:end -->", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("| ")]
    header = next(line for line in lines if line.startswith("| model |"))
    names = [cell.strip() for cell in header.strip("| ").split("|")][2:]
    letters = {"g": "generations", "e": "edits", "v": "variations"}
    out: dict[str, dict[str, list[str]]] = {}
    for line in lines[lines.index(header) + 1 :]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        model = cells[0].strip("`")
        out[model] = {
            pid: [letters[c] for c in cell.split() if c != "·"] for pid, cell in zip(names, cells[2:], strict=True)
        }
    return out


def test_json_matrix_is_the_readme_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    matrix = {row["model"]: row["offered"] for row in as_json(capsys)["matrix"]}
    assert matrix == _readme_matrix()


def test_json_matrix_facts_from_the_sources(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {row["model"]: row for row in as_json(capsys)["matrix"]}
    assert (rows["dall-e-3"]["status"], rows["dall-e-3"]["retired_on"]) == ("retired", "2026-05-12")
    assert rows["dall-e-3"]["offered"]["openai"] == []
    assert rows["dall-e-3"]["offered"]["bothub"] == ["generations"]
    assert rows["dall-e-3"]["offered"]["aipomogator"] == ["generations"]
    assert rows["dall-e-2"]["offered"]["local"] == ["generations", "edits", "variations"]
    assert rows["gpt-image-1.5"]["offered"]["openai"] == ["generations", "edits"]
    assert rows["gpt-image-1.5"]["offered"]["azure"] == ["generations", "edits"]
    assert rows["yandexgpt/yandex-art"]["offered"]["aipomogator"] == ["generations"]
    assert rows["yandexgpt/yandex-art"]["offered"]["bothub"] == []


# ---------------------------------------------------------------------------------------- the text


def test_plain_text_when_stdout_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([], capsys)
    assert (code, err) == (0, "")
    assert ANSI not in out
    lines = out.splitlines()
    assert lines[0] == "Model x provider, per operation (g generations, e edits, v variations; · not offered)"
    assert re.search(r"^model +status at vendor +openai +azure +bothub +aipomogator +local +generic$", out, re.M)
    assert re.search(r"^dall-e-3 +retired 2026-05-12 +· +· +g +g +g +·$", out, re.M)
    assert re.search(r"^gpt-image-1.5 +live +g e +g e +· +· +g e +g e$", out, re.M)
    for expected in (
        "azure - Azure OpenAI",
        "  base URL    https://{resource}.openai.azure.com/openai/deployments/{deployment}",
        "  auth        api-key (api-key: $AZURE_OPENAI_API_KEY)",
        "query api-version: api_version=... or $OPENAI_API_VERSION",
        "content-filter-results (extra-key at /data/*/content_filter_results): every image carries content_filter_results",
        "  auth        bearer (Authorization: Bearer $BOTHUB_API_KEY)",
        "              dall-e-2 256x256: $0.016 per image",
        "              yandexgpt/yandex-art 1024x1024: $0.040 per image",
        "  auth        bearer (Authorization: Bearer $IMAGEWIRE_LOCAL_API_KEY), optional",
        "  base URL    yours (base_url=...)",
        "Also seen with the base URL https://bothub.chat/api/v2/openai/v1.",
    ):
        assert expected in out, expected
    assert out.count("  prices      unknown") == 3  # azure, bothub, generic


def test_rich_tables_on_a_terminal_and_plain_on_request(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, _ = run([], capsys)
    assert code == 0
    assert ANSI in out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert "aipomogator" in plain and "retired 2026-05-12" in plain and "$0.040 per image" in plain
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, _ = run(["--plain"], capsys)
    assert code == 0 and ANSI not in out


def test_rich_can_be_forced_off_a_terminal(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(["--rich", "--provider", "bothub"], capsys)
    assert code == 0 and ANSI in out
    assert "still served by bothub" in re.sub(r"\x1b\[[0-9;]*m", "", out)


def test_one_provider_in_detail(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--provider", "aipomogator", "--plain"], capsys)
    assert code == 0
    assert out.startswith("aipomogator - AI Pomogator\n")
    assert "jpeg-in-b64 (deviation at /data/*/b64_json): yandexgpt/yandex-art may answer JPEG in b64_json" in out
    assert re.search(
        r"^  dall-e-3 +live \(retired at openai on 2026-05-12; still served by aipomogator\) +generations +1024x1024( standard)?: \$0.040 per image$",
        out,
        re.M,
    )
    assert re.search(r"^ +1792x1024( standard)?: \$0.080 per image$", out, re.M)
    assert re.search(r"^  dall-e-2 +live .* +generations +256x256: \$0.016 per image$", out, re.M)
    assert re.search(r"^  yandexgpt/yandex-art +live .* +generations +1024x1024: \$0.040 per image$", out, re.M)
    code, out, _ = run(["--provider", "openai", "--plain"], capsys)
    assert "dall-e-3" not in out.split("Models served", 1)[1]
    assert re.search(r"^  gpt-image-1.5 +live +generations, edits +1024x1024 low: \$0.009 per image$", out, re.M)


def test_one_provider_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    bothub = as_json(capsys, "--provider", "bothub")
    assert bothub["id"] == "bothub"
    (served,) = bothub["served"]
    assert served["model"] == "dall-e-3"
    assert (served["status"], served["note"]) == ("live", "retired at openai on 2026-05-12; still served by bothub")
    assert (served["operations"], served["sizes"], served["prices"]) == (
        ["generations"],
        ["1024x1024", "1792x1024", "1024x1792"],
        "unknown",
    )
    azure = as_json(capsys, "--provider", "azure")
    from imagewire_client.catalog import MODELS

    assert [s["model"] for s in azure["served"]] == list(MODELS)  # any model: the catalog, status at the vendor
    assert {s["model"]: s["status"] for s in azure["served"]}["dall-e-2"] == "retired"
    local = as_json(capsys, "--provider", "local")
    assert {s["model"]: s["prices"] for s in local["served"]}["dall-e-3"] == [
        {"model": "*", "size": "*", "quality": None, "usd": 0.0}
    ]


def test_unknown_provider_exits_2_listing_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--provider", "open-ai"], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "error: Invalid value for '--provider': unknown provider 'open-ai'; "
        "known providers: openai, azure, bothub, aipomogator, local, generic"
    )


def test_through_the_imagewire_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["providers", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"operations", "providers", "matrix"}


# ----------------------------------------------------------------- one catalog entry plus make regen


def readme_example() -> str:
    """The example entry the README shows below the matrix (section "Providers")."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Providers\n", 1)[1].split("\n## ", 1)[0]
    after = section.split("<!-- imagewire:providers:end -->", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", after, re.S)
    assert match, "no ```yaml example below the providers matrix in README.md"
    return match.group(1)


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """spec/ copied, the README's example entry appended to providers.yaml, generated into a tmp folder."""
    from imagewire.generator import regen

    root = tmp_path_factory.mktemp("acme")
    spec = root / "spec"
    shutil.copytree(ROOT / "spec", spec)
    catalog = spec / "providers.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + readme_example(), encoding="utf-8")
    assert "acme" in yaml.safe_load(catalog.read_text(encoding="utf-8"))["providers"]
    dest = root / "generated_client"
    regen.build(regen.Paths(spec=spec / "openapi.yaml", out=dest), dest)
    return dest


def _python(build: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(build), str(ROOT)]), **env}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=build.parent, env=environ, timeout=120
    )


ACME = {
    "id": "acme",
    "title": "Acme Images",
    "base_url": "https://api.acme.example/v1",
    "auth": {"style": "bearer", "header": "Authorization", "env": "ACME_API_KEY", "optional": False},
    "settings": [],
    "model_from_deployment": False,
    "operations": ["generations"],
    "models": ["dall-e-3"],
    "prices": [{"model": "dall-e-3", "size": "1024x1024", "quality": "standard", "usd": 0.05}],
    "quirks": [{"id": "no-created", "kind": "deviation", "pointer": "/created", "note": "answers omit created"}],
    "notes": [],
}


def test_the_new_provider_is_in_the_generated_tables(acme: Path) -> None:
    probe = textwrap.dedent(
        """
        import json, imagewire_client
        from imagewire_client.catalog import PROVIDERS
        p = PROVIDERS["acme"]
        m = p.served("dall-e-3")
        print(json.dumps({
            "file": imagewire_client.__file__,
            "ids": list(PROVIDERS),
            "key_env": p.key_env,
            "quirks": [q.id for q in p.quirks],
            "status": m.lifecycle.status,
            "sizes": list(m.operations["generations"].params["size"].values),
        }))
        """
    )
    done = _python(acme, "-c", probe)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["file"].startswith(str(acme))
    assert got["ids"] == ["openai", "azure", "bothub", "aipomogator", "local", "generic", "acme"]
    assert (got["key_env"], got["quirks"], got["status"], got["sizes"]) == (
        "ACME_API_KEY",
        ["no-created"],
        "live",
        ["1024x1024"],
    )


def test_the_new_provider_is_in_imagewire_providers(acme: Path) -> None:
    done = _python(acme, "-m", "imagewire", "providers", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["providers"]["acme"] == ACME
    rows = {row["model"]: row["offered"] for row in data["matrix"]}
    assert rows["dall-e-3"]["acme"] == ["generations"]
    assert rows["gpt-image-1.5"]["acme"] == []
    detail = _python(acme, "-m", "imagewire", "providers", "--provider", "acme")  # stdout is a pipe: plain
    assert detail.returncode == 0, detail.stderr
    assert "no-created (deviation at /created): answers omit created" in detail.stdout
    assert re.search(
        r"^  dall-e-3 +live \(retired at openai on 2026-05-12; still served by acme\) +generations +1024x1024 standard: \$0.050 per image$",
        detail.stdout,
        re.M,
    )


def test_the_new_provider_behaves_as_the_readme_says(acme: Path) -> None:
    """``Client(provider="acme")`` reads $ACME_API_KEY, refuses other sizes, counts a missing created as a quirk."""
    script = textwrap.dedent(
        """
        import base64, json, httpx
        from imagewire_client import Client, ValidationError
        sent = []
        def answer(request):
            sent.append({"url": str(request.url), "auth": request.headers.get("authorization")})
            return httpx.Response(200, json={"data": [{"url": "https://cdn.acme.example/i.png"}]})
        client = Client(provider="acme", http_client=httpx.Client(transport=httpx.MockTransport(answer)))
        try:
            client.images.generate(model="dall-e-3", prompt="p", size="1792x1024")
            refused = None
        except ValidationError as err:
            refused = str(err)
        result = client.images.generate(model="dall-e-3", prompt="p")
        print(json.dumps({"refused": refused, "sent": sent, "quirks": result.quirks, "warnings": result.warnings,
                          "estimate": str(client.images.estimate(model="dall-e-3", size="1024x1024", quality="standard"))}))
        """
    )
    done = _python(acme, "-c", script, ACME_API_KEY="acme-key-123")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["refused"] == "size '1792x1024' is not available for dall-e-3; choose 1024x1024"
    assert got["sent"] == [{"url": "https://api.acme.example/v1/images/generations", "auth": "Bearer acme-key-123"}]
    assert (got["quirks"], got["warnings"]) == (["no-created"], [])
    assert got["estimate"] == "$0.050 (1 x $0.050, acme dall-e-3 1024x1024 standard)"
    assert "deviates" not in done.stderr


def test_plain_text_survives_an_ascii_terminal() -> None:
    environ = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run(
        [sys.executable, "-m", "imagewire", "providers"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "; - not offered)" in done.stdout
    assert re.search(r"^dall-e-3 +retired 2026-05-12 +- +- +g +g +g +-$", done.stdout, re.M)
