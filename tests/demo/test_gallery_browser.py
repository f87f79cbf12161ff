"""The demo gallery (what ``make demo`` writes to demo-output/index.html) in headless Chromium: it loads
without an error in the console, every image it shows is there and decodes, it fetches nothing but its own
files, and it renders. Skipped, saying why, without chromium."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from support.browser import chromium, load, screenshot

ROOT = Path(__file__).resolve().parents[2]

_IMAGES = """
(function () {
  var images = Array.prototype.slice.call(document.images);
  window.__imagewireTest = {
    images: images.length,
    broken: images.filter(function (img) { return !img.complete || img.naturalWidth === 0; })
      .map(function (img) { return img.getAttribute('src'); }),
    sections: document.querySelectorAll('h2').length,
    sources: images.map(function (img) { return img.currentSrc; })
  };
})();
"""


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chromium()  # skip before making the demo when there is no browser to show it in
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out / "index.html"


def test_the_gallery_loads_without_errors_and_every_image_decodes(gallery: Path, tmp_path: Path) -> None:
    loaded = load(gallery, tmp_path / "profile", script=_IMAGES)
    assert loaded.errors == [] and loaded.console == []
    assert loaded.test["images"] >= 6 and loaded.test["broken"] == []
    assert loaded.test["sections"] >= 6
    folder = gallery.parent.as_uri() + "/"
    assert all(url.startswith(folder) for url in loaded.test["sources"])  # its own files only
    assert not [url for url in loaded.resources if not url.startswith(folder)]


def test_the_gallery_renders(gallery: Path, tmp_path: Path) -> None:
    shot = screenshot(gallery, tmp_path / "gallery.png", tmp_path / "profile", width=1280, height=1400)
    with Image.open(shot) as image:
        assert image.size == (1280, 1400)
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 1000  # the pictures are drawn, not blank boxes
