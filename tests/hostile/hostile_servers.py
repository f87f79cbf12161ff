"""Hostile HTTP servers for the client cases: ``python hostile_servers.py BEHAVIOR LIFETIME LOG OPTIONS_JSON``.

Binds 127.0.0.1 on a free port, prints the port, answers every request with BEHAVIOR, and exits by itself
after LIFETIME seconds (the harness also stops it by its PID). What a request carried (method, path,
headers, the client's port) is appended to LOG as one JSON line, so a case can tell whether a credential
arrived, how many requests were sent and on how many connections.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import socketserver
import sys
import threading
import time
import zlib
from typing import Any

MB = 1024 * 1024
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def gzip_of(prefix: bytes, filler: bytes, total: int) -> bytes:
    """gzip of ``prefix`` followed by ``filler`` up to ``total`` bytes (compresses about 1,000:1)."""
    engine = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [engine.compress(prefix)]
    chunk = filler * (MB // len(filler))
    parts += [engine.compress(chunk) for _ in range(total // MB)]
    return b"".join([*parts, engine.flush()])


def packed_of(coding: str, prefix: bytes, filler: bytes, total: int) -> bytes:
    """``prefix`` followed by ``filler`` up to ``total`` bytes, brotli- or zstd-compressed (the module installed)."""
    chunk = filler * (MB // len(filler))
    if coding == "br":
        import brotli  # type: ignore[import-not-found]

        engine = brotli.Compressor(quality=1)
        parts = [engine.process(prefix), *(engine.process(chunk) for _ in range(total // MB)), engine.finish()]
        return b"".join(parts)
    import zstandard  # type: ignore[import-not-found]

    writer = zstandard.ZstdCompressor(level=3).compressobj()
    parts = [writer.compress(prefix), *(writer.compress(chunk) for _ in range(total // MB)), writer.flush()]
    return b"".join(parts)


class Handler(socketserver.BaseRequestHandler):
    server: Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        try:
            path = self._next(sock)
        except (OSError, ValueError):
            return
        with contextlib.suppress(OSError, ValueError):
            getattr(self, "do_" + self.server.behavior.replace("-", "_"))(sock, path)

    def _next(self, sock: socket.socket) -> str:
        """Read the next request on the connection, log it, return its path."""
        head, body = self._read(sock)
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split(" ")[:2]
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        entry = {"method": method, "path": path, "headers": headers, "body": len(body), "port": sock.getpeername()[1]}
        with self.server.lock, open(self.server.log, "a") as log:
            log.write(json.dumps(entry) + "\n")
        return path

    def _read(self, sock: socket.socket) -> tuple[bytes, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ValueError("closed")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head, body

    @property
    def options(self) -> dict[str, Any]:
        return self.server.options

    def _send(self, sock: socket.socket, status: str, headers: dict[str, str], body: bytes) -> None:
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode() + body)

    def _json(self, sock: socket.socket, data: Any, status: str = "200 OK") -> None:
        self._send(sock, status, {"Content-Type": "application/json"}, json.dumps(data).encode())

    # ---------------------------------------------------------------- behaviours

    def do_gzip_json(self, sock: socket.socket, path: str) -> None:
        """A JSON answer that is a gzip bomb (a b64 image that never ends)."""
        self._send(sock, "200 OK", {"Content-Type": "application/json", "Content-Encoding": "gzip"}, self.server.bomb)

    def do_br_json(self, sock: socket.socket, path: str) -> None:
        """A JSON answer that is a brotli bomb (a b64 image that never ends)."""
        self._send(sock, "200 OK", {"Content-Type": "application/json", "Content-Encoding": "br"}, self.server.bomb)

    def do_zstd_json(self, sock: socket.socket, path: str) -> None:
        """A JSON answer that is a zstd bomb (a b64 image that never ends)."""
        self._send(sock, "200 OK", {"Content-Type": "application/json", "Content-Encoding": "zstd"}, self.server.bomb)

    def do_gzip_error(self, sock: socket.socket, path: str) -> None:
        """A 400 whose error body is a gzip bomb."""
        self._send(
            sock, "400 Bad Request", {"Content-Type": "application/json", "Content-Encoding": "gzip"}, self.server.bomb
        )

    def do_huge_body(self, sock: socket.socket, path: str) -> None:
        """A JSON answer announced as 5 GB, sent as fast as the client reads."""
        size = 5 * 1024 * MB
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        sock.sendall(head.encode() + b'{"created": 1, "data": [{"b64_json": "')
        chunk = b"A" * MB
        for _ in range(size // MB):
            sock.sendall(chunk)

    def do_slow_body(self, sock: socket.socket, path: str) -> None:
        """Headers at once, then the body one byte a second."""
        body = json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode()}]}).encode()
        sock.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        for byte in body:
            sock.sendall(bytes([byte]))
            time.sleep(1)

    def do_slow_headers(self, sock: socket.socket, path: str) -> None:
        """The status line and headers one byte a second."""
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: " + b"x" * 1000:
            sock.sendall(bytes([byte]))
            time.sleep(1)

    def do_keepalive_slow_headers(self, sock: socket.socket, path: str) -> None:
        """The first request answered at once, the connection kept alive; the next request on it gets its
        status line and headers one byte a second."""
        body = json.dumps({"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode()}]}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body)
        self.do_slow_headers(sock, self._next(sock))

    def do_retry_after(self, sock: socket.socket, path: str) -> None:
        """A rate limit whose Retry-After (``seconds``, 30 by default) is longer than the call's deadline."""
        error = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
        headers = {"Content-Type": "application/json", "Retry-After": str(self.options.get("seconds", 30))}
        self._send(sock, "429 Too Many Requests", headers, json.dumps(error).encode())

    def do_proxy(self, sock: socket.socket, path: str) -> None:
        """A forward HTTP proxy that answers in the origin's stead (``path`` is the absolute URL asked for):
        an API call gets one image whose URL is ``url``, anything else a PNG."""
        if path.endswith("/images/generations"):
            self._json(sock, {"created": 1, "data": [{"url": self.options["url"]}]})
        else:
            self._send(sock, "200 OK", {"Content-Type": "image/png"}, PNG)

    def do_sse_big_event(self, sock: socket.socket, path: str) -> None:
        """A stream whose one event is a line that never ends."""
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        sock.sendall(b'data: {"type": "image_generation.partial_image", "b64_json": "')
        chunk = b"A" * MB
        for _ in range(int(self.options.get("megabytes", 1024))):
            sock.sendall(chunk)

    def do_sse_keepalive(self, sock: socket.socket, path: str) -> None:
        """A stream of keep-alive comments only, forever."""
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        while True:
            sock.sendall(b": keep-alive\n\n")
            time.sleep(0.5)

    def do_redirect(self, sock: socket.socket, path: str) -> None:
        """307 to the same path on another origin (another port of this machine)."""
        location = f"http://127.0.0.1:{self.options['other']}{path}"
        self._send(sock, "307 Temporary Redirect", {"Location": location, "Set-Cookie": "session=planted"}, b"")

    def do_answer(self, sock: socket.socket, path: str) -> None:
        """A good answer with one tiny image (where a redirect leads)."""
        self._json(sock, {"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode()}]})

    def do_many_images(self, sock: socket.socket, path: str) -> None:
        """100,000 images in the answer to a request for one."""
        item = {"b64_json": base64.b64encode(PNG).decode()}
        self._json(sock, {"created": 1, "data": [item] * int(self.options.get("count", 100_000))})

    def do_not_an_image(self, sock: socket.socket, path: str) -> None:
        """A b64 "image" that is a shell script."""
        script = b"#!/bin/sh\necho owned > /tmp/owned\n"
        self._json(sock, {"created": 1, "data": [{"b64_json": base64.b64encode(script).decode()}]})

    def do_private_url(self, sock: socket.socket, path: str) -> None:
        """An image URL on a loopback address (SSRF when the provider is public)."""
        if path.startswith("/internal"):
            self._send(sock, "200 OK", {"Content-Type": "image/png"}, PNG)
            return
        port = sock.getsockname()[1]
        self._json(sock, {"created": 1, "data": [{"url": f"http://127.0.0.1:{port}/internal/metadata"}]})


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behavior: str, log: str, options: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behavior, self.log, self.options = behavior, log, options
        self.lock = threading.Lock()
        self.bomb = b""
        if behavior.startswith("gzip"):
            prefix = (
                b'{"created": 1, "data": [{"b64_json": "' if behavior == "gzip-json" else b'{"error": {"message": "'
            )
            self.bomb = gzip_of(prefix, b"A", int(options.get("megabytes", 1024)) * MB)
        elif behavior in ("br-json", "zstd-json"):
            prefix = b'{"created": 1, "data": [{"b64_json": "'
            self.bomb = packed_of(behavior.split("-")[0], prefix, b"A", int(options.get("megabytes", 1024)) * MB)


def main() -> None:
    behavior, lifetime, log, options = sys.argv[1], float(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    server = Server(behavior, log, options)
    threading.Timer(lifetime, lambda: os._exit(0)).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
