"""Behaviour of result classes: the bytes of an image, and saving every image of an answer.

URL images are downloaded through the client that made the request, without its credentials
(a signed URL needs none, and the key must not travel to a storage host).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from ._errors import ResponseContractError
from ._model import Model, ShapeError

__all__ = ["ImageMixin", "ImagesMixin", "write_new"]


def _decode_b64(text: str) -> bytes:
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ResponseContractError(f"the image is not valid base64: {err}", pointer="/b64_json") from None


class ImageMixin(Model):
    """An object carrying one image as ``b64_json`` or ``url``."""

    __slots__ = ()

    def _inline(self) -> bytes | None:
        b64 = getattr(self, "b64_json", None)
        if b64:
            return _decode_b64(b64)
        url = getattr(self, "url", None)
        if isinstance(url, str) and url.startswith("data:"):
            return _decode_b64(url)
        if not url:
            raise ResponseContractError("the image has neither b64_json nor url")
        return None

    def content(self) -> bytes:
        """The image bytes: decoded from ``b64_json``, or downloaded from ``url`` by a sync client."""
        inline = self._inline()
        if inline is not None:
            return inline
        client = self._client
        if client is None or not hasattr(client, "_download"):
            raise RuntimeError("this image is a URL; use `await image.acontent()` with an AsyncClient")
        data: bytes = client._download(getattr(self, "url", ""))
        return data

    async def acontent(self) -> bytes:
        """Like :meth:`content`, for results of an ``AsyncClient``."""
        inline = self._inline()
        if inline is not None:
            return inline
        client = self._client
        if client is None or not hasattr(client, "_adownload"):
            raise RuntimeError("this image is a URL; use `image.content()` with a sync Client")
        data: bytes = await client._adownload(getattr(self, "url", ""))
        return data

    @property
    def format(self) -> str | None:
        """``png``, ``jpeg``, ``webp`` or ``gif`` as sniffed from inline bytes (``None`` for URL images)."""
        from ._sniff import sniff

        try:
            inline = self._inline()
        except (ShapeError, ResponseContractError):
            return None
        info = sniff(inline) if inline is not None else None
        return info.format if info is not None else None


class ImagesMixin(Model):
    """An answer with a ``data`` list of images. ``cost``: what it cost in US dollars, from its ``usage`` where
    the provider's token prices are known, else from its per-image prices; None when unknown (neither shown
    nor compared)."""

    __slots__ = ("_cost",)

    @property
    def cost(self) -> float | None:
        try:
            return self._cost
        except AttributeError:  # never set: not known
            return None

    @cost.setter
    def cost(self, value: float | None) -> None:
        self._cost = value

    @property
    def deviations(self) -> list[str]:
        """The ``warnings`` about the answer (``"<JSON pointer>: <what>"``), without the client's notes about the
        call (a model sent unchecked, a model retired at its vendor, checks skipped)."""
        return [w for w in self.warnings if w.startswith("/") or w.startswith(": ")]

    def save(self, directory: str | os.PathLike[str], *, prefix: str = "image", overwrite: bool = False) -> list[Path]:
        """Write every image to ``directory``; return the paths, in answer order.

        Names are deterministic: ``<prefix>-<index>-<first 12 hex of sha256>.<ext>``, the extension
        recognised from the bytes (PNG, JPEG, WebP, GIF, SVG). A payload that is none of these raises
        :class:`ResponseContractError` naming what it looks like, and nothing is written. An existing file
        with other bytes is never overwritten unless ``overwrite``; all images are fetched before anything
        is written, and a failure removes what this call wrote.
        """
        images: list[Any] = list(getattr(self, "data", []))
        return _write_all(directory, prefix, [image.content() for image in images], overwrite)

    async def asave(
        self, directory: str | os.PathLike[str], *, prefix: str = "image", overwrite: bool = False
    ) -> list[Path]:
        """Like :meth:`save`, for results of an ``AsyncClient``."""
        images: list[Any] = list(getattr(self, "data", []))
        return _write_all(directory, prefix, [await image.acontent() for image in images], overwrite)


#: what a payload that is not an image looks like: (first bytes, name)
_NOT_IMAGES = (
    (b"#!", "a script"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"\x1f\x8b", "gzip data"),
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"{", "JSON"),
    (b"[", "JSON"),
)


def _what(blob: bytes) -> str:
    """What a payload that is not an image seems to be, for the error message."""
    head = bytes(blob[:64]).lstrip().lower()
    for magic, name in _NOT_IMAGES:
        if head.startswith(magic.lower()):
            return name
    if not blob:
        return "empty"
    try:
        bytes(blob[:4096]).decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    return "text"


def _write_all(directory: str | os.PathLike[str], prefix: str, blobs: list[bytes], overwrite: bool) -> list[Path]:
    from ._sniff import extension, sniff

    for index, blob in enumerate(blobs):  # every payload is an image before anything is written
        if sniff(blob) is None:
            raise ResponseContractError(
                f"image {index} is not an image (PNG, JPEG, WebP, GIF or SVG): it looks like {_what(blob)}; "
                "nothing was saved",
                pointer=f"/data/{index}",
            )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    paths: list[Path] = []
    try:
        for index, blob in enumerate(blobs):
            info = sniff(blob)
            suffix = extension(info.format) if info is not None else ".bin"  # (checked above: never .bin)
            path = folder / f"{prefix}-{index}-{hashlib.sha256(blob).hexdigest()[:12]}{suffix}"
            if write_new(path, blob, overwrite=overwrite):
                written.append(path)
            paths.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return paths


def write_new(path: Path, data: bytes, *, overwrite: bool = False) -> bool:
    """Write ``data`` to ``path`` atomically; False when the same bytes are already there.

    Raises FileExistsError when ``path`` holds other bytes and ``overwrite`` is false.
    """
    if path.exists() and path.read_bytes() == data:
        return False
    # a new file with the usual permissions (umask applies), unlike mkstemp's owner-only mode
    tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise FileExistsError(f"{path} exists with other content; pass overwrite=True to replace it") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return True
