"""What a user does when the API moves: copy the spec, add a model in one file and a request field in one place,
``imagewire regen`` into a folder of their own, then use both through ``Client(provider="openai")`` and
``imagewire generate --seed``; read the change report; then remove a value and see it reported as breaking.

The regenerated package is imported from its own folder (``PYTHONPATH``) in subprocesses, against a loopback
server started here (127.0.0.1, stopped in the test).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.cli import images_body

SPEC = Path(__file__).resolve().parents[2] / "spec"
KEY = "sk-user-flow-secret"
SEED = """        seed:
          type: [integer, 'null']
          minimum: 0
          maximum: 4294967295
          description: A seed for repeatable images.
"""
MODEL = """  gpt-image-3:
    title: GPT Image 3
    extends: gpt-image-2
    operations:
      generations:
        params:
          seed: {}

"""
ANCHOR = "  # ------------------------------------------------------------------ provider models\n"


class _Recorder(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(json.loads(self.rfile.read(min(length, 1 << 20))))  # type: ignore[attr-defined]
        answer = json.dumps(images_body()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _run(*argv: str, out: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "IMAGEWIRE_"))}
    if out is not None:
        env["PYTHONPATH"] = str(out)
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def _regen(spec: Path, out: Path) -> str:
    done = _run("-m", "imagewire", "regen", "--spec", str(spec), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return done.stdout


def _version(out: Path) -> str:
    """The version the built wheel would carry: hatch reads it from ``_version.py`` (pyproject's is dynamic)."""
    with (out / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)
    assert project["project"]["dynamic"] == ["version"]
    path = out / project["tool"]["hatch"]["version"]["path"]
    found = re.search(r'^__version__ = "([^"]+)"$', path.read_text(encoding="utf-8"), re.MULTILINE)
    assert found is not None, path
    return found.group(1)


CLIENT_SCRIPT = """
import json, sys, tracemalloc
import imagewire_client
from imagewire_client import Client, ValidationError
client = Client(provider="openai", base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
client.images.generate(model="gpt-image-3", prompt="a red fox", seed=7)
tracemalloc.start()
try:
    client.images.generate(model="gpt-image-3", prompt="a red fox", seed=-1)
except ValidationError as err:
    refused = {"message": str(err), "rule": err.rule, "field": err.field}
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"module": imagewire_client.__file__, "refused": refused, "peak": peak}))
"""


def test_a_new_model_and_field_reach_client_and_command_and_the_report_names_them(
    tmp_path: Path, server: ThreadingHTTPServer
) -> None:
    spec, out = tmp_path / "spec", tmp_path / "client"
    shutil.copytree(SPEC, spec)
    _regen(spec, out)
    assert _version(out) == "0.1.0"

    # one entry in models.yaml, one property in openapi.yaml
    models = spec / "models.yaml"
    models.write_text(models.read_text(encoding="utf-8").replace(ANCHOR, MODEL + ANCHOR), encoding="utf-8")
    openapi = spec / "openapi.yaml"
    text = openapi.read_text(encoding="utf-8")
    at = text.index("        user:\n", text.index("    CreateImageRequest:\n"))
    openapi.write_text(text[:at] + SEED + text[at:], encoding="utf-8")
    report = _regen(spec, out)

    assert "version 0.1.0 -> 0.2.0 (minor)" in report
    assert "spec added model gpt-image-3 (live; edits, generations)" in report
    assert "spec added request field generations.json.seed (integer, 0..4294967295)" in report
    assert "api  added `imagewire_client._client.Images.generate` keyword `seed`" in report
    assert "`imagewire_client._params.ModelId` widened: gpt-image-3 added" in report
    assert "BREAKING" not in report
    assert _version(out) == "0.2.0"
    changelog = (out / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## 0.2.0") < changelog.index("## 0.1.0")
    assert "- added model gpt-image-3" in changelog and "**breaking**" not in changelog

    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    done = _run("-c", CLIENT_SCRIPT, base_url, KEY, out=out)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert Path(result["module"]).is_relative_to(out)  # the regenerated package, not the project's
    assert server.bodies == [{"model": "gpt-image-3", "prompt": "a red fox", "seed": 7}]  # type: ignore[attr-defined]
    assert result["refused"]["field"] == "seed" and "0 to 4294967295" in result["refused"]["message"]
    assert result["peak"] < 10_000_000  # the range is compared, not built

    images = tmp_path / "images"
    done = _run(
        "-m", "imagewire", "generate", "a blue fox", "--model", "gpt-image-3", "--seed", "7",
        "--provider", "openai", "--base-url", base_url, "--api-key", KEY, "--out", str(images), out=out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert server.bodies[-1] == {"model": "gpt-image-3", "prompt": "a blue fox", "seed": 7}  # type: ignore[attr-defined]
    assert len(server.bodies) == 2  # type: ignore[attr-defined]
    assert KEY not in done.stdout + done.stderr

    # a value removed from an enum (and from the one model that listed it) is breaking: a major release
    openapi.write_text(
        openapi.read_text(encoding="utf-8").replace("enum: [vivid, natural]", "enum: [vivid]"), encoding="utf-8"
    )
    models.write_text(
        models.read_text(encoding="utf-8").replace("style: {values: [vivid, natural]}", "style: {values: [vivid]}"),
        encoding="utf-8",
    )
    report = _regen(spec, out)
    assert "version 0.2.0 -> 1.0.0 (major)" in report
    assert "spec BREAKING removed values natural of request field generations.json.style" in report
    assert "api  BREAKING changed `imagewire_client._params.ImageStyle` narrowed: natural removed" in report
    assert _version(out) == "1.0.0"
    probe = "import imagewire_client as c, imagewire_client._facts as f; print(c.__version__, f.USER_AGENT)"
    done = _run("-c", probe, out=out)
    assert done.stdout.split() == ["1.0.0", "imagewire-client/1.0.0"], done.stderr

    # a check of the same inputs changes nothing and reports no bump
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    done = _run("-m", "imagewire", "regen", "--check", "--spec", str(spec), "--out", str(out))
    assert done.returncode == 0 and done.stdout.startswith("clean:"), done.stderr
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "__pycache__" not in p.parts} == before
