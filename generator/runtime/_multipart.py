"""Files in, ``multipart/form-data`` out: reading the caller's image inputs and encoding a form body.

Content types are sniffed from the bytes, never taken from a file name: a file part without an image
content type is answered with 400 "unsupported mimetype" by OpenAI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import IO, NamedTuple, TypeAlias

from ._sniff import ImageInfo, extension, sniff

__all__ = ["FileInput", "InputFileError", "Upload", "encode", "read_file"]

#: A file as callers give it: a path, raw bytes, an open binary file, or ``(filename, bytes[, content_type])``.
FileInput: TypeAlias = str | os.PathLike[str] | bytes | IO[bytes] | tuple[str, bytes] | tuple[str, bytes, str]

#: Scalar form values; ``None`` values are skipped.
FieldValue: TypeAlias = "str | int | float | bool | Mapping[str, FieldValue] | None"

_EXPECTED = "PNG, JPEG, WebP or GIF expected"


class InputFileError(ValueError):
    """An input file cannot be used: missing, unreadable, or not an image. The message names the field."""

    def __init__(self, message: str, *, field: str, path: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.path = path


class Upload(NamedTuple):
    """One file ready to send: its part filename, bytes, content type, and what :func:`sniff` found."""

    filename: str
    data: bytes
    content_type: str
    info: ImageInfo | None


def _stem(field: str) -> str:
    stem = field.removesuffix("[]")
    return stem or "file"


def _from_bytes(data: bytes, *, field: str, filename: str | None, shown: str | None) -> Upload:
    info = sniff(data)
    if info is None:
        what = f"{shown!r} is" if shown is not None else "the bytes given are"
        raise InputFileError(f"{field}: {what} not an image ({_EXPECTED})", field=field, path=shown)
    name = filename or _stem(field) + extension(info.format)
    return Upload(name, data, info.mime, info)


def read_file(value: FileInput, *, field: str) -> Upload:
    """Read one input file; ``field`` (e.g. ``image``, ``mask``) names it in errors and default filenames.

    The filename is the path's or open file's base name, else ``<field>.<ext>`` from the sniffed format
    (``image.png``, ``mask.png``). The content type comes from the bytes. A ``(filename, bytes,
    content_type)`` tuple keeps its explicit content type and is not required to be a known format.
    Raises :class:`InputFileError` for a missing or unreadable path, a text-mode file, or bytes that are
    not an image.
    """
    if isinstance(value, tuple):
        if len(value) == 3:
            name, data, content_type = value
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise InputFileError(f"{field}: the file tuple must hold bytes", field=field)
            raw = bytes(data)
            if not content_type:
                return _from_bytes(raw, field=field, filename=name or None, shown=name or None)
            info = sniff(raw)
            name = name or _stem(field) + (extension(info.format) if info else "")
            return Upload(name, raw, content_type, info)
        if len(value) == 2:
            name, data = value
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise InputFileError(f"{field}: the file tuple must hold bytes", field=field)
            return _from_bytes(bytes(data), field=field, filename=name or None, shown=name or None)
        raise InputFileError(f"{field}: expected (filename, bytes) or (filename, bytes, content_type)", field=field)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(value), field=field, filename=None, shown=None)
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not isinstance(path, str):  # os.PathLike[bytes] at run time
            path = os.fsdecode(path)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise InputFileError(f"{field}: no such file {path!r}", field=field, path=path) from None
        except IsADirectoryError:
            raise InputFileError(f"{field}: {path!r} is a directory, not a file", field=field, path=path) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise InputFileError(f"{field}: cannot read {path!r}: {reason}", field=field, path=path) from None
        return _from_bytes(data, field=field, filename=os.path.basename(path) or None, shown=path)
    read = getattr(value, "read", None)
    if callable(read):
        data = read()
        given_name = getattr(value, "name", None)
        shown = os.fsdecode(given_name) if isinstance(given_name, (str, bytes)) else None
        if isinstance(data, str):
            where = f" {shown!r}" if shown else ""
            raise InputFileError(f"{field}: open the file{where} in binary mode ('rb')", field=field, path=shown)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InputFileError(f"{field}: reading the file gave no bytes", field=field, path=shown)
        filename = os.path.basename(shown) if shown and not shown.startswith("<") else None
        return _from_bytes(bytes(data), field=field, filename=filename or None, shown=shown)
    raise InputFileError(
        f"{field}: expected a path, bytes, an open binary file or (filename, bytes), not {type(value).__name__}",
        field=field,
    )


def _quote(text: str) -> str:
    """A name or filename for a ``Content-Disposition`` quoted-string, escaped as RFC 7578 (HTML forms) do."""
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _flat(fields: Mapping[str, FieldValue], prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in fields.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, Mapping):
            out += _flat(value, name)
        else:
            out.append((name, value))
    return out


def _text(value: object) -> str | None:
    if isinstance(value, Enum):
        value = value.value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot send {value!r} as a form value")
        text = repr(value)
        if "e" in text or "E" in text:
            from decimal import Decimal

            text = format(Decimal(text), "f")
        return text
    return str(value)


#: characters allowed in a caller's boundary: RFC 2046 ``bchars`` that need no quoting in the header
_BCHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'+_-.")


def encode(
    fields: Mapping[str, FieldValue],
    files: Sequence[tuple[str, Upload]],
    *,
    boundary: str | None = None,
) -> tuple[bytes, str]:
    """Encode a ``multipart/form-data`` body; returns ``(body, content_type_header_value)``.

    Fields come first, in mapping order, then the files in order; part names may repeat (``image[]``).
    ``None`` values are skipped, booleans are sent as ``true``/``false``, numbers as decimal text, and a
    mapping as one part per leaf, named with brackets (``svg[reasoning][effort]``).
    Without ``boundary`` a random one is chosen (``secrets.token_hex``) that occurs in no part.
    """
    texts = [(name, text) for name, value in _flat(fields) if (text := _text(value)) is not None]
    if boundary is None:
        import secrets

        while True:
            boundary = "imagewire-" + secrets.token_hex(16)
            if not _occurs(boundary, texts, files):
                break
    else:
        if not 1 <= len(boundary) <= 70 or not set(boundary) <= _BCHARS:
            raise ValueError(f"invalid multipart boundary {boundary!r}")
        if _occurs(boundary, texts, files):
            raise ValueError(f"the multipart boundary {boundary!r} occurs in the content")
    dash = b"--" + boundary.encode("ascii")
    chunks: list[bytes] = []
    for name, text in texts:
        chunks += [
            dash,
            b"\r\n",
            f'Content-Disposition: form-data; name="{_quote(name)}"'.encode(),
            b"\r\n\r\n",
            text.encode(),
            b"\r\n",
        ]
    for name, upload in files:
        chunks += [
            dash,
            b"\r\n",
            f'Content-Disposition: form-data; name="{_quote(name)}"; filename="{_quote(upload.filename)}"'.encode(),
            b"\r\n",
            f"Content-Type: {_header_value(upload.content_type)}".encode(),
            b"\r\n\r\n",
            upload.data,
            b"\r\n",
        ]
    chunks += [dash, b"--\r\n"]
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _occurs(boundary: str, texts: Sequence[tuple[str, str]], files: Sequence[tuple[str, Upload]]) -> bool:
    """Whether a delimiter (``--boundary``) could be confused with content."""
    dashed = "--" + boundary
    marker = dashed.encode("ascii")
    return any(marker in upload.data for _, upload in files) or any(dashed in text for _, text in texts)


def _header_value(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ").strip() or "application/octet-stream"
