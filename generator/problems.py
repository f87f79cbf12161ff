"""Problems found in a spec, reported together as values (never the first one alone)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Problem", "SpecError", "pointer", "unescape"]


def _escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens: str | int) -> str:
    """RFC 6901 JSON pointer for a path: ``pointer("models", "a/b")`` is ``/models/a~1b``."""
    return "".join("/" + _escape(t) for t in tokens)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the spec: which file, where in it (JSON pointer), what, and by which rule."""

    file: str
    pointer: str
    message: str
    rule: str = "spec"
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}#{self.pointer or '/'}"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.message} [{self.rule}]"


class SpecError(Exception):
    """The spec is broken; ``problems`` lists everything that was found, in file and pointer order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = sorted(set(problems))
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the spec:\n{lines}")
