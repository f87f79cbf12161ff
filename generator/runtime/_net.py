"""The call's deadline on every socket operation of the client's connections, and where a request goes.

httpx's read timeout starts anew with every byte, so a server that sends its headers or its body a byte at
a time outlasts any timeout, on a new connection as on a reused keep-alive one. :func:`install` wraps the
network backend of an ``httpx.Client`` (or ``AsyncClient``) so that each connect, read and write of a
connection it opens waits at most until the deadline of the call running in that thread or task
(:data:`._guard.CALL_END`), and fails at once past it (``httpcore.ReadTimeout`` and its siblings, which
httpx raises as its own timeouts). Outside a call (the context variable unset) the wrapper only forwards.

The wrapper reaches into httpx's transports and httpcore's pools (``_transport``, ``_mounts``, ``_pool``,
``_network_backend``; httpx 0.27 and 0.28); a transport without them is left alone and :func:`install`
says so, so the client falls back on its watchdog. :func:`proxied` tells whether a URL goes through a proxy.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from ._guard import CALL_END

__all__ = ["install", "proxied"]

_Options = Iterable[Any] | None


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current call's deadline; ``error`` once it has passed."""
    end = CALL_END.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the call's deadline passed")
    return left if timeout is None or timeout > left else timeout


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self.inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _Options = None,
    ) -> httpcore.NetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self.inner.connect_tcp(host, port, wait, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _Options = None
    ) -> httpcore.NetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self.inner.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self.inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self.inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self.inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self.inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: _Options = None,
    ) -> httpcore.AsyncNetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self.inner.connect_tcp(host, port, wait, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: _Options = None
    ) -> httpcore.AsyncNetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self.inner.connect_unix_socket(path, wait, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _transports(http: httpx.Client | httpx.AsyncClient) -> list[object]:
    mounts: dict[object, object | None] = getattr(http, "_mounts", {})
    return [getattr(http, "_transport", None), *(t for t in mounts.values() if t is not None)]


def install(http: httpx.Client | httpx.AsyncClient) -> bool:
    """Wrap the network backend of every transport of ``http`` (once); whether every one could be wrapped."""
    wrapped = True
    for transport in _transports(http):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, (_Backend, _AsyncBackend)):
            continue
        if isinstance(backend, httpcore.NetworkBackend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
        elif isinstance(backend, httpcore.AsyncNetworkBackend):
            pool._network_backend = _AsyncBackend(backend)  # type: ignore[union-attr]
        else:  # a transport of the caller's own (or a mock): only the per-phase timeouts bound it
            wrapped = False
    return wrapped


def proxied(http: httpx.Client | httpx.AsyncClient, url: str) -> bool:
    """Whether ``http`` sends a request for ``url`` through a proxy (HTTP, HTTPS or SOCKS)."""
    try:
        transport = http._transport_for_url(httpx.URL(url))
    except (AttributeError, httpx.InvalidURL):
        return False
    return hasattr(getattr(transport, "_pool", None), "_proxy_url")
