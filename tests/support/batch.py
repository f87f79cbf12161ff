"""Helpers of the batch tests: manifests, small generations, the reference provider's image sends."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from imagewire.server import Running

__all__ = ["Serve", "generations", "image_sends", "write_manifest"]

Serve = Callable[..., Running]


def write_manifest(path: Path, lines: Sequence[dict[str, Any] | str]) -> Path:
    """A JSONL manifest: dicts as JSON lines, strings as they are."""
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def generations(count: int, **fields: Any) -> list[dict[str, Any]]:
    """``count`` small dall-e-2 generations answered in b64 (no URL downloads in the request log)."""
    base = {"model": "dall-e-2", "size": "256x256", "response_format": "b64_json"} | fields
    return [{"id": f"shot-{k:03d}", "prompt": f"A paper crane number {k}", **base} for k in range(count)]


def image_sends(server: Running) -> list[dict[str, Any]]:
    """The request log's image operations (not URL downloads or batch endpoints)."""
    return [e for e in server.requests() if str(e["path"]).endswith(("/images/generations", "/images/edits"))]
