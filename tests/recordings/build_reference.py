"""Record the reference provider (``imagewire.server``) in every persona, with every fault, into ``reference/``.

For each provider of ``imagewire_client.catalog.PROVIDERS`` (each one is a persona of the server; none is
named here) this starts ``imagewire.server.start(persona)`` on a free loopback port and calls it through the
generated client and a recording transport (``imagewire.record.transport``), as ``imagewire record`` does:

* a generation: the first generation of the persona's live probe plan (``imagewire.check.live.build_plan``: a model
  it serves, its cheapest size and quality) as ``b64_json``, and as ``url`` where the model takes
  ``response_format``;
* a stream, where a model the persona serves streams (the plan's first streamed probe, one partial image);
* an edit where the persona offers edits, a variation where it offers variations (the plan's first of each);
* that generation again once per fault of ``imagewire.server.faults.FAULTS`` (the ``X-Imagewire-Fault``
  header; ``slow`` sleeps the server's latency, :data:`LATENCY_MS` here), and once with the moderation marker
  word in the prompt.

The interactions are normalised so a rebuild writes the same bytes: the server's port, ``created`` /
``created_at``, ``date``, request ids, processing times, the multipart boundary and the client's version in
``User-Agent`` (it changes with every regeneration that changes the client) take fixed values (image
URLs' ``se`` / ``sig`` are scrubbed). Then they are scrubbed as ``imagewire record`` scrubs them and written to
``reference/<persona>.yaml``, beside ``reference/<persona>.expect.yaml``: the verdict and client outcome each
interaction must replay to, declared below by kind of call (:data:`FAULT_OUTCOMES`, :func:`answer`), not copied
from what the kit answers. The build also checks that the client, live, got what is declared, so a recording
that did not capture what it claims (a fault that did not fire) is not written.

    .venv/bin/python tests/recordings/build_reference.py                  # rewrite reference/ (about 10 s)
    .venv/bin/python tests/recordings/build_reference.py --out DIR        # write elsewhere (the test compares)
    .venv/bin/python tests/recordings/build_reference.py --persona azure  # one persona (repeatable)
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import yaml

from imagewire.check.live import Probe, build_plan, input_png
from imagewire.record.command import consume
from imagewire.record.recordings import Headers, Interaction, write_cassette
from imagewire.record.transport import Recorder, RecordingTransport
from imagewire.server import start
from imagewire.server.faults import FAULTS, HEADER
from imagewire.server.personas import personas
from imagewire_client.catalog import MODELS, PROVIDERS

HERE = Path(__file__).resolve().parent


OUT = HERE / "reference"
KEY = "sk-imagewire-reference-0123456789abcdef"
PROMPT = "A red circle on a white background (imagewire reference recording)"
#: the server's moderation marker word (imagewire.server.app): a prompt holding it is refused
MARKER_PROMPT = "A forbidden red circle (imagewire reference recording)"
#: what every request waits on the server; the ``slow`` fault waits this long too (instead of 2 s)
LATENCY_MS = 5
#: values of provider settings the personas need besides their URL (the deployment comes from each probe)
SETTING_VALUES: Mapping[str, str] = {"resource": "imagewire", "api_version": "2025-04-01-preview"}

# what volatile values become
ORIGIN = "http://127.0.0.1:8765"
CREATED = 1794909600  # 2026-11-17T10:00:00Z
DATE = "Tue, 17 Nov 2026 10:00:00 GMT"
PROCESSING_MS = "1"
BOUNDARY = "imagewire-" + "0" * 32  # as long as the client's random ones: no length changes
_CREATED = re.compile(rb'("created(?:_at)?"\s*:\s*)\d+')
_BOUNDARY = re.compile(r"boundary=(imagewire-[0-9a-f]{32})")
_AGENT_VERSION = re.compile(r"^(imagewire-client)/[0-9][^ ]*")
AGENT_VERSION = r"\1/0.0.0"


# ---------------------------------------------------------------- what each call must replay to


@dataclass(frozen=True)
class Outcome:
    """The verdict and client outcome an interaction replays to (``error``: the exception class name)."""

    verdict: str
    error: str | None = None
    images: int | None = None
    events: int | None = None
    findings: tuple[str, ...] = ()
    #: what the client raised live, where a replay of the recording cannot tell (a dropped connection)
    live_error: str | None = None


#: by fault name (the keys of imagewire.server.faults.FAULTS; a new fault needs an entry here).
#: ``None``: the fault does not change the answer, which replays as the plain generation does.
FAULT_OUTCOMES: Mapping[str, Outcome | None] = {
    "rate-limit": Outcome("conforms", "RateLimitError"),
    "rate-limit-bare": Outcome("conforms", "RateLimitError"),
    "quota": Outcome("conforms", "QuotaExceededError"),
    "server-error": Outcome("conforms", "InternalServerError"),
    "bad-gateway": Outcome("conforms", "InternalServerError"),
    "overloaded": Outcome("conforms", "InternalServerError"),
    "slow": None,
    # the recording keeps the half of the body that arrived (and says so in X-Imagewire-Recorder); replayed,
    # that is a 200 whose JSON breaks off: the client cannot read it
    "drop": Outcome("violation", "APIConnectionError", findings=("",)),
    "truncated": Outcome("violation", "ResponseContractError", findings=("",)),
    # an HTML or text error page instead of the error envelope: still typed by its status
    "html": Outcome("deviation", "InternalServerError", findings=("",)),
    "text": Outcome("deviation", "InternalServerError", findings=("",)),
    # a chat.completion on 200 (seed 004, as proxy-chat-completion.yaml): no images, and its keys are not ours
    "wrong-shape": Outcome(
        "violation",
        "ResponseContractError",
        findings=("/choices", "/data", "/id", "/object", "/usage/completion_tokens", "/usage/prompt_tokens"),
    ),
    "moderation_blocked": Outcome("conforms", "ContentPolicyError"),
}
MARKER_OUTCOME = Outcome("conforms", "ContentPolicyError")


def answer(persona: str, *, stream: bool = False, partial_images: int = 0) -> Outcome:
    """A good answer with one image: it conforms, or is a quirk where the persona declares extra keys there
    (Azure's filter results; declared in the provider catalog, placed by the server in JSON answers)."""
    if stream:
        return Outcome("conforms", images=1, events=partial_images + 1)
    extra = tuple(sorted(pointer.replace("*", "0") for pointer in personas()[persona].extra_keys.values()))
    return Outcome("quirk" if extra else "conforms", images=1, findings=extra)


# ---------------------------------------------------------------- the calls


@dataclass(frozen=True)
class Call:
    """One call of the client: what it is, the probe it follows, how it differs from the probe's request."""

    note: str
    probe: Probe
    expected: Outcome
    fields: Mapping[str, Any] | None = None  # replaces the probe's fields
    prompt: str = PROMPT
    headers: Mapping[str, str] | None = None


def calls(persona: str) -> list[Call]:
    """The calls recorded for a persona, in order."""
    plan = build_plan(persona, prices_from="local")
    paid = [p for p in plan.probes if p.kind == "paid"]

    def first(operation: str, *, stream: bool = False) -> Probe | None:
        return next((p for p in paid if p.operation == operation and p.stream == stream), None)

    generation = first("generations")
    if generation is None:
        raise SystemExit(f"{persona}: no generation in its probe plan ({'; '.join(plan.notes)})")
    out = [Call(f"generation: {generation.name}", generation, answer(persona))]
    model = MODELS[str(generation.model)]
    response_format = model.operations["generations"].params.get("response_format")
    if response_format is not None and "url" in (response_format.values or ()):
        url_fields = {**generation.fields, "response_format": "url"}
        out.append(Call(f"generation as a url: {generation.name} url", generation, answer(persona), url_fields))
    streamed = first("generations", stream=True)
    if streamed is not None:
        partials = int(streamed.fields.get("partial_images") or 0)
        expected = answer(persona, stream=True, partial_images=partials)
        out.append(Call(f"stream: {streamed.name}", streamed, expected))
    for operation in ("edits", "variations"):
        probe = first(operation)
        if probe is not None:
            out.append(Call(f"{operation[:-1]}: {probe.name}", probe, answer(persona)))
    missing = sorted(set(FAULTS) - set(FAULT_OUTCOMES))
    if missing:
        raise SystemExit(f"declare what these faults replay to in FAULT_OUTCOMES: {', '.join(missing)}")
    for name in FAULTS:
        expected = FAULT_OUTCOMES[name] or answer(persona)
        out.append(Call(f"fault {name}: {FAULTS[name]}", generation, expected, headers={HEADER: name}))
    out.append(Call("the moderation marker word in the prompt", generation, MARKER_OUTCOME, prompt=MARKER_PROMPT))
    return out


def _settings(persona: str, deployment: str | None) -> dict[str, Any]:
    provider = PROVIDERS[persona]
    settings: dict[str, Any] = {}
    for setting in (*provider.url_params, *provider.query):
        name = (setting.param or setting.name).replace("-", "_")
        if name == "deployment":
            if deployment is not None:
                settings[name] = deployment
        elif setting.default is None:
            if name not in SETTING_VALUES:
                raise SystemExit(f"{persona}: give the setting {name!r} a value in SETTING_VALUES")
            settings[name] = SETTING_VALUES[name]
    return settings


def _send(client: Any, call: Call) -> str:
    """Make the call; what the client made of it (``result`` or the exception class name)."""
    from imagewire_client import ImagewireError

    probe = call.probe
    fields = dict(call.fields if call.fields is not None else probe.fields)
    options: dict[str, Any] = {"model": probe.model, "extra_headers": dict(call.headers or {})}
    image = ("input.png", input_png(), "image/png")
    try:
        if probe.operation == "generations":
            result = client.images.generate(prompt=call.prompt, stream=probe.stream, **fields, **options)
        elif probe.operation == "edits":
            result = client.images.edit(prompt=call.prompt, image=image, stream=probe.stream, **fields, **options)
        else:
            result = client.images.create_variation(image=image, **fields, **options)
        consume(result, probe.stream)
    except ImagewireError as err:
        return type(err).__name__
    return "result"


def record(persona: str) -> tuple[list[Interaction], list[Call], str]:
    """Start the server as ``persona``, make every call; what was recorded (raw), the calls, the server's origin."""
    from imagewire_client import Client

    todo = calls(persona)
    recorder = Recorder(f"reference/{persona}.yaml", secrets=[KEY])
    server = start(persona, api_key=KEY, latency_ms=LATENCY_MS)
    try:
        http = httpx.Client(transport=RecordingTransport(recorder=recorder), timeout=httpx.Timeout(60.0, connect=10.0))
        clients: dict[str | None, Any] = {}
        with http:
            for number, call in enumerate(todo):
                deployment = call.probe.deployment
                if deployment not in clients:
                    clients[deployment] = Client(
                        provider=persona,
                        base_url=server.base_url,
                        api_key=KEY,
                        http_client=http,
                        max_retries=0,
                        **_settings(persona, deployment),
                    )
                got = _send(clients[deployment], call)
                wanted = call.expected.live_error or call.expected.error or "result"
                if got != wanted:
                    raise SystemExit(f"{persona} #{number} ({call.note}): the client got {got}, declared {wanted}")
                if len(recorder) != number + 1 or recorder.failures:
                    raise SystemExit(f"{persona} #{number} ({call.note}): not one answered request per call")
    finally:
        server.stop()  # by PID
    return recorder.interactions(), todo, server.origin


# ---------------------------------------------------------------- normalising and writing


def _request_ids(item: Interaction) -> dict[str, str]:
    """The ids the server made up for this answer -> fixed ones derived from the interaction's index."""
    fixed = uuid.UUID(bytes=hashlib.sha256(f"imagewire reference {item.index}".encode()).digest()[:16])
    ids: dict[str, str] = {}
    request_id = item.response_header("x-request-id")
    if request_id:
        ids[request_id] = f"req_{fixed.hex}"
    apim = item.response_header("apim-request-id")
    if apim:
        ids[apim] = str(fixed)
    return ids


def normalise(item: Interaction, origin: str) -> Interaction:
    """``item`` with the values that change from run to run fixed (see the module doc)."""
    netloc = origin.split("//", 1)[1]
    swaps = {origin: ORIGIN, netloc: ORIGIN.split("//", 1)[1], **_request_ids(item)}
    found = _BOUNDARY.search(item.request_header("content-type") or "")
    if found:
        swaps[found.group(1)] = BOUNDARY

    def text(value: str) -> str:
        for old, new in swaps.items():
            value = value.replace(old, new)
        return value

    def data(value: bytes) -> bytes:
        for old, new in swaps.items():
            value = value.replace(old.encode(), new.encode())
        return _CREATED.sub(rb"\g<1>" + str(CREATED).encode(), value)

    def headers(pairs: Headers, old_body: bytes, new_body: bytes) -> Headers:
        out = []
        for name, value in pairs:
            lowered = name.lower()
            if lowered == "date":
                value = DATE
            elif lowered == "openai-processing-ms":
                value = PROCESSING_MS
            elif lowered == "user-agent":
                value = _AGENT_VERSION.sub(AGENT_VERSION, value)
            elif lowered == "content-length" and value.isdigit():  # a cut-off answer keeps its announced length
                value = str(int(value) + len(new_body) - len(old_body))
            else:
                value = text(value)
            out.append((name, value))
        return tuple(out)

    request_body, response_body = data(item.request_body), data(item.response_body)
    return replace(
        item,
        url=text(item.url),
        request_headers=headers(item.request_headers, item.request_body, request_body),
        request_body=request_body,
        response_headers=headers(item.response_headers, item.response_body, response_body),
        response_body=response_body,
    )


def _expectation(index: int, call: Call) -> dict[str, Any]:
    expected = call.expected
    entry: dict[str, Any] = {"interaction": index + 1, "note": call.note, "verdict": expected.verdict}
    if expected.error is not None:
        entry["error"] = expected.error
    else:
        result = {"images": expected.images or 0}
        if expected.events is not None:
            result["events"] = expected.events
        entry["result"] = result
    entry["findings"] = sorted(set(expected.findings))
    return entry


def write(persona: str, out: Path, log: Callable[[str], None] = print) -> list[Path]:
    raw, todo, origin = record(persona)
    recorder = Recorder(f"reference/{persona}.yaml", secrets=[KEY])
    interactions = [
        replace(item, source=f"{persona}.yaml", index=index)
        for index, item in enumerate(recorder.scrubbed(normalise(item, origin) for item in raw))
    ]
    title = f"the reference provider (imagewire.server) as the {persona} persona: calls, every fault"
    path = write_cassette(
        out / f"{persona}.yaml",
        interactions,
        header=f"{title.capitalize()}.\nWritten by tests/recordings/build_reference.py "
        f"(normalised, scrubbed); see {persona}.expect.yaml.",
    )
    expect: dict[str, Any] = {
        "provider": persona,
        "interactions": [_expectation(index, call) for index, call in enumerate(todo)],
    }
    expect_path = out / f"{persona}.expect.yaml"
    text = f"# Expected verdicts of replaying {path.name} (imagewire check --replay): {title}.\n"
    text += yaml.safe_dump(expect, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)
    expect_path.write_text(text, encoding="utf-8")
    log(f"{path} ({len(interactions)} interactions)")
    return [path, expect_path]


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_reference.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"the folder to write (default {OUT})")
    parser.add_argument("--persona", action="append", choices=list(PROVIDERS), help="only these (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    args.out.mkdir(parents=True, exist_ok=True)
    for persona in args.persona or list(PROVIDERS):
        write(persona, args.out, log=(lambda _: None) if args.quiet else print)
    return 0


if __name__ == "__main__":
    sys.exit(main())
