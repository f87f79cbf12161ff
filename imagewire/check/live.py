"""Live probes: ``imagewire check --live`` asks a provider real questions, records the answers and judges them.

The probe plan comes from the catalogs the client is generated from (:mod:`imagewire_client.catalog`:
``_catalog``):

* **paid probes**: every operation the provider offers x every model it serves for it. A provider that takes
  any model (``models: any``: azure, local, generic) gets one representative model per *family* (models the
  catalog treats alike: the same vendor, request fields, listed sizes, size rule and qualities; a snapshot
  joins its model) and per operation, preferring a live, non-snapshot model; models retired at their
  vendor only where the provider serves retired models. Each probe asks for one image (``n=1``) at the
  model's cheapest listed size (by the price table; the smallest when prices are unknown; ``1024x1024`` for
  a model that lists only ``auto`` and a size rule admitting it), the lowest quality where ``low`` is
  listed, ``b64_json`` where the model takes ``response_format``; a model that streams gets a second,
  streamed probe (one partial image). Edits send a 64x64 PNG with a transparent corner, variations too.
* **free probes**, sent with ``validate=False`` so they reach the provider and cost nothing: a bad size
  (``7x7``; expects 400 with the error envelope) and a bad key (expects 401; skipped when no key is in use
  and the provider does not need one).

Money: each paid probe is priced with :func:`imagewire_client.catalog.estimate` from the provider's
price table (or ``prices_from``'s: the reference server playing a provider is priced as ``local``). In
plan order, a probe is sent while its estimate fits in what is left of the budget (a $0 price fits a
budget of 0); a probe whose price is unknown is skipped unless a budget was given and unknown prices
are allowed. The plan, with every estimate and every skip, is printed before anything is sent.

Every probe is sent through the generated client (no retries) with a recording transport; what was
recorded is scrubbed, written as a cassette, and judged by :class:`~imagewire.check.verdict.Judge` exactly
as ``imagewire check --replay`` judges the file. Beside the verdicts, each probe's expectation is
checked (an image for a paid probe, 400 / 401 with an error envelope for the free ones); an unmet
expectation is a :class:`~imagewire.check.expect.Mismatch` of the report.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

import httpx

from imagewire.check.expect import Mismatch
from imagewire.check.report import CheckReport
from imagewire.record.command import consume
from imagewire.record.recordings import Interaction
from imagewire.record.transport import Recorder, RecordingTransport
from imagewire_client.catalog import MODELS, PROVIDERS, Estimate, Model, OperationRules, Provider, estimate

__all__ = [
    "BAD_KEY",
    "BAD_SIZE",
    "DEFAULT_CHECKS_DIR",
    "Decision",
    "LiveRun",
    "Plan",
    "Probe",
    "ProbeResult",
    "build_plan",
    "decide",
    "default_record_dir",
    "families",
    "input_png",
    "run_plan",
]

DEFAULT_CHECKS_DIR = Path("imagewire-checks")
BAD_SIZE = "7x7"
#: a key no provider issued (no ``sk-`` look-alike, so the scrubber's patterns do not need to know it)
BAD_KEY = "imagewire-probe-invalid-key-0000"
PROMPT = "A red circle on a white background (imagewire conformance probe)"
_LIVE_STATUSES = ("live", "preview", "deprecated")
UNKNOWN_PRICE = "price unknown"
OVER_BUDGET = "over budget"


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Probe:
    """One request of the plan."""

    number: int
    name: str  # e.g. "generations dall-e-2 256x256 b64_json", "bad-size", "bad-key"
    kind: str  # "paid" | "free"
    operation: str
    model: str | None
    fields: Mapping[str, Any]  # request fields besides prompt and files (size, n, quality, stream, ...)
    expect: int  # 200 (an image), 400, 401
    estimate: Estimate | None = None  # paid probes
    deployment: str | None = None  # providers whose model comes from the deployment (Azure)
    stream: bool = False

    @property
    def price(self) -> str:
        if self.kind == "free":
            return "free"
        if self.estimate is None or self.estimate.usd is None:
            return "unknown"
        return f"${self.estimate.usd:.3f}"


@dataclass(frozen=True)
class Decision:
    probe: Probe
    send: bool
    reason: str = ""  # why it is skipped (or a note on why it is sent)


@dataclass
class Plan:
    provider: str
    probes: list[Probe]
    notes: list[str] = field(default_factory=list)
    prices_from: str | None = None


def _quality_values(rules: OperationRules) -> tuple[Any, ...] | None:
    param = rules.params.get("quality")
    return param.values if param is not None else None


def _family_key(model: Model) -> tuple[Any, ...]:
    ops = []
    for op, rules in sorted(model.operations.items()):
        size = rules.params.get("size")
        ops.append(
            (
                op,
                tuple(sorted(rules.params)),
                size.values if size is not None else None,
                size is not None and size.rule is not None,
                _quality_values(rules),
            )
        )
    return (model.vendor, tuple(ops))


def families(models: Mapping[str, Model]) -> list[list[str]]:
    """Model ids grouped into families (catalog order); each family's first id is its representative."""
    groups: dict[tuple[Any, ...], list[str]] = {}
    for model_id, model in models.items():
        groups.setdefault(_family_key(model), []).append(model_id)

    def rank(model_id: str) -> tuple[int, int]:
        model = models[model_id]
        return (0 if model.lifecycle.status in _LIVE_STATUSES else 1, 1 if model.snapshot_of else 0)

    return [sorted(ids, key=lambda m: (rank(m), ids.index(m))) for ids in groups.values()]


def _area(size: str) -> int:
    match = re.fullmatch(r"(\d+)x(\d+)", size)
    return int(match.group(1)) * int(match.group(2)) if match else 1 << 62


def _rule_admits(rules: OperationRules, size: str) -> bool:
    param = rules.params.get("size")
    rule = param.rule if param is not None else None
    match = re.fullmatch(r"(\d+)x(\d+)", size)
    if rule is None or match is None:
        return False
    w, h = int(match.group(1)), int(match.group(2))

    def ratio(text: str | None) -> float | None:
        if not text or ":" not in text:
            return None
        a, _, b = text.partition(":")
        return float(a) / float(b) if float(b) else None

    low, high = ratio(rule.aspect_min), ratio(rule.aspect_max)
    checks = [
        low is None or w / h >= low - 1e-9,
        high is None or w / h <= high + 1e-9,
        rule.multiple_of is None or (w % rule.multiple_of == 0 and h % rule.multiple_of == 0),
        rule.min_side is None or min(w, h) >= rule.min_side,
        rule.max_side is None or max(w, h) <= rule.max_side,
        rule.min_pixels is None or w * h >= rule.min_pixels,
        rule.max_pixels is None or w * h <= rule.max_pixels,
    ]
    return all(checks)


def _price(
    prices: Provider, model: Model, model_id: str, operation: str, size: str | None, quality: str | None
) -> Estimate:
    return estimate(prices, model, model_id, operation=operation, size=size, quality=quality, n=1)


def _choose_size(
    prices: Provider, model: Model, model_id: str, operation: str, quality: str | None
) -> tuple[str | None, Estimate]:
    rules = model.operations[operation]
    param = rules.params.get("size")
    listed = [str(v) for v in (param.values or ()) if str(v) != "auto"] if param is not None else []
    if not listed and param is not None and _rule_admits(rules, "1024x1024"):
        listed = ["1024x1024"]
    if not listed:
        return None, _price(prices, model, model_id, operation, None, quality)
    priced = [(size, _price(prices, model, model_id, operation, size, quality)) for size in listed]
    known = [(e.usd, _area(s), s, e) for s, e in priced if e.usd is not None]
    if known:
        _, _, size, chosen = min(known, key=lambda t: (t[0], t[1]))
        return size, chosen
    size = min(listed, key=_area)
    return size, dict(priced)[size]


def _fields(model: Model, operation: str, size: str | None) -> dict[str, Any]:
    rules = model.operations[operation]
    fields: dict[str, Any] = {"n": 1}
    if size is not None:
        fields["size"] = size
    qualities = _quality_values(rules) or ()
    if "low" in qualities:
        fields["quality"] = "low"
    response_format = rules.params.get("response_format")
    if response_format is not None and "b64_json" in (response_format.values or ()):
        fields["response_format"] = "b64_json"
    return fields


def _streams(model: Model, operation: str) -> bool:
    return "stream" in model.operations[operation].params


def _deployment_name(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", model_id)


def build_plan(
    provider_id: str,
    *,
    models: Sequence[str] | None = None,
    operations: Sequence[str] | None = None,
    prices_from: str | None = None,
    key_in_use: bool = True,
    deployment: str | None = None,
) -> Plan:
    """The probes for a provider of the catalog (``models`` / ``operations`` narrow it)."""
    provider = PROVIDERS[provider_id]
    prices = PROVIDERS[prices_from] if prices_from else provider
    table = provider.model_table
    plan = Plan(provider_id, [], prices_from=prices_from)
    offered = [op for op in provider.operations if operations is None or op in operations]
    if operations is not None:
        for op in operations:
            if op not in provider.operations:
                plan.notes.append(f"{provider_id} does not offer {op}: not probed")

    pool: Mapping[str, Model]
    pool = table if table is not None else {m: spec for m, spec in MODELS.items() if provider.serves(m)}
    if models is not None:
        unknown = [m for m in models if m not in pool]
        for model_id in unknown:
            plan.notes.append(f"{model_id} is not a model {provider_id} serves (per the catalog): not probed")
        pool = {m: spec for m, spec in pool.items() if m in models}
    elif provider.model_from_deployment and deployment is not None:
        chosen = deployment if deployment in pool else next(iter(families(pool)))[0]
        if deployment not in pool:
            plan.notes.append(
                f"deployment {deployment!r} runs a model the catalog cannot name: probed as {chosen} (pass --model)"
            )
        pool = {chosen: pool[chosen]}

    per_op: dict[str, list[str]] = {}
    if table is None and models is None and len(pool) > 1:
        groups = families(pool)
        for op in offered:
            chosen_ids = []
            for group in groups:
                serving = [m for m in group if op in pool[m].operations]
                if serving:
                    chosen_ids.append(serving[0])
            per_op[op] = chosen_ids
        described = "; ".join(
            group[0] + (f" (also {', '.join(group[1:])})" if len(group) > 1 else "") for group in groups
        )
        plan.notes.append(
            f"{provider_id} takes any model: one model per family and operation "
            f"({len(groups)} families of {len(pool)} models): {described}"
        )
    else:
        for op in offered:
            per_op[op] = [m for m, spec in pool.items() if op in spec.operations]
    for op in offered:
        if not per_op.get(op):
            plan.notes.append(f"{provider_id} offers {op}, but no model it serves (per the catalog) does: not probed")
    if provider.model_from_deployment and deployment is None:
        plan.notes.append(
            f"{provider_id} takes the model from the deployment: each probe uses a deployment named after "
            "its model (--setting deployment=NAME probes one deployment)"
        )

    probes: list[Probe] = []

    def add(**values: Any) -> Probe:
        probe = Probe(number=len(probes) + 1, **values)
        probes.append(probe)
        return probe

    first_generation: Probe | None = None
    for op in offered:
        for model_id in per_op.get(op, []):
            spec = pool[model_id]
            fields = _fields(spec, op, None)
            size, cost = _choose_size(prices, spec, model_id, op, fields.get("quality"))
            fields = _fields(spec, op, size)
            dep = (deployment or _deployment_name(model_id)) if provider.model_from_deployment else None
            label = " ".join(
                str(x)
                for x in (op, model_id, size or "(default size)", fields.get("quality"), fields.get("response_format"))
                if x
            )
            probe = add(
                name=label,
                kind="paid",
                operation=op,
                model=model_id,
                fields=fields,
                expect=200,
                estimate=cost,
                deployment=dep,
            )
            if op == "generations" and first_generation is None:
                first_generation = probe
            if _streams(spec, op) and op != "variations":
                add(
                    name=f"{label} stream",
                    kind="paid",
                    operation=op,
                    model=model_id,
                    fields={**fields, "partial_images": 1},
                    expect=200,
                    estimate=cost,
                    deployment=dep,
                    stream=True,
                )
    if first_generation is None:
        plan.notes.append("no generations probe in the plan: the free probes need one; none planned")
    else:
        base = first_generation
        add(
            name=f"bad-size: generations {base.model} size={BAD_SIZE} (expects 400 with the error envelope)",
            kind="free",
            operation="generations",
            model=base.model,
            fields={"n": 1, "size": BAD_SIZE},
            expect=400,
            deployment=base.deployment,
        )
        if key_in_use or not (provider.key_optional or provider.auth_style == "none"):
            add(
                name=f"bad-key: generations {base.model} with a key nobody issued (expects 401)",
                kind="free",
                operation="generations",
                model=base.model,
                fields=dict(base.fields),
                expect=401,
                deployment=base.deployment,
            )
        else:
            plan.notes.append(f"bad-key probe skipped: no key in use and {provider_id} does not need one")
    plan.probes = probes
    return plan


def decide(
    plan: Plan, *, budget: float = 0.0, budget_given: bool = False, allow_unknown: bool = False
) -> list[Decision]:
    """Which probes are sent: free ones always; paid ones while their estimate fits in the budget left."""
    left = budget
    decisions = []
    for probe in plan.probes:
        if probe.kind == "free":
            decisions.append(Decision(probe, True))
            continue
        usd = probe.estimate.usd if probe.estimate is not None else None
        if usd is None:
            sent = budget_given and allow_unknown
            decisions.append(Decision(probe, sent, "price unknown, allowed" if sent else UNKNOWN_PRICE))
            continue
        if usd <= left + 1e-9:
            left -= usd
            decisions.append(Decision(probe, True))
        else:
            decisions.append(Decision(probe, False, f"{OVER_BUDGET} (${usd:.3f} > ${max(left, 0.0):.3f} left)"))
    return decisions


def render_plan(plan: Plan, decisions: Sequence[Decision], *, budget: float, where: str) -> str:
    """The plan as text: one line per probe with its estimate and whether it is sent, then what is skipped."""
    prices = f"; prices of {plan.prices_from}" if plan.prices_from else ""
    lines = [f"Live check of {plan.provider} at {where} (budget ${budget:.3f}{prices})"]
    lines += [f"  note: {note}" for note in plan.notes]
    width = max([len(d.probe.name) for d in decisions] + [5])
    lines.append(f"  {'#':>3}  {'probe'.ljust(width)}  {'estimate':>9}  decision")
    for decision in decisions:
        probe = decision.probe
        verdict = "send" if decision.send else "skip"
        reason = f" ({decision.reason})" if decision.reason else ""
        lines.append(f"  {probe.number:>3}  {probe.name.ljust(width)}  {probe.price:>9}  {verdict}{reason}")
    sent = [d for d in decisions if d.send]
    skipped = [d for d in decisions if not d.send]
    known = sum(d.probe.estimate.usd or 0.0 for d in sent if d.probe.kind == "paid" and d.probe.estimate is not None)
    unknown = sum(
        1 for d in sent if d.probe.kind == "paid" and (d.probe.estimate is None or d.probe.estimate.usd is None)
    )
    total = f"${known:.3f}" + (f" + {unknown} at unknown prices" if unknown else "")
    lines.append(f"  {len(sent)} probe(s) to send, estimated {total}; {len(skipped)} skipped")
    if skipped:
        reasons: dict[str, int] = {}
        for decision in skipped:
            key = decision.reason.split(" (", 1)[0]
            reasons[key] = reasons.get(key, 0) + 1
        lines.append("  skipped: " + ", ".join(f"{count} {why}" for why, count in reasons.items()))
        if UNKNOWN_PRICE in reasons:
            lines.append("  (probes at unknown prices are sent with --budget USD --allow-unknown-prices)")
        if OVER_BUDGET in reasons:
            lines.append("  (a larger --budget USD sends the probes over budget)")
    return "\n".join(lines)


# ---------------------------------------------------------------- inputs


def input_png(size: int = 64) -> bytes:
    """A square RGBA PNG with a transparent corner (what dall-e-2 edits without a mask need)."""
    from PIL import Image

    img = Image.new("RGBA", (size, size), (200, 40, 40, 255))
    for x in range(size // 4):
        for y in range(size // 4):
            img.putpixel((x, y), (0, 0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# ---------------------------------------------------------------- running


@dataclass
class ProbeResult:
    probe: Probe
    sent: bool
    start: int = 0  # the recorder's number of its first request
    end: int = 0
    client: str = ""  # what the client made of it (a result, events, or the error raised)
    problem: str | None = None  # not sent after all (the client refused it), or no answer
    unreachable: bool = False  # no connection to the provider could be made (exit 3)
    #: the positions of its interactions in the cassette (requests without an answer have none)
    indexes: list[int] = field(default_factory=list)


@dataclass
class LiveRun:
    plan: Plan
    decisions: list[Decision]
    results: list[ProbeResult]
    cassette: Path | None
    interactions: list[Interaction]  # as written (scrubbed), source = the cassette
    seconds: float = 0.0

    @property
    def sent(self) -> list[ProbeResult]:
        return [r for r in self.results if r.sent]

    def spent(self) -> tuple[float, int]:
        """(estimated dollars of the paid probes sent, how many of them had unknown prices)."""
        known, unknown = 0.0, 0
        for result in self.sent:
            probe = result.probe
            if probe.kind != "paid":
                continue
            if probe.estimate is None or probe.estimate.usd is None:
                unknown += 1
            else:
                known += probe.estimate.usd
        return known, unknown


def default_record_dir(provider: str, base: Path = DEFAULT_CHECKS_DIR) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return base / f"{stamp}-{provider}"


def _call(client: Any, probe: Probe, image: bytes) -> str:
    images = client.images
    fields = dict(probe.fields)
    validate = probe.kind == "paid"
    options: dict[str, Any] = {"validate": validate}
    if probe.model is not None:
        options["model"] = probe.model
    if probe.operation == "generations":
        result = images.generate(prompt=PROMPT, stream=probe.stream, **fields, **options)
    elif probe.operation == "edits":
        upload = ("probe.png", image, "image/png")
        result = images.edit(prompt=PROMPT, image=upload, stream=probe.stream, **fields, **options)
    else:
        upload = ("probe.png", image, "image/png")
        result = images.create_variation(image=upload, **fields, **options)
    return consume(result, probe.stream)


def run_plan(
    plan: Plan,
    decisions: Sequence[Decision],
    *,
    base_url: str | None,
    api_key: str | None,
    settings: Mapping[str, str] | None = None,
    record_dir: Path,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 120.0,
    out: IO[str] | None = None,
    redact: Callable[[str], str] = lambda text: text,
) -> LiveRun:
    """Send the probes decided on, record and write them (scrubbed), and return what happened.

    Raises :class:`imagewire_client.ImagewireError` when a client cannot be made (no key, a missing setting).
    """
    from imagewire_client import APIConnectionError, APIStatusError, Client, ImagewireError, ValidationError

    started = time.perf_counter()
    settings = dict(settings or {})
    provider = PROVIDERS[plan.provider]
    record_dir.mkdir(parents=True, exist_ok=True)
    cassette = record_dir / f"live-{plan.provider}.yaml"
    recorder = Recorder(str(cassette), secrets=[api_key])
    inner = transport if transport is not None else httpx.HTTPTransport()
    recording = RecordingTransport(inner, recorder=recorder)
    http = httpx.Client(transport=recording, timeout=httpx.Timeout(timeout, connect=10.0))
    clients: dict[tuple[str | None, str | None], Any] = {}
    image = input_png()

    def client_for(deployment: str | None, key: str | None) -> Any:
        cache_key = (deployment, key)
        if cache_key not in clients:
            extra = dict(settings)
            if provider.model_from_deployment and deployment is not None:
                extra["deployment"] = deployment
            clients[cache_key] = Client(
                provider=plan.provider,
                base_url=base_url,
                api_key=key,
                http_client=http,
                max_retries=0,
                resource=extra.get("resource"),
                deployment=extra.get("deployment"),
                api_version=extra.get("api_version"),
                organization=extra.get("organization"),
                project=extra.get("project"),
            )
        return clients[cache_key]

    results: list[ProbeResult] = []
    try:
        client_for(decisions[0].probe.deployment if decisions else None, api_key)  # fail early: key, settings
        for decision in decisions:
            probe = decision.probe
            if not decision.send:
                results.append(ProbeResult(probe, sent=False))
                continue
            key = BAD_KEY if probe.expect == 401 else api_key
            client = client_for(probe.deployment, key)
            result = ProbeResult(probe, sent=True, start=len(recorder))
            try:
                result.client = _call(client, probe, image)
            except ValidationError as err:
                result.problem = f"the client refused to send it: {err}"
            except APIConnectionError as err:
                result.client = f"{type(err).__name__}"
                result.problem = f"no answer: {err}"
                result.unreachable = isinstance(err.__cause__, (httpx.ConnectError, httpx.ConnectTimeout))
            except APIStatusError as err:
                result.client = f"{type(err).__name__} ({err.status_code})"
            except ImagewireError as err:
                result.client = _clip(f"{type(err).__name__}: {getattr(err, 'reason', None) or err}")
            result.end = len(recorder)
            if result.end == result.start and result.problem is None:
                result.problem = "nothing was sent"
            results.append(result)
            if out is not None:
                status = ", ".join(
                    str(i.status) for i in recorder.interactions(result.start)[: result.end - result.start]
                )
                shown = status or "-"
                print(redact(f"  sent #{probe.number}: {shown} -> {result.client or result.problem}"), file=out)
    finally:
        http.close()
    interactions: list[Interaction] = []
    written: Path | None = None
    if recorder.interactions():
        header = (
            "imagewire check --live --provider "
            + plan.provider
            + "\n"
            + "\n".join(
                f"#{r.probe.number} {r.probe.name} [{r.probe.price}]" + ("" if r.sent else " (skipped)")
                for r in results
            )
        )
        written = recorder.save(cassette, header=header)
        answered = recorder.interactions()
        position = {item.index: number for number, item in enumerate(answered)}
        for result in results:
            result.indexes = [position[i] for i in range(result.start, result.end) if i in position]
        interactions = _reindex(recorder.scrubbed(answered), str(written))
    return LiveRun(plan, list(decisions), results, written, interactions, time.perf_counter() - started)


def _clip(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reindex(items: Iterable[Interaction], source: str) -> list[Interaction]:
    return [replace(item, source=source, index=i) for i, item in enumerate(items)]


# ---------------------------------------------------------------- expectations


def _envelope(item: Interaction) -> bool:
    try:
        body = json.loads(item.response_content())
    except (ValueError, UnicodeDecodeError):
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and isinstance(error.get("message"), str) and bool(error["message"].strip())


def _error_text(item: Interaction) -> str:
    try:
        body = json.loads(item.response_content())
    except (ValueError, UnicodeDecodeError):
        text = item.response_content()[:120].decode("utf-8", "replace")
        return " ".join(text.split())
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code") or error.get("type") or ""
        message = str(error.get("message") or "")[:160]
        return f"{code}: {message}" if code else message
    return json.dumps(body)[:160]


def expectations(run: LiveRun) -> list[Mismatch]:
    """Each sent probe against what it expects; unmet expectations as mismatches of the report."""
    source = str(run.cassette) if run.cassette is not None else "live"
    by_index = {item.index: item for item in run.interactions}
    found: list[Mismatch] = []
    for result in run.sent:
        probe = result.probe
        items = [by_index[i] for i in result.indexes if i in by_index]
        where = items[-1].index if items else None
        if result.unreachable and not items:
            continue  # reported as unreachable, not as a mismatch
        if result.problem is not None and not items:
            found.append(Mismatch(source, None, f"probe #{probe.number} ({probe.name}): {result.problem}"))
            continue
        if not items:
            continue
        answer = items[-1]
        if probe.expect == 200:
            if not 200 <= answer.status < 300:
                found.append(
                    Mismatch(
                        source,
                        where,
                        f"probe #{probe.number} ({probe.name}): expected an image, got {answer.status} "
                        f"{_error_text(answer)}",
                    )
                )
        elif answer.status != probe.expect:
            found.append(
                Mismatch(
                    source,
                    where,
                    f"probe #{probe.number} ({probe.name}): expected {probe.expect}, got {answer.status}",
                )
            )
        elif not _envelope(answer):
            found.append(
                Mismatch(
                    source,
                    where,
                    f"probe #{probe.number} ({probe.name}): {answer.status} without the error envelope "
                    '{"error": {"message": ...}}',
                )
            )
    return found


def apply(run: LiveRun, report: CheckReport) -> CheckReport:
    """Add the probes' unmet expectations, and those that could not reach the provider, to ``report``
    (whose verdicts judged ``run.interactions``)."""
    report.mismatches += expectations(run)
    report.unreachable += [
        f"probe #{r.probe.number} ({r.probe.name}): {r.problem}" for r in run.sent if r.unreachable and not r.indexes
    ]
    return report
