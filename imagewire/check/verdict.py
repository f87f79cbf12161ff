"""One verdict per interaction: does the provider keep the contract, and can the generated client read it?

``conforms``   the response is what the spec says (request-side findings do not count: they describe the caller)
``quirk``      it deviates, but only where the provider declares it does (a quirk of the provider catalog)
``deviation``  it deviates where nothing declares it (each place named by a JSON pointer), and the generated
               client still reads it: a parsed result, the events of a stream, or the typed error of an error status
``violation``  the client cannot honour it: a 2xx answer the client rejects (``ResponseContractError``: HTML on
               200, truncated JSON, a chat.completion instead of an ImagesResponse, no images, a stream without
               a final image), an asynchronous answer (202 Accepted, an ``operation-location`` to poll), a
               content type the client cannot read, an empty body, an answer cut off by the connection closing
               (``APIConnectionError``), an image whose bytes cannot be decoded, or the client failing outright
``skipped``    not an Images API call (no operation of the spec at that method and path: an image download, a
               CORS preflight, the poll of an asynchronous operation); counted and listed with the reason
               (:attr:`Verdict.reason`), not judged

The findings of a verdict are kept ordered by consequence (:func:`by_consequence`): the finding that decides
the verdict (:attr:`Verdict.deciding`) first, then undeclared deviations before declared quirks, then the
caller's own request findings.

"Still readable" is decided by replaying the interaction through the generated client
(:mod:`imagewire.check.replay`), not guessed from the findings. The same :class:`Judge` serves recorded
traffic (``imagewire check --replay``) and live probes (``--live``): anything that yields
:class:`~imagewire.record.recordings.Interaction` values can be judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagewire.check import quirks as provider_catalog
from imagewire.check.replay import Outcome, Replayer
from imagewire.check.validate import Finding, SpecValidator, validator
from imagewire.record.recordings import Interaction
from imagewire_client.catalog import Provider

__all__ = ["VERDICTS", "Judge", "Verdict"]

VERDICTS = ("conforms", "quirk", "deviation", "violation", "skipped")
#: finding kinds that describe the caller's request, not the provider's answer
REQUEST_KINDS = frozenset({"request"})
#: finding kinds that make a violation (the client cannot honour the answer); no quirk declares them away
VIOLATION_KINDS = ("kit", "client-crash", "async", "empty-body", "content-type", "contract")
#: every finding kind, most consequential first (unknown kinds sort just before ``extra-key``)
CONSEQUENCE = (
    *VIOLATION_KINDS,
    "status",
    "media-type",
    "json",
    "stream-error",
    "schema",
    "image",
    "image-format",
    "client",
    "extra-key",
    "request",
)
_RANK = {kind: rank for rank, kind in enumerate(CONSEQUENCE)}
#: the client's typed errors (anything else raised while reading is a crash of the client)
_TYPED_ERRORS = frozenset(
    {
        "ResponseContractError",
        "APIConnectionError",
        "APITimeoutError",
        "APIStatusError",
        "BadRequestError",
        "ContentPolicyError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ModelNotFoundError",
        "ConflictError",
        "RequestTooLargeError",
        "UnsupportedMediaTypeError",
        "UnprocessableEntityError",
        "RateLimitError",
        "QuotaExceededError",
        "InternalServerError",
    }
)


@dataclass
class Verdict:
    """The judgement of one interaction."""

    source: str
    index: int
    method: str
    url: str
    host: str
    provider: str
    operation: str | None
    model: str | None
    status: int
    content_type: str
    verdict: str
    findings: list[Finding] = field(default_factory=list)
    outcome: Outcome | None = None
    #: why a ``skipped`` interaction is not judged (empty otherwise)
    reason: str = ""

    @property
    def number(self) -> int:
        """The interaction's place in its file, counted from 1 (``index`` counts from 0)."""
        return self.index + 1

    @property
    def where(self) -> str:
        """``file#N``, N counted from 1: how every report names the interaction."""
        return f"{self.source}#{self.number}"

    @property
    def response_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.kind not in REQUEST_KINDS]

    @property
    def deciding(self) -> Finding | None:
        """The finding that decides the verdict (first in :attr:`findings`); ``None`` for conforms and skipped."""
        if self.verdict in ("conforms", "skipped"):
            return None
        return next(iter(self.response_findings), None)

    def as_dict(self) -> dict[str, Any]:
        deciding = self.deciding
        return {
            "interaction": self.where,
            "source": self.source,
            "number": self.number,
            "provider": self.provider,
            "host": self.host,
            "method": self.method,
            "url": self.url,
            "operation": self.operation,
            "model": self.model,
            "status": self.status,
            "content_type": self.content_type,
            "verdict": self.verdict,
            **({"reason": self.reason} if self.reason else {}),
            "findings": [f.as_dict() | ({"deciding": True} if f is deciding else {}) for f in self.findings],
            "outcome": self.outcome.as_dict() if self.outcome is not None else None,
        }


def by_consequence(findings: Iterable[Finding], verdict: str) -> list[Finding]:
    """``findings`` ordered by what they weigh: for a quirk verdict the declared quirks first (one of them
    decides it), otherwise undeclared findings before declared ones; within that by kind
    (:data:`CONSEQUENCE`), then as found. The caller's request findings always come last."""

    def key(item: tuple[int, Finding]) -> tuple[int, int, int, int]:
        position, finding = item
        request = finding.kind in REQUEST_KINDS
        declared = finding.quirk is not None
        quirk_rank = (0 if declared else 1) if verdict == "quirk" else (1 if declared else 0)
        return (request, quirk_rank, _RANK.get(finding.kind, _RANK["extra-key"] - 1), position)

    return [finding for _, finding in sorted(enumerate(findings), key=key)]


#: the status URL of an asynchronous image operation (Azure's legacy ``images/generations:submit``)
_POLL = re.compile(r"/operations/images/[^/]+$")
#: where an asynchronous answer says to poll
_ASYNC_HEADERS = ("operation-location", "azure-asyncoperation")


def _no_images(interaction: Interaction) -> tuple[str, str] | None:
    """Why a 2xx answer holds no images the client could read, when it is one of the named reasons:
    an asynchronous answer, an empty body, a content type that is neither JSON nor an event stream."""
    status = f"{interaction.status}{' ' + interaction.reason if interaction.reason else ''}"
    poll = next((value for name in _ASYNC_HEADERS if (value := interaction.response_header(name))), None)
    if interaction.status == 202 or poll:
        where = (
            f" with {_ASYNC_HEADERS[0] if interaction.response_header(_ASYNC_HEADERS[0]) else 'a poll URL'} {poll}"
            if poll
            else ""
        )
        return (
            "async",
            f"an asynchronous answer ({status}{where}): the images would come from polling, which the contract does not have",
        )
    if not interaction.response_content().strip():
        return "empty-body", f"an empty body ({status})"
    content_type = interaction.response_header("content-type") or ""
    media = content_type.split(";")[0].strip().lower()
    readable = media in ("", "text/event-stream", "text/json") or media == "application/json" or media.endswith("+json")
    if not readable and "html" not in media:
        return "content-type", f"content type {media!r}, neither JSON nor an event stream"
    return None


def _warning_finding(warning: str) -> Finding:
    pointer, sep, message = warning.partition(": ")
    if not sep or not (pointer == "" or pointer.startswith("/")):
        return Finding("", warning, "client")
    return Finding(pointer, message, "client")


class Judge:
    """Validator, replaying client and provider catalog, built once and reused for every interaction."""

    def __init__(
        self,
        spec: SpecValidator | None = None,
        *,
        providers: Mapping[str, Provider] | None = None,
        spec_path: str | Path | None = None,
    ) -> None:
        self.spec = spec if spec is not None else validator(spec_path)
        self.providers = providers if providers is not None else provider_catalog.catalog()
        self.replayer = Replayer()

    def provider_for(self, interaction: Interaction, provider: str | None = None) -> str:
        if provider:
            return provider
        return provider_catalog.guess(interaction.url, self.providers)

    def judge(self, interaction: Interaction, provider: str | None = None) -> Verdict:
        """The verdict of one interaction; never raises (a failure of the kit itself becomes a violation)."""
        provider_id = self.provider_for(interaction, provider)
        try:
            return self._judge(interaction, provider_id)
        except Exception as err:  # pragma: no cover - the last line of defence: a body must not become a crash
            return Verdict(
                interaction.source,
                interaction.index,
                interaction.method,
                interaction.url,
                interaction.host,
                provider_id,
                None,
                None,
                interaction.status,
                interaction.response_header("content-type") or "",
                "violation",
                [Finding("", f"the conformance kit failed on this interaction: {type(err).__name__}: {err}", "kit")],
            )

    def judge_all(self, interactions: Iterable[Interaction], provider: str | None = None) -> list[Verdict]:
        return [self.judge(item, provider) for item in interactions]

    def _judge(self, interaction: Interaction, provider_id: str) -> Verdict:
        validation = self.spec.validate(interaction)
        verdict = Verdict(
            interaction.source,
            interaction.index,
            interaction.method,
            interaction.url,
            interaction.host,
            provider_id,
            validation.operation,
            validation.request.model,
            interaction.status,
            validation.content_type,
            "skipped",
            list(validation.findings),
        )
        if validation.operation is None:
            verdict.reason = self._why_skipped(interaction)
            return verdict
        outcome = self.replayer.replay(interaction, validation.operation, validation.request)
        verdict.outcome = outcome
        seen = {f.pointer for f in verdict.findings if f.kind not in REQUEST_KINDS}
        for warning in outcome.warnings:
            finding = _warning_finding(warning)
            if finding.pointer not in seen:
                verdict.findings.append(finding)
                seen.add(finding.pointer)
        violations = self._violations(interaction, outcome)
        verdict.findings += violations
        verdict.findings = self._apply_quirks(verdict.findings, provider_id)
        if violations:
            verdict.verdict = "violation"
        else:
            counted = verdict.response_findings
            if not counted:
                verdict.verdict = "conforms"
            elif all(f.quirk for f in counted):
                verdict.verdict = "quirk"
            else:
                verdict.verdict = "deviation"
        verdict.findings = by_consequence(verdict.findings, verdict.verdict)
        return verdict

    def _why_skipped(self, interaction: Interaction) -> str:
        """Why an interaction is not an Images API call, in a few words."""
        method, path = interaction.method.upper(), interaction.path or "/"
        if _POLL.search(path):
            return (
                f"{method} {path} polls an asynchronous image operation (Azure's legacy API); "
                "the call that started it is judged"
            )
        same_path = self.spec.operation_for_path(interaction.url)
        if same_path is not None:
            if method == "OPTIONS":
                return f"a CORS preflight (OPTIONS {path}), not an Images API call"
            return f"{method} {path}: the spec has {same_path.key} at {same_path.method} only"
        media = (interaction.response_header("content-type") or "").split(";")[0].strip().lower()
        if media.startswith("image/"):
            return f"an image download ({method} {path}), not an Images API call"
        return f"not an Images API call: no operation of the spec at {method} {path}"

    def _violations(self, interaction: Interaction, outcome: Outcome) -> list[Finding]:
        found: list[Finding] = []
        if outcome.kind == "error" and outcome.error not in _TYPED_ERRORS:
            found.append(
                Finding("", f"the generated client failed: {outcome.error}: {outcome.message}", "client-crash")
            )
        elif 200 <= interaction.status < 300 and not outcome.images and (named := _no_images(interaction)):
            kind, message = named
            found.append(Finding("", f"{message}; the client cannot turn it into images", kind))
        elif outcome.contract_error:
            found.append(
                Finding(outcome.pointer or "", f"the client rejects the answer: {outcome.message}", "contract")
            )
        elif outcome.error in ("APIConnectionError", "APITimeoutError"):
            found.append(Finding("", f"the answer was cut off: {outcome.message}", "contract"))
        for pointer, reason in outcome.broken_images:
            found.append(Finding(pointer, f"the image cannot be decoded: {reason}", "contract"))
        return found

    def _apply_quirks(self, findings: list[Finding], provider_id: str) -> list[Finding]:
        provider = self.providers.get(provider_id)
        if provider is None or not provider.quirks:
            return findings
        out = []
        for finding in findings:
            if finding.kind not in REQUEST_KINDS and finding.kind not in VIOLATION_KINDS:
                quirk = provider.quirk_at(finding.pointer)
                if quirk is not None:
                    finding = Finding(finding.pointer, finding.message, finding.kind, quirk.id)
            out.append(finding)
        return out
