"""Hostile inputs: crafted files and hostile loopback servers, each case run in a child process and measured
(typed error, peak RSS, elapsed time, nothing written). The before/after table is in README.md beside this
file; ``hostile_table.py`` prints it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from hostile.hostile_attacks import ATTACKS, CLIENT
from hostile.hostile_files import KIT
from hostile.hostile_harness import bound_mb, run_case, run_client_case

from imagewire_client import Client

#: the client cases need the client's limits and deadline (issue 12); until the client has them, their
#: "before" column in README.md is what they measure
CLIENT_READY = "deadline" in inspect.signature(Client).parameters


@pytest.mark.parametrize("name", sorted(KIT))
def test_crafted_file_is_refused_within_bounds(name: str, tmp_path: Path) -> None:
    spec = KIT[name]
    crafted = spec.write(tmp_path)
    outcome = run_case(name, env={"HOSTILE_INPUT": str(crafted), "HOSTILE_LIMIT": str(spec.limit)})
    assert not outcome.killed, outcome.summary()
    assert outcome.error == spec.error, outcome
    assert not outcome.facts.get("traceback"), outcome
    assert outcome.rss_mb <= (spec.rss_mb or bound_mb(spec.limit)), outcome.summary()
    assert outcome.seconds <= spec.seconds, outcome.summary()
    assert outcome.written == [], outcome.written


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_the_reference_provider_holds_under_attack(name: str) -> None:
    attack = ATTACKS[name]
    outcome = run_case("serve", env={"HOSTILE_SERVER": json.dumps(attack.options)}, during=attack.run)
    assert not outcome.killed, outcome.summary()
    assert outcome.error == attack.error, outcome
    assert not outcome.facts.get("traceback"), outcome
    assert outcome.rss_mb <= attack.rss_mb, outcome.summary()
    assert float(outcome.facts["attack_seconds"]) <= attack.seconds, outcome  # type: ignore[arg-type]
    assert outcome.written == [], outcome.written


def _no_brotli() -> bool:
    """no brotli >= 1.2 (or brotlicffi >= 1.2) installed, so httpx neither asks for br nor decodes it"""
    from imagewire_client import _guard

    return _guard._brotli() is None


def _no_zstandard() -> bool:
    """zstandard is not installed, so httpx neither asks for zstd nor decodes it"""
    from imagewire_client import _guard

    return _guard._module("zstandard") is None


#: cases that need an optional decoder in this environment
OPTIONAL_DECODERS = {"client-br-json": _no_brotli, "client-zstd-json": _no_zstandard}


#: client cases that hold already, before the client's limits and deadline exist
HOLDING = frozenset({"client-not-an-image"})


@pytest.mark.parametrize("name", sorted(CLIENT))
def test_the_client_holds_against_a_hostile_server(name: str) -> None:
    if not CLIENT_READY and name not in HOLDING:
        pytest.skip("the client has no limits or deadline yet (see tests/hostile/README.md)")
    missing = OPTIONAL_DECODERS.get(name)
    if missing is not None and missing():
        pytest.skip(f"{name}: {missing.__doc__}")
    hostile = CLIENT[name]
    outcome = run_client_case(name, hostile)
    assert not outcome.killed, outcome.summary()
    assert (outcome.error or "").rsplit(".", 1)[-1] == hostile.error, outcome
    assert outcome.rss_mb <= bound_mb(hostile.limit), outcome.summary()
    assert outcome.seconds <= hostile.deadline + 2 + 1.5, outcome.summary()  # the deadline + 2 s, + start-up
    assert outcome.written == [], outcome.written
    assert outcome.facts.get("leaked", []) == [], outcome.facts
    if hostile.requests is not None:
        assert outcome.facts["requests"] == hostile.requests, outcome.facts
    if hostile.connections is not None:
        assert outcome.facts["connections"] == hostile.connections, outcome.facts
