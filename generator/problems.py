"""Problems found in a spec, reported together as values (never the first one alone)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

__all__ = ["ROOT_RULES", "Problem", "SpecError", "pointer", "unescape"]


def _escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer(*tokens: str | int) -> str:
    """RFC 6901 JSON pointer for a path: ``pointer("models", "a/b")`` is ``/models/a~1b``."""
    return "".join("/" + _escape(t) for t in tokens)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the spec: which file, where in it (JSON pointer), what, and by which rule.

    ``cause`` names the problem this one follows from (a dangling ``$ref`` that left a request body
    unread, an ``extends`` naming no model): fix the cause and the consequence goes away with it.
    """

    file: str
    pointer: str
    message: str
    rule: str = "spec"
    line: int | None = None
    cause: Problem | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        where = f"{self.file}#{self.pointer or '/'}"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.message} [{self.rule}]"

    def because(self, cause: Problem | None) -> Problem:
        """This problem, marked as following from ``cause`` (unchanged when ``cause`` is None)."""
        return self if cause is None or cause == self else replace(self, cause=cause.root)

    @property
    def root(self) -> Problem:
        return self if self.cause is None else self.cause.root


#: rules whose problems others follow from: they come first
ROOT_RULES = ("load", "ref")


class SpecError(Exception):
    """The spec is broken. ``problems`` holds everything found in root-cause order: first what others follow
    from (unreadable files, dangling references, problems with consequences), each followed by its
    consequences; then the rest in file and pointer order. ``roots`` are the problems without a cause."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        found = sorted(set(problems))
        follows: dict[Problem, list[Problem]] = {}
        roots: list[Problem] = []
        for problem in found:
            root = problem.root
            if root == problem:
                roots.append(problem)
            else:
                follows.setdefault(root, []).append(problem)
        for root in follows:  # a cause that was not reported itself still leads its consequences
            if root not in roots:
                roots.append(root)
        roots.sort(key=lambda p: (0 if p.rule in ROOT_RULES or p in follows else 1, p))
        self.roots: Sequence[Problem] = roots
        self.consequences: dict[Problem, list[Problem]] = follows
        self.problems: Sequence[Problem] = [q for root in roots for q in (root, *follows.get(root, ()))]
        super().__init__(self.report())

    def report(self, *, verbose: bool = False) -> str:
        """The problems as lines; each consequence folded into its cause's line, or listed with ``verbose``."""
        count = len(self.roots)
        extra = len(self.problems) - count
        head = f"{count} problem{'s' if count != 1 else ''} in the spec"
        if extra:
            head += f", and {_more(extra)} from {'it' if count == 1 else 'them'}"
        lines = [head + ":"]
        for root in self.roots:
            lines.append(f"  {root}")
            after = self.consequences.get(root, [])
            if after and verbose:
                lines += [f"      follows: {p}" for p in after]
            elif after:
                lines.append(f"      and {_more(len(after))} from it (--verbose lists them)")
        return "\n".join(lines)


def _more(count: int) -> str:
    return f"{count} more that follow{'s' if count == 1 else ''}"
