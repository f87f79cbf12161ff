"""Crafted files for the hostile cases: each function writes one input into ``folder`` and returns its path."""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

MB = 1024 * 1024
HERE = Path(__file__).resolve().parent
SPEC = HERE.parent.parent / "spec"

_INTERACTION = """\
- request: {{method: POST, uri: 'https://api.example.test/v1/images/generations', headers: {{}}, body: null}}
  response:
    status: {{code: 200, message: {message}}}
    headers: {{Content-Type: [application/json]{encoding}}}
    body: {{string: {body}}}
"""


def _bomb_levels(name: str, levels: int = 9, width: int = 9) -> str:
    """YAML anchors where each level lists the previous one ``width`` times: ``width ** levels`` values."""
    lines = [f"{name}0: &{name}0 [" + ", ".join(['"xxxxxxxx"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"{name}{level}: &{name}{level} [" + ", ".join([f"*{name}{level - 1}"] * width) + "]")
    return "\n".join(lines)


def cassette_alias_bomb(folder: Path) -> Path:
    """A cassette of a few hundred bytes whose status message is an alias bomb."""
    text = "version: 1\nbombs:\n" + "\n".join("  " + line for line in _bomb_levels("l").splitlines())
    text += "\ninteractions:\n" + _INTERACTION.format(message="*l8", encoding="", body="'{}'")
    path = folder / "alias-bomb.yaml"
    path.write_text(text)
    return path


def cassette_alias_list(folder: Path, *, body_kb: int = 64, count: int = 20_000) -> Path:
    """One interaction with a 64 KB body, then a flat list of 20,000 aliases of it."""
    body = "x" * (body_kb * 1024)
    first = _INTERACTION.format(message="OK", encoding="", body=body).replace("- request", "- &one\n  request", 1)
    text = "version: 1\ninteractions:\n" + first + "- *one\n" * count
    path = folder / "alias-list.yaml"
    path.write_text(text)
    return path


def gzip_bomb(decompressed: int) -> bytes:
    """``decompressed`` zero bytes, gzip-compressed (about 1,000:1)."""
    engine = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(MB)
    parts = [engine.compress(chunk) for _ in range(decompressed // MB)]
    return b"".join([*parts, engine.flush()])


def cassette_gzip_body(folder: Path, *, decompressed: int = 1024 * MB) -> Path:
    """A cassette whose gzip-encoded response body decompresses to 1 GiB."""
    data = {
        "version": 1,
        "interactions": [
            {
                "request": {"method": "POST", "uri": "https://api.example.test/v1/images/generations", "body": None},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]},
                    "body": {"string": gzip_bomb(decompressed)},
                },
            }
        ],
    }
    path = folder / "gzip-body.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def recording_too_large(folder: Path, *, size: int = 48 * MB) -> Path:
    """A cassette of 48 MB (one long body), far over the configured file size limit."""
    path = folder / "large.yaml"
    path.write_text("version: 1\ninteractions:\n" + _INTERACTION.format(message="OK", encoding="", body="x" * size))
    return path


def spec_alias_bomb(folder: Path) -> Path:
    """A spec document of a few hundred bytes that expands to a billion values."""
    path = folder / "openapi.yaml"
    path.write_text("openapi: 3.1.0\n" + _bomb_levels("a"))
    return path


def regen_similar_enum(folder: Path) -> Path:
    """A copy of the spec whose ImageSize enum holds both ``256x256`` and ``256X256``."""
    spec = folder / "spec"
    shutil.copytree(SPEC, spec)
    openapi = spec / "openapi.yaml"
    text = openapi.read_text()
    openapi.write_text(text.replace("        - 256x256\n", "        - 256x256\n        - 256X256\n", 1))
    return spec


@dataclass(frozen=True)
class Kit:
    """A case over a crafted file: what to write, the limit configured, the refusal expected."""

    write: Callable[[Path], Path]
    limit: int
    error: str
    #: the peak RSS allowed when no limit bounds it (the case's own baseline), else 2 x limit + 50 MB
    rss_mb: float | None = None
    seconds: float = 10.0


KIT = {
    "cassette-alias-bomb": Kit(cassette_alias_bomb, 8 * MB, "LoadError[file_bytes]"),
    "cassette-alias-list": Kit(cassette_alias_list, 8 * MB, "LoadError[file_bytes]"),
    "cassette-gzip-body": Kit(cassette_gzip_body, 8 * MB, "LoadError[decoded_bytes]"),
    "recording-too-large": Kit(recording_too_large, 8 * MB, "LoadError[file_bytes]"),
    "spec-alias-bomb": Kit(spec_alias_bomb, 8 * MB, "Problem[limit]"),
    "regen-similar-enum": Kit(regen_similar_enum, 0, "exit 1", rss_mb=400, seconds=30),
}
