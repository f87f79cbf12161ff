"""A lean HTTP/1.1 transport for many concurrent requests (the client's batch paces them above it).

httpx's default pool scans every waiting request against every connection each time one frees up, so at a
concurrency of 64 its bookkeeping costs more than the requests. This transport keeps idle keep-alive
connections in a stack per origin (O(1) to take or return one), speaks HTTP/1.1 itself over asyncio
streams (``content-length``, chunked, or read to close) and reads each answer whole (a batch never streams).
It sits under the client (``AsyncClient(http_client=httpx.AsyncClient(transport=...))``), so the client's
checks, retries and error mapping are unchanged: failures are raised as the httpx exceptions the client
classifies (``ConnectError`` never reached the server; ``ReadError``/``RemoteProtocolError`` may have).

:class:`HTTP` is the ``httpx.AsyncClient`` over it: each URL is parsed once, and a plain send (no httpx
auth, no redirects to follow, no event hooks) goes straight to the transport instead of through httpx's
auth, redirect and cookie layers (cookies an answer sets are still kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Any

import httpx
from httpx._client import UseClientDefault
from httpx._exceptions import request_context
from httpx._types import AuthTypes

__all__ = ["HTTP", "Transport"]

_MAX_HEAD = 64 * 1024


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof() and not self.reader._buffer  # type: ignore[attr-defined]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


def _timeouts(request: httpx.Request) -> tuple[float | None, float | None, float | None]:
    timeout: dict[str, float | None] = request.extensions.get("timeout") or {}
    return timeout.get("connect"), timeout.get("write"), timeout.get("read")


class Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive; ``on_answer(status, headers)`` sees every answer."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        on_answer: Callable[[int, httpx.Headers], None] | None = None,
    ) -> None:
        self.on_answer = on_answer
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self.opened = 0

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def _connect(self, key: tuple[str, str, int], timeout: float | None) -> _Conn:
        scheme, host, port = key
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host, port, ssl=self._context() if scheme == "https" else None, limit=_MAX_HEAD * 4
                ),
                timeout,
            )
        except TimeoutError as err:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from err
        except (OSError, ssl.SSLError) as err:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {err}") from err
        self.opened += 1
        return _Conn(reader, writer)

    def _take(self, key: tuple[str, str, int]) -> _Conn | None:
        stack = self._idle.get(key)
        while stack:
            conn = stack.pop()
            if conn.usable():
                return conn
            conn.close()
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, url.host, port)
        connect_timeout, write_timeout, read_timeout = _timeouts(request)
        conn = self._take(key) or await self._connect(key, connect_timeout)
        try:
            response = await self._exchange(conn, request, write_timeout, read_timeout)
        except BaseException:
            conn.close()
            raise
        if self.on_answer is not None:
            self.on_answer(response.status_code, response.headers)
        return response

    async def _exchange(
        self, conn: _Conn, request: httpx.Request, write_timeout: float | None, read_timeout: float | None
    ) -> httpx.Response:
        body = await request.aread()
        target = request.url.raw_path.decode("ascii")
        head = [f"{request.method} {target} HTTP/1.1\r\n".encode("ascii")]
        has_length = False
        for name, value in request.headers.raw:
            lower = name.lower()
            if lower == b"content-length":
                has_length = True
            if lower == b"transfer-encoding":
                continue
            head.append(name + b": " + value + b"\r\n")
        if not has_length and (body or request.method in ("POST", "PUT", "PATCH")):
            head.append(b"Content-Length: " + str(len(body)).encode() + b"\r\n")
        head.append(b"\r\n")
        writer = conn.writer
        try:
            writer.write(b"".join(head) + body)
            if writer.transport.get_write_buffer_size():  # the kernel did not take it all at once
                async with asyncio.timeout(write_timeout):
                    await writer.drain()
        except TimeoutError as err:
            raise httpx.WriteTimeout("writing the request timed out", request=request) from err
        except OSError as err:
            raise httpx.WriteError(f"writing the request failed: {err}", request=request) from err
        try:
            async with asyncio.timeout(read_timeout):
                return await self._read(conn, request)
        except TimeoutError as err:
            raise httpx.ReadTimeout("reading the answer timed out", request=request) from err
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as err:
            if isinstance(err, asyncio.IncompleteReadError) and not err.partial:
                raise httpx.RemoteProtocolError(
                    "the server closed the connection without answering", request=request
                ) from err
            raise httpx.ReadError(f"reading the answer failed: {err!r}", request=request) from err

    async def _read(self, conn: _Conn, request: httpx.Request) -> httpx.Response:
        reader = conn.reader
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw[:-4].split(b"\r\n")
        status_line = lines[0].split(b" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/1.") or not status_line[1].isdigit():
            raise httpx.RemoteProtocolError(f"not an HTTP/1.1 answer: {lines[0][:80]!r}", request=request)
        version, status = status_line[0], int(status_line[1])
        headers: list[tuple[bytes, bytes]] = []
        length: int | None = None
        chunked = False
        encoded = False
        close = version == b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip(), value.strip()
            headers.append((name, value))
            lower = name.lower()
            if lower == b"content-length":
                length = int(value)
            elif lower == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif lower == b"connection":
                close = value.lower() == b"close"
            elif lower == b"content-encoding":
                encoded = value.lower() not in (b"", b"identity")
        if request.method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            content = b""
        elif chunked:
            parts = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    break
                parts.append(await reader.readexactly(size + 2))
            content = b"".join(p[:-2] for p in parts)
        elif length is not None:
            content = await reader.readexactly(length)
        else:
            content = await reader.read()
            close = True
        if encoded:  # gzip and the like: httpx decodes it as it reads
            response = httpx.Response(status, headers=headers, content=content, request=request)
        else:  # the body as it came is the content: handed over read, as one stream
            response = httpx.Response(status, headers=headers, stream=httpx.ByteStream(content), request=request)
            response._content = content
        if close:
            conn.close()
        else:
            scheme = request.url.scheme
            key = (scheme, request.url.host, request.url.port or (443 if scheme == "https" else 80))
            self._idle.setdefault(key, []).append(conn)
        return response

    async def aclose(self) -> None:
        for stack in self._idle.values():
            for conn in stack:
                conn.close()
        self._idle.clear()

    def stats(self) -> dict[str, Any]:
        return {"opened": self.opened, "idle": sum(len(s) for s in self._idle.values())}


class HTTP(httpx.AsyncClient):
    """``httpx.AsyncClient`` over a :class:`Transport`: URLs parsed once each, plain sends handed straight to it."""

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport=transport, timeout=None)  # the client sends its own timeouts
        self._direct = transport
        self._urls: dict[str, httpx.URL] = {}
        #: (method, URL, headers given) -> the headers httpx would send, but for the length
        self._heads: dict[tuple[str, str, tuple[tuple[str, str], ...]], httpx.Headers] = {}

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        headers: Any = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,
        **others: Any,
    ) -> httpx.Request:
        """A request of bytes with headers given as a dict: its headers made once per shape (httpx merges the
        client's and adds ``Host``), then only the length is set; anything else goes through httpx."""
        if (
            not isinstance(content, bytes)
            or not isinstance(url, (str, httpx.URL))
            or not isinstance(headers, dict)
            or any(value is not None for value in others.values())
            or self.cookies
        ):
            return super().build_request(method, url, content=content, headers=headers, timeout=timeout, **others)
        key = (method, str(url), tuple(headers.items()))
        head = self._heads.get(key)
        if head is None:
            if len(self._heads) >= 64:
                self._heads.clear()
            head = httpx.Headers(super().build_request(method, url, content=b"", headers=headers).headers)
            del head["Content-Length"]
            self._heads[key] = head
        sent = httpx.Headers(head)
        sent["Content-Length"] = str(len(content))
        chosen = self.timeout if isinstance(timeout, UseClientDefault) else httpx.Timeout(timeout)
        request = httpx.Request(
            method,
            self._merge_url(url),
            headers=sent,
            stream=httpx.ByteStream(content),
            extensions={"timeout": chosen.as_dict()},
        )
        request.read()
        return request

    def _merge_url(self, url: httpx.URL | str) -> httpx.URL:
        if not isinstance(url, str):
            return super()._merge_url(url)
        merged = self._urls.get(url)
        if merged is None:
            if len(self._urls) >= 256:
                self._urls.clear()
            merged = self._urls[url] = super()._merge_url(url)
        return merged

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: AuthTypes | UseClientDefault | None = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        plain = (
            isinstance(auth, UseClientDefault)
            and self.auth is None
            and (not self.follow_redirects if isinstance(follow_redirects, UseClientDefault) else not follow_redirects)
            and not any(self.event_hooks.values())
            and not self.is_closed
        )
        if not plain:
            return await super().send(request, stream=stream, auth=auth, follow_redirects=follow_redirects)
        with request_context(request=request):  # failures name their request, as httpx's own sends do
            response = await self._direct.handle_async_request(request)  # read whole: ``stream`` changes nothing
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        return response
