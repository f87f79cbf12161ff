"""One verdict per interaction: does the provider keep the contract, and can the generated client read it?

``conforms``   the response is what the spec says (request-side findings do not count: they describe the caller)
``quirk``      it deviates, but only where the provider declares it does (a quirk of the provider catalog)
``deviation``  it deviates where nothing declares it (each place named by a JSON pointer), and the generated
               client still reads it: a parsed result, the events of a stream, or the typed error of an error status
``violation``  the client cannot honour it: a 2xx answer the client rejects (``ResponseContractError``: HTML on
               200, truncated JSON, a chat.completion instead of an ImagesResponse, no images, a stream without
               a final image), an answer cut off by the connection closing (``APIConnectionError``), an image
               whose bytes cannot be decoded, or the client failing outright
``skipped``    not an Images API call (no operation of the spec at that method and path, e.g. an image
               download); listed, not judged

"Still readable" is decided by replaying the interaction through the generated client
(:mod:`imagewire.check.replay`), not guessed from the findings. The same :class:`Judge` serves recorded
traffic (``imagewire check --replay``) and live probes (``--live``): anything that yields
:class:`~imagewire.record.recordings.Interaction` values can be judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagewire.check import quirks as provider_catalog
from imagewire.check.replay import Outcome, Replayer
from imagewire.check.validate import Finding, SpecValidator, validator
from imagewire.record.recordings import Interaction

__all__ = ["VERDICTS", "Judge", "Verdict"]

VERDICTS = ("conforms", "quirk", "deviation", "violation", "skipped")
#: finding kinds that describe the caller's request, not the provider's answer
REQUEST_KINDS = frozenset({"request"})
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

    @property
    def where(self) -> str:
        return f"{self.source}#{self.index}"

    @property
    def response_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.kind not in REQUEST_KINDS]

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "index": self.index,
            "provider": self.provider,
            "host": self.host,
            "method": self.method,
            "url": self.url,
            "operation": self.operation,
            "model": self.model,
            "status": self.status,
            "content_type": self.content_type,
            "verdict": self.verdict,
            "findings": [f.as_dict() for f in self.findings],
            "outcome": self.outcome.as_dict() if self.outcome is not None else None,
        }


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
        providers: Mapping[str, provider_catalog.ProviderInfo] | None = None,
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
            return verdict
        outcome = self.replayer.replay(interaction, validation.operation, validation.request)
        verdict.outcome = outcome
        seen = {f.pointer for f in verdict.findings if f.kind not in REQUEST_KINDS}
        for warning in outcome.warnings:
            finding = _warning_finding(warning)
            if finding.pointer not in seen:
                verdict.findings.append(finding)
                seen.add(finding.pointer)
        violations = self._violations(outcome)
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
        return verdict

    def _violations(self, outcome: Outcome) -> list[Finding]:
        found: list[Finding] = []
        if outcome.kind == "error" and outcome.error not in _TYPED_ERRORS:
            found.append(
                Finding("", f"the generated client failed: {outcome.error}: {outcome.message}", "client-crash")
            )
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
            if finding.kind not in REQUEST_KINDS and finding.kind not in ("contract", "client-crash", "kit"):
                quirk = next((q for q in provider.quirks if q.covers(finding.pointer)), None)
                if quirk is not None:
                    finding = Finding(finding.pointer, finding.message, finding.kind, quirk.id)
            out.append(finding)
        return out
