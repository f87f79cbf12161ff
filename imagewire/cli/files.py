"""Files of the consumer commands: input images in, an output folder that is checked before sending, results out.

Input images are checked here before any request (missing, not a file, larger than any model of the
operation takes, not an image); the per-model limits (formats, bytes, square, mask size) are the
client's checks. The output folder is probed before anything is sent; saving goes through
``ImagesResponse.save`` and, should it fail, removes every file this run wrote and the folders it made.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from imagewire.cli.common import UsageProblem, words
from imagewire_client import ImagesResponse
from imagewire_client.catalog import MODELS
from imagewire_client.media import FORMATS, ImageInfo, sniff

__all__ = ["Input", "OutputFolder", "input_limit", "read_input"]

#: without a catalog limit, input files above this size are refused unread (validation on)
FALLBACK_LIMIT = 64 * 1024 * 1024


class Input:
    """One input image, read and sniffed: sent as ``(filename, bytes)`` so it is read once."""

    def __init__(self, path: Path, data: bytes, info: ImageInfo) -> None:
        self.path = path
        self.data = data
        self.info = info

    @property
    def part(self) -> tuple[str, bytes]:
        return (self.path.name, self.data)


def input_limit(operation: str, field: str) -> int:
    """The largest ``field`` (``image`` or ``mask``) any model of the catalog takes for ``operation``."""
    limits: list[int] = []
    for model in MODELS.values():
        rules = model.operations.get(operation)
        if rules is None:
            continue
        spec = rules.mask if field == "mask" else rules.images
        if spec is not None and spec.max_bytes is not None:
            limits.append(spec.max_bytes)
    return max(limits, default=FALLBACK_LIMIT)


def _size(n: int) -> str:
    mib = 1024 * 1024
    return f"{n:,} bytes ({n / mib:.1f} MiB)" if n >= mib else f"{n:,} bytes"


def read_input(path: Path, *, field: str, operation: str, limit: bool) -> Input:
    """Read one input image; a :class:`UsageProblem` (rule ``file``) when it cannot be used."""
    shown = str(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise UsageProblem(f"{field}: no such file {shown!r}", rule="file", field=field) from None
    except OSError as err:
        raise UsageProblem(f"{field}: cannot read {shown!r}: {err.strerror or err}", rule="file", field=field) from None
    if path.is_dir():
        raise UsageProblem(f"{field}: {shown!r} is a directory, not an image file", rule="file", field=field)
    most = input_limit(operation, field)
    if limit and stat.st_size > most:
        raise UsageProblem(
            f"{field}: {shown!r} is {_size(stat.st_size)}; no model takes more than {_size(most)} "
            f"as {'a mask' if field == 'mask' else 'an input image'} for {operation}",
            rule="file",
            field=field,
        )
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UsageProblem(f"{field}: cannot read {shown!r}: {err.strerror or err}", rule="file", field=field) from None
    info = sniff(data)
    if info is None:
        raise UsageProblem(
            f"{field}: {shown!r} is not an image ({words(FORMATS)} expected)",
            rule="file",
            field=field,
            allowed=FORMATS,
        )
    return Input(path, data, info)


def _missing_parents(folder: Path) -> list[Path]:
    """The folders ``folder.mkdir(parents=True)`` would create, deepest first."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    return missing


class OutputFolder:
    """The folder results go to: probed before sending, written all or nothing."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def probe(self) -> None:
        """Raise :class:`UsageProblem` (rule ``output``) unless files can be created in the folder.

        Nothing is left behind: the probe file is removed, and so are folders made for the probe.
        """
        folder = self.folder
        missing = _missing_parents(folder)
        anchor = missing[-1].parent if missing else folder
        if not anchor.is_dir():
            what = "is not a folder" if anchor.exists() else "does not exist"
            raise UsageProblem(
                f"output folder {str(folder)!r} cannot be created: {str(anchor)!r} {what}", rule="output", field="out"
            )
        try:
            fd, probe = tempfile.mkstemp(prefix=".imagewire-probe-", dir=anchor)
            os.close(fd)
            os.unlink(probe)
        except OSError as err:
            raise UsageProblem(
                f"output folder {str(folder)!r} is not writable: {err.strerror or err}", rule="output", field="out"
            ) from None

    def save(self, groups: Sequence[tuple[ImagesResponse, str]]) -> list[list[Path]]:
        """Save each ``(result, prefix)`` with ``result.save``; on any failure remove what this call made."""
        missing = _missing_parents(self.folder)
        before = set(self.folder.iterdir()) if self.folder.is_dir() else set()
        saved: list[list[Path]] = []
        try:
            for result, prefix in groups:
                saved.append(result.save(self.folder, prefix=prefix))
        except BaseException:
            self._undo([path for paths in saved for path in paths], before, missing)
            raise
        return saved

    def _undo(self, paths: Iterable[Path], before: set[Path], missing: list[Path]) -> None:
        for path in paths:
            if path not in before:
                with contextlib.suppress(OSError):
                    path.unlink()
        for folder in missing:  # deepest first; only if empty
            with contextlib.suppress(OSError):
                folder.rmdir()
