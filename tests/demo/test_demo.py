"""The demo runs end to end (bounded), writes a gallery whose every image is there and readable, runs twice to
the same bytes, keeps a folder it did not make, and stops the server when a step fails."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from imagewire.demo import gallery as demo

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "demo.py"
TIMEOUT = 120  # seconds; the demo takes a few


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and values.get("src"):
            self.images.append(str(values["src"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], float]:
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=ROOT,
        check=False,
    )
    return out, done, time.monotonic() - started


def test_the_demo_runs_end_to_end(gallery: tuple[Path, subprocess.CompletedProcess[str], float]) -> None:
    out, done, seconds = gallery
    assert done.returncode == 0, done.stdout + done.stderr
    assert seconds < 60
    assert f"open {out / 'index.html'}" in done.stdout
    assert "demo finished in" in done.stdout
    assert "server stopped" in done.stdout


def test_the_gallery_shows_every_image_and_each_one_opens(
    gallery: tuple[Path, subprocess.CompletedProcess[str], float],
) -> None:
    out, done, _ = gallery
    assert done.returncode == 0, done.stderr
    parser = _Links()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    assert len(parser.images) >= 9
    for src in parser.images + parser.links:
        assert not src.startswith(("/", "http:", "https:", "file:")), src  # self-contained: relative links
        path = out / src
        assert path.is_file(), src
        with Image.open(path) as image:
            image.verify()
    text = " ".join(parser.text)
    for needle in (
        "URL answer",
        "b64 answer",
        "edit of two images with a mask",
        "stream with partial images",
        "revised prompt",
        "dall-e-3",
        "gpt-image-1.5",
        "cost",
        "imagewire generate",
        "imagewire edit",
        "client.images.generate",
        "partial 1",
    ):
        assert needle in text, needle
    saved = {str(p.relative_to(out)) for p in out.rglob("*") if p.suffix in (".png", ".jpg")}
    assert saved == set(parser.images)  # nothing made is left out of the gallery


def test_running_it_again_gives_the_same_gallery(
    gallery: tuple[Path, subprocess.CompletedProcess[str], float],
) -> None:
    out, done, _ = gallery
    assert done.returncode == 0, done.stderr
    before = _tree(out)
    again = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert _tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["demo-output"]  # no staging folders left


def test_a_folder_the_demo_did_not_make_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious", encoding="utf-8")
    assert demo.main(["--out", str(mine)]) == 1
    assert "was not made by the demo" in capsys.readouterr().out
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_a_failing_step_stops_the_server_and_keeps_the_previous_gallery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from imagewire import server as server_module

    out = tmp_path / "demo-output"
    out.mkdir()
    (out / demo.MARKER).write_text("", encoding="utf-8")
    (out / "index.html").write_text("previous", encoding="utf-8")
    started: list[server_module.Running] = []
    real_start = server_module.start

    def recording_start(*args: object, **kwargs: object) -> server_module.Running:
        running = real_start(*args, **kwargs)  # type: ignore[arg-type]
        started.append(running)
        return running

    def broken(*args: object, **kwargs: object) -> demo.Entry:
        raise RuntimeError("the edit step broke")

    monkeypatch.setattr(server_module, "start", recording_start)
    monkeypatch.setattr(demo, "step_edit", broken)
    assert demo.main(["--out", str(out)]) == 1
    assert "the edit step broke" in capsys.readouterr().out
    assert len(started) == 1 and not started[0].running()
    assert (out / "index.html").read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-output"]
