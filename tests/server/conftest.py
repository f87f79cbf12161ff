"""Fixtures: reference provider servers in subprocesses on 127.0.0.1 (stopped by PID at the end of the
session) and in-process applications behind Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from support.server import KEY, App, Serve

from imagewire.server import Running, make_app, start


@pytest.fixture(scope="session")
def serve() -> Iterator[Serve]:
    """``serve(persona, **start_options)``: a running server, started once per distinct set of options."""
    started: dict[tuple[Any, ...], Running] = {}

    def get(persona: str = "local", **options: Any) -> Running:
        key = (persona, *sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))
        running = started.get(key)
        if running is None or not running.running():
            running = started[key] = start(persona, **options)
        running.reset()
        return running

    yield get
    for running in started.values():
        running.stop()


@pytest.fixture
def local(serve: Serve) -> Running:
    """The local persona with a key, its log and fault counters reset."""
    return serve("local", api_key=KEY)


@pytest.fixture
def app() -> Iterator[App]:
    """``app(persona, **make_app_options)``: a TestClient on an in-process application."""
    clients: list[TestClient] = []

    def make(persona: str = "local", **options: Any) -> TestClient:
        client = TestClient(make_app(persona, **options), base_url="http://testserver")
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
