"""What the consumer commands share: the local usage problem (exit 2) and the redaction of secrets in output."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from imagewire_client.wire import REDACTED, mask_secrets

__all__ = ["REDACTED", "Redactor", "UsageProblem", "cli_words", "option_name", "words"]


class UsageProblem(Exception):
    """A problem on this side (arguments, --descr, input files, the output folder): exit 2, nothing sent.

    ``rule`` names the rule that was broken (``descr``, ``prompt``, ``file``, ``output``, ...) and
    ``allowed`` what it admits, when that is a list of values.
    """

    def __init__(self, message: str, *, rule: str, field: str | None = None, allowed: Iterable[Any] | None = None):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.field = field
        self.allowed: tuple[str, ...] | None = tuple(str(a) for a in allowed) if allowed is not None else None

    def __str__(self) -> str:
        return self.message


def words(items: Iterable[object], last: str = "or") -> str:
    """``a, b or c``."""
    texts = [str(item) for item in items]
    if len(texts) <= 1:
        return "".join(texts)
    return f"{', '.join(texts[:-1])} {last} {texts[-1]}"


class Redactor:
    """Every text the commands print passes through here: credential look-alikes and the key itself go.

    The client already masks what looks like a key (``sk-...``, JWTs, ``Bearer ...``); a key of any
    other shape is known here by value and replaced wherever it appears.
    """

    #: shorter keys are not replaced by value (it would garble unrelated text); they are not keys anyway
    MIN_LENGTH = 4

    def __init__(self, *secrets: str | None) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= self.MIN_LENGTH}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= self.MIN_LENGTH and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return mask_secrets(text)


def option_name(keyword: str) -> str:
    """The command-line spelling of a client keyword: ``api_version`` -> ``--api-version``."""
    return "--" + keyword.replace("_", "-")


#: the client's Python words in its messages -> what a command-line user types instead
_CLI_WORDS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\bvalidate=False\b"), "--no-validate"),
    (re.compile(r"\ballow_retired=True\b"), "--allow-retired"),
    (re.compile(r"\bthe api_key argument\b"), "--api-key"),
    (re.compile(r"\bClient\(provider=\.\.\.\)"), "--provider"),
    (re.compile(r"\b([a-z][a-z_]*)=\.\.\."), lambda found: option_name(found[1]) + " ..."),
)


def cli_words(text: str) -> str:
    """A client message in command-line words: ``pass validate=False`` -> ``pass --no-validate``, and so on.

    The client speaks to Python callers (``validate=False``, ``base_url=...``, ``the api_key argument``);
    every message a command prints from it goes through here first.
    """
    for pattern, replacement in _CLI_WORDS:
        text = pattern.sub(replacement, text)
    return text
