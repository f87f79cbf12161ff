"""Image URLs like OpenAI's (Azure blob storage): ``/files/<id>.<ext>?se=<unix expiry>&sig=<hmac>``.

A URL is signed with a secret of this server process and expires ``url_ttl`` seconds after it was made.
A bad signature or an expired URL is answered 403 with the XML body a storage host sends; an unknown
image 404 ``BlobNotFound``. Images are kept in memory (the most recent ones, bounded by count and bytes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections import OrderedDict
from email.utils import formatdate
from typing import NamedTuple

__all__ = ["FileStore", "Stored", "storage_error"]

NAME = re.compile(r"img-[0-9a-f]{24}\.(png|jpg|webp|gif|svg)")


class Stored(NamedTuple):
    data: bytes
    mime: str


def _http_date(when: float) -> str:
    return formatdate(when, usegmt=True)


def storage_error(code: str, message: str, detail: str | None = None, *, now: float | None = None) -> bytes:
    """An Azure Storage error document."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime(now if now is not None else time.time()))
    text = f"{message}\nRequestId:{uuid.uuid4()}\nTime:{stamp}"
    extra = f"<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail>" if detail else ""
    return f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{text}</Message>{extra}</Error>'.encode()


class FileStore:
    """Generated images by name, and their signed, expiring URLs."""

    def __init__(
        self,
        ttl: int = 3600,
        *,
        secret: bytes | None = None,
        max_items: int = 256,
        max_bytes: int = 512 * 1024 * 1024,
    ) -> None:
        self.ttl = ttl
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._items: OrderedDict[str, Stored] = OrderedDict()
        self._bytes = 0
        self.max_items = max_items
        self.max_bytes = max_bytes

    def put(self, data: bytes, ext: str, mime: str) -> str:
        """Keep ``data``; its name (the same bytes give the same name)."""
        name = f"img-{hashlib.sha256(data).hexdigest()[:24]}.{ext}"
        old = self._items.pop(name, None)
        if old is not None:
            self._bytes -= len(old.data)
        self._items[name] = Stored(data, mime)
        self._bytes += len(data)
        while self._items and (len(self._items) > self.max_items or self._bytes > self.max_bytes):
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped.data)
        return name

    def _sign(self, name: str, expiry: int) -> str:
        digest = hmac.new(self._secret, f"{name}\n{expiry}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def url(self, origin: str, name: str, *, now: float | None = None) -> str:
        expiry = int(now if now is not None else time.time()) + self.ttl
        return f"{origin.rstrip('/')}/files/{name}?se={expiry}&sig={self._sign(name, expiry)}"

    def fetch(self, name: str, se: str | None, sig: str | None, *, now: float | None = None) -> tuple[int, bytes, str]:
        """``(status, body, content type)`` for a GET of a file URL."""
        now = now if now is not None else time.time()
        xml = "application/xml"
        expiry = int(se) if se is not None and re.fullmatch(r"\d{1,12}", se) else None
        if not NAME.fullmatch(name) or expiry is None or not sig:
            body = storage_error(
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of Authorization header is "
                "formed correctly including the signature.",
                "Signature fields not well formed.",
                now=now,
            )
            return 403, body, xml
        if not hmac.compare_digest(self._sign(name, expiry), sig):
            body = storage_error(
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of Authorization header is "
                "formed correctly including the signature.",
                "Signature did not match.",
                now=now,
            )
            return 403, body, xml
        if now > expiry:
            body = storage_error(
                "AuthenticationFailed",
                "Server failed to authenticate the request. Make sure the value of Authorization header is "
                "formed correctly including the signature.",
                f"Signed expiry time [{_http_date(expiry)}] must be after signed start time [{_http_date(now)}]",
                now=now,
            )
            return 403, body, xml
        stored = self._items.get(name)
        if stored is None:
            return 404, storage_error("BlobNotFound", "The specified blob does not exist.", now=now), xml
        return 200, stored.data, stored.mime
