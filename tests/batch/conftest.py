"""Fixtures: reference provider servers for the batch tests (started once per set of options, stopped at the end)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from support.batch import Serve

from imagewire.server import Running, start


@pytest.fixture(scope="session")
def serve() -> Iterator[Serve]:
    """``serve(persona, **start_options)``: a running server (one per set of options), its log reset."""
    with contextlib.ExitStack() as stack:
        servers: dict[str, Running] = {}

        def get(persona: str = "local", **options: Any) -> Running:
            key = repr((persona, sorted(options.items())))
            if key not in servers or not servers[key].running():
                servers[key] = stack.enter_context(start(persona, **options))
            servers[key].reset()
            return servers[key]

        yield get
