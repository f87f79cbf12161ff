"""Which spec a command reads: ``--spec DIR`` (or a root document), else ``./spec`` when present, else the packaged one."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["ROOT_DOCUMENT", "SPEC_HELP", "SpecNotFound", "packaged_spec_dir", "spec_document"]

#: the root OpenAPI document inside a spec folder
ROOT_DOCUMENT = "openapi.yaml"
#: the help of ``--spec``, for every command that reads a spec
SPEC_HELP = (
    "the spec: a folder holding openapi.yaml, or the document (default: ./spec when present, else the packaged spec)"
)


class SpecNotFound(FileNotFoundError):
    """``--spec`` names neither a root document nor a folder holding ``openapi.yaml``."""


def packaged_spec_dir() -> Path:
    """The spec shipped inside the ``imagewire`` package (a real folder: wheels install unzipped)."""
    return Path(str(resources.files("imagewire") / "spec"))


def spec_document(explicit: Path | str | None = None, *, cwd: Path | None = None) -> Path:
    """The root OpenAPI document to read.

    ``explicit`` (``--spec``) may name a spec folder or a root document. Without it, ``./spec`` wins over
    the packaged copy, so that a checkout (or a user's own curated spec) is read where the command runs.
    """
    if explicit is not None:
        path = Path(explicit)
        if path.is_dir():
            path = path / ROOT_DOCUMENT
        if not path.is_file():
            raise SpecNotFound(
                f"{explicit}: no spec there (--spec takes a folder holding {ROOT_DOCUMENT}, or the document)"
            )
        return path
    local = (cwd or Path.cwd()) / "spec" / ROOT_DOCUMENT
    if local.is_file():
        return local
    return packaged_spec_dir() / ROOT_DOCUMENT
