"""The wheels as a user gets them: built from this checkout, installed into a fresh virtual environment,
and driven from a folder outside the checkout.

Dependencies come from uv's cache only (``--offline``): ``make`` fills it when it bootstraps ``.venv``,
so the test needs no network.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "bin" / "uv"
RECORDING = ROOT / "tests" / "recordings" / "bothub-dalle3.yaml"


def _uv() -> str:
    found = UV if UV.exists() else shutil.which("uv")
    if found is None:
        pytest.fail("uv is needed to build the wheels: run `make test`, which installs it into .tools/")
    return str(found)


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment holding the two wheels and their dependencies; yields its ``bin/``."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    uv = _uv()
    _run(uv, "build", "--quiet", "--offline", "--wheel", "--out-dir", dist, ROOT, cwd=base, env=env)
    _run(
        uv, "build", "--quiet", "--offline", "--wheel", "--out-dir", dist, ROOT / "generated_client", cwd=base, env=env
    )
    venv = base / "venv"
    _run(uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=base, env=env)
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 2, wheels
    _run(uv, "pip", "install", "--quiet", "--offline", "--python", venv / "bin" / "python", *wheels, cwd=base, env=env)
    yield venv / "bin"


def _site_packages(bin_dir: Path) -> Path:
    out = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def _top_level_names(dist_info: Path) -> set[str]:
    with (dist_info / "RECORD").open(newline="") as f:
        paths = [row[0] for row in csv.reader(f) if row]
    return {p.split("/", 1)[0] for p in paths if not p.split("/", 1)[0].endswith((".dist-info", ".data"))} - {".."}


def test_the_wheels_install_one_import_root_each(installed: Path) -> None:
    site = _site_packages(installed)
    ours = {info.name.split("-", 1)[0]: _top_level_names(info) for info in site.glob("imagewire*.dist-info")}
    assert ours == {"imagewire": {"imagewire"}, "imagewire_client": {"imagewire_client"}}
    for generic in ("generator", "conformance", "spec", "tests", "scripts"):
        assert not (site / generic).exists(), f"site-packages holds a generic top-level name: {generic}"
    # the spec ships inside the package, as files (not links into a checkout)
    spec = site / "imagewire" / "spec" / "openapi.yaml"
    assert spec.is_file() and not spec.is_symlink()
    assert (site / "imagewire" / "generator" / "templates").is_dir()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A working folder that is not the checkout and holds no ./spec."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_check_replay_reads_the_packaged_spec(installed: Path, outside: Path) -> None:
    cassette = outside / "relay.yaml"
    shutil.copyfile(RECORDING, cassette)
    shutil.copyfile(RECORDING.with_name("bothub-dalle3.expect.yaml"), outside / "relay.expect.yaml")
    out = _run(
        installed / "imagewire", "check", "--replay", cassette, "--json-out", outside / "report.json", cwd=outside
    )
    assert "2 interactions: 2 conforms" in out, out
    report = json.loads((outside / "report.json").read_text())
    assert "conforms" in json.dumps(report)


def test_providers_lists_the_catalog(installed: Path, outside: Path) -> None:
    out = _run(installed / "imagewire", "providers", "--json", cwd=outside)
    names = json.dumps(json.loads(out))
    for provider in ("openai", "azure", "bothub", "aipomogator", "local", "generic"):
        assert provider in names


def test_regen_from_the_packaged_spec_into_a_new_folder(installed: Path, outside: Path) -> None:
    site = _site_packages(installed)
    spec = outside / "myspec"
    shutil.copytree(site / "imagewire" / "spec", spec)
    out = _run(installed / "imagewire", "regen", "--spec", spec, "--out", outside / "client", cwd=outside)
    assert "regenerated" in out
    assert (outside / "client" / "imagewire_client" / "_client.py").is_file()
    assert (outside / "client" / "imagewire.lock").is_file()
    # and it matches what the installed generator would check
    _run(installed / "imagewire", "regen", "--check", "--spec", spec, "--out", outside / "client", cwd=outside)


def test_serve_answers_a_generation(installed: Path, outside: Path) -> None:
    process = subprocess.Popen(
        [str(installed / "imagewire"), "serve", "--port", "0"],
        cwd=outside,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base_url = banner.split("http://", 1)[1].split()[0]
        base_url = f"http://{base_url}"
        deadline = time.monotonic() + 20
        answer = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.post(
                    f"{base_url}/images/generations",
                    json={"model": "gpt-image-1.5", "prompt": "a fox", "size": "1024x1024", "quality": "low"},
                    timeout=10,
                )
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200, answer and answer.text
        assert answer.json()["data"][0]["b64_json"]
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(10)
