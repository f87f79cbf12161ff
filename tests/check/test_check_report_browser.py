"""The HTML report in headless Chromium: it loads without an error in the console, fetches nothing, shows the
coloured band of verdict counts, the matrix and every interaction with its deciding finding, filters by
verdict, and renders (a screenshot with the band's colours in it). Skipped, saying why, without chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from support.browser import load, screenshot

from imagewire.check import command as check
from imagewire.check.report import render_html

RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"

#: clicks through the filter the way a reader would and notes what is visible after each step
_CLICKS = """
(function () {
  var items = function () { return Array.prototype.slice.call(document.querySelectorAll('ol.items > li')); };
  var visible = function () {
    return items().filter(function (li) { return !li.hidden; }).map(function (li) { return li.dataset.verdict; });
  };
  var seen = {initial: visible()};
  document.querySelector('.tile[data-only=violation]').click();
  seen.violation = visible();
  document.querySelector('.filter input[value=quirk]').click();
  seen.violationAndQuirk = visible();
  document.querySelector('[data-only="*"]').click();
  seen.all = visible();
  seen.shown = document.getElementById('shown').textContent;
  seen.deciding = items().filter(function (li) { return li.querySelector('li.deciding'); }).length;
  seen.ready = document.documentElement.getAttribute('data-ready');
  window.__imagewireTest = seen;
})();
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, check.CheckReport]:
    folder = tmp_path_factory.mktemp("report")
    report = check.check_paths([RECORDINGS], show_body=True)
    path = folder / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path, report


def test_the_report_loads_without_errors_fetches_nothing_and_filters(
    page: tuple[Path, check.CheckReport], tmp_path: Path
) -> None:
    path, report = page
    loaded = load(path, tmp_path / "profile", script=_CLICKS)
    assert loaded.errors == [] and loaded.console == []
    assert loaded.resources == []  # inline CSS and script: nothing is fetched
    counts = report.counts()
    seen = loaded.test
    assert seen["ready"] == "yes"
    assert len(seen["initial"]) == len(report.verdicts) - counts["conforms"]  # conforming ones: --all, or a click
    assert set(seen["violation"]) == {"violation"} and len(seen["violation"]) == counts["violation"]
    assert set(seen["violationAndQuirk"]) == {"violation", "quirk"}
    assert (
        len(seen["all"]) == len(report.verdicts)
        and seen["shown"] == f"showing {len(report.verdicts)} of {len(report.verdicts)}"
    )
    judged = [v for v in report.verdicts if v.verdict not in ("conforms", "skipped")]
    assert seen["deciding"] == len(judged)  # every non-conforming interaction highlights what decided it


def test_the_report_renders_its_colours(page: tuple[Path, check.CheckReport], tmp_path: Path) -> None:
    path, _ = page
    shot = screenshot(path, tmp_path / "report.png", tmp_path / "profile", width=1280, height=900)
    with Image.open(shot) as image:
        assert image.size == (1280, 900)
        colours = {colour for _, colour in image.convert("RGB").getcolors(1 << 20) or []}
    for hex_colour in ("#1a7f37", "#0969da", "#9a6700", "#cf222e"):  # the band: conforms, quirk, deviation, violation
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, f"{hex_colour} is not on the page"


def test_all_shows_the_conforming_interactions_from_the_start(tmp_path: Path) -> None:
    report = check.check_paths([RECORDINGS / "bothub-dalle3.yaml"])
    path = tmp_path / "all.html"
    path.write_text(render_html(report, show_all=True), encoding="utf-8")
    loaded = load(path, tmp_path / "profile", script=_CLICKS)
    assert loaded.errors == [] and set(loaded.test["initial"]) == {"conforms"}
