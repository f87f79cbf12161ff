"""The call's deadline at the socket (``_net``): which HTTP clients get their connections wrapped, what a
wrapped read does past the deadline, and when the deadline is set (only while the call reads or sends).
Real sockets that drip their headers: tests/hostile."""

from __future__ import annotations

import time

import httpcore
import httpx
import pytest

from imagewire_client import AsyncClient, Client
from imagewire_client import _net as net
from imagewire_client._guard import CALL_END, Deadline


def backends(http: httpx.Client | httpx.AsyncClient) -> list[object]:
    return [getattr(getattr(t, "_pool", None), "_network_backend", None) for t in net._transports(http)]


def test_the_clients_own_http_client_is_wrapped_once() -> None:
    c = Client(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
    http = c._http
    assert c._paced
    assert [type(b).__name__ for b in backends(http)] == ["_Backend"]
    assert net.install(http)  # again: nothing wrapped twice
    assert not isinstance(backends(http)[0].inner, net._Backend)  # type: ignore[union-attr]


def test_a_given_http_client_with_proxies_is_wrapped_on_every_transport() -> None:
    mounts = {"http://images.example": httpx.HTTPTransport(proxy="http://127.0.0.1:9")}
    http = httpx.Client(mounts=mounts)
    assert Client(api_key="sk-x", base_url="http://127.0.0.1:9/v1", http_client=http)._paced
    assert [type(b).__name__ for b in backends(http)] == ["_Backend", "_Backend"]
    assert net.proxied(http, "http://images.example/cat.png")
    assert not net.proxied(http, "http://elsewhere.example/cat.png")


def test_an_async_http_client_is_wrapped() -> None:
    c = AsyncClient(api_key="sk-x", base_url="http://127.0.0.1:9/v1")
    assert [type(b).__name__ for b in backends(c._http)] == ["_AsyncBackend"]


def test_a_transport_of_the_callers_own_is_left_alone() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    c = Client(api_key="sk-x", base_url="http://127.0.0.1:9/v1", http_client=http)
    assert not c._paced  # the watchdog and the per-phase timeouts bound its calls
    assert not net.proxied(http, "http://images.example/cat.png")


class Recorder(httpcore.NetworkStream):
    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.timeouts.append(timeout)
        return b"x"


def test_a_read_waits_only_until_the_deadline_and_fails_past_it() -> None:
    inner = Recorder()
    stream = net._Stream(inner)
    stream.read(1, 300.0)
    assert inner.timeouts == [300.0]  # no call running: the timeout as given
    token = CALL_END.set(time.monotonic() + 1.0)
    try:
        stream.read(1, 300.0)
        assert inner.timeouts[-1] is not None and 0 < inner.timeouts[-1] <= 1.0
        CALL_END.set(time.monotonic() - 0.01)
        with pytest.raises(httpcore.ReadTimeout):
            stream.read(1, 300.0)
        assert len(inner.timeouts) == 2  # nothing read past the deadline
    finally:
        CALL_END.reset(token)


def test_the_deadline_is_set_only_while_each_chunk_is_read() -> None:
    deadline = Deadline(10.0)
    seen: list[float | None] = []

    def chunks():  # type: ignore[no-untyped-def]
        for chunk in (b"a", b"b"):
            seen.append(CALL_END.get())
            yield chunk

    for _ in deadline.paced(chunks()):
        assert CALL_END.get() is None  # the caller's code between chunks runs without it
    assert seen == [deadline.end, deadline.end]
    with deadline.active():
        assert CALL_END.get() == deadline.end
    assert CALL_END.get() is None
    assert Deadline(10.0, clock=lambda: 0.0).end is None  # a clock of a test's own never reaches sockets
