"""Pages in headless Chromium (the distribution's ``chromium`` package) for the tests: load a page from a
file, collect what went wrong in it (errors, rejected promises, console errors and warnings, resources
that failed or came from anywhere but the page's folder), run a script against it, take a screenshot.

Without ``chromium`` on the PATH the tests that need it are skipped, and say why (``.ci/run`` installs it).
Nothing here touches the network: the browser runs with background networking, updates and sync off,
in a throw-away profile, and the pages are loaded from ``file://``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: what to install when it is missing (Debian's package; ``.ci/run`` does it)
INSTALL = "apt-get install -y chromium"
TIMEOUT = 120  # seconds for one browser run (two shared cores: the first start is slow)

#: put at the top of <head>: records errors, console errors / warnings and resources, then writes them into
#: the page, with what the page's own test script found, once the page has loaded and settled
_COLLECTOR = """<script>
(function () {
  var found = [];
  window.__imagewireTest = {};
  window.addEventListener('error', function (event) {
    var target = event.target;
    if (target && target !== window && (target.src || target.href)) {
      found.push('failed to load ' + (target.src || target.href));
    } else {
      found.push('error: ' + event.message + ' (' + event.filename + ':' + event.lineno + ')');
    }
  }, true);
  window.addEventListener('unhandledrejection', function (event) { found.push('rejection: ' + event.reason); });
  ['error', 'warn'].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      found.push('console.' + level + ': ' + Array.prototype.join.call(arguments, ' '));
      return original.apply(console, arguments);
    };
  });
  window.addEventListener('load', function () {
    setTimeout(function () {
      var out = document.createElement('script');
      out.type = 'application/json';
      out.id = 'imagewire-test-result';
      out.textContent = JSON.stringify({
        errors: found,
        resources: performance.getEntriesByType('resource').map(function (r) { return r.name; }),
        test: window.__imagewireTest
      });
      document.body.appendChild(out);
    }, 50);
  });
})();
</script>"""


@dataclass
class Page:
    """What a page did in the browser."""

    dom: str
    errors: list[str]
    resources: list[str]
    test: dict[str, Any] = field(default_factory=dict)
    console: list[str] = field(default_factory=list)  # console messages Chromium logged on stderr


def chromium() -> str:
    """The browser's path; skips the test, saying why, when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(f"chromium is not installed ({INSTALL}; .ci/run installs it): browser checks not run")
    return found


def _flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-extensions",
        "--hide-scrollbars",
        "--mute-audio",
        f"--user-data-dir={profile}",
    ]


def _instrumented(page: Path, script: str) -> Path:
    """A copy of ``page`` beside it (so relative links still resolve) with the collector and ``script``."""
    text = page.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text, re.I)
    assert head is not None, f"{page}: no <head>"
    text = text[: head.end()] + _COLLECTOR + text[head.end() :]
    if script:
        at = text.lower().rindex("</body>")
        text = text[:at] + f"<script>window.addEventListener('load', function () {{ {script} }});</script>" + text[at:]
    copy = page.with_name(f".{page.stem}.browser-test{page.suffix}")
    copy.write_text(text, encoding="utf-8")
    return copy


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def _console(stderr: str) -> list[str]:
    """The console messages of the page that Chromium logs with ``--enable-logging=stderr``."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def load(page: Path, profile: Path, *, script: str = "") -> Page:
    """Load ``page`` (a file) headless, run ``script`` once it has loaded (images included; the script may fill
    ``window.__imagewireTest``), and return the DOM after load with what the collector found."""
    copy = _instrumented(page, script)
    try:
        done = _run(
            [
                chromium(),
                *_flags(profile),
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=5000",
                "--dump-dom",
                copy.as_uri(),
            ]
        )
    finally:
        copy.unlink()
    match = re.search(r'<script type="application/json" id="imagewire-test-result">(.*?)</script>', done.stdout, re.S)
    assert match is not None, f"the page did not finish loading (exit {done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(match.group(1))
    return Page(done.stdout, result["errors"], result["resources"], result["test"], _console(done.stderr))


def screenshot(page: Path, out: Path, profile: Path, *, width: int = 1280, height: int = 2000) -> Path:
    """A PNG of ``page`` at ``width`` x ``height`` CSS pixels."""
    done = _run(
        [
            chromium(),
            *_flags(profile),
            f"--window-size={width},{height}",
            "--virtual-time-budget=5000",
            f"--screenshot={out}",
            page.as_uri(),
        ]
    )
    assert out.is_file() and out.stat().st_size > 1000, f"no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    return out
