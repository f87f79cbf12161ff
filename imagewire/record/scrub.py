"""Scrub recorded traffic before it is written: credentials, signed URLs, ids and image bytes.

What :func:`scrub` replaces, in requests and responses alike:

* **header values** of ``Authorization`` / ``Proxy-Authorization`` (the scheme is kept: ``Bearer REDACTED``),
  ``api-key``, ``x-api-key``, ``Cookie``, ``Set-Cookie``, ``OpenAI-Organization``, ``OpenAI-Project`` and
  any header named like ``*-api-key``, ``*-token``, ``*-secret``; every other header value is scrubbed as text
  (below), so a signed ``Location`` URL or a key echoed in a custom header goes too;
* **signed-URL query values** (:data:`SIGNED_QUERY_KEYS`, any ``X-Amz-*`` / ``X-Goog-*``) in the request URL
  and in every URL inside a body or header: the value becomes ``REDACTED``, the key and the URL's shape stay;
* **organisation, user and project ids** in URL paths and text (``org-…``, ``user-…``, as in OpenAI's blob
  URLs; ``proj-…`` and ``proj_…``): ``org-REDACTED``, ``proj_REDACTED``;
* **JWTs** (``eyJ….eyJ….…``) and **API keys** (``sk-…``, ``sk-proj-…``, ``sess-…``) anywhere in bodies:
  ``REDACTED``; JSON values under keys such as ``api_key`` / ``token`` / ``password`` / ``client_secret`` /
  ``project_id`` (a whole object under such a key too), and form fields and query values of those names:
  ``REDACTED``;
* **images**: every ``b64_json`` (and any other long base64 string that is an image) in a JSON body or SSE
  event, every ``data:`` URL, and every file part of a multipart body is replaced by a 1x1 image of the
  *same format* (PNG, JPEG, WebP, GIF; sniffed from the bytes). What the original was is kept beside it:

  - JSON: sibling keys ``<key>_sha256`` (hex sha256 of the decoded original bytes; of the text itself when it
    was not valid base64) and ``<key>_bytes`` (their length), e.g. ``{"b64_json": "<tiny>", "b64_json_sha256": "…", "b64_json_bytes": 1532945}``.
    The validator and the verdict know these markers (:func:`is_marker`) and do not count them as extra keys.
  - ``data:`` URLs (anywhere, arrays included): URL parameters, ``data:image/png;sha256=…;bytes=…;base64,<tiny>``.
  - multipart file parts: part headers ``X-Imagewire-Original-Sha256`` and ``X-Imagewire-Original-Bytes``.

  Base64 that is not an image is replaced too (by ``REDACTED`` as base64 when it decoded, by ``!REDACTED!``,
  which is not base64, when it did not), so an answer that was unreadable stays unreadable. A tiny image
  is left as it is, so scrubbing twice changes nothing. In text no parser reads (an answer cut off in the
  middle of an image), a long base64 run that starts like an image is replaced by the tiny image alone
  (there is no place for the markers), and the text stays as unreadable as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from imagewire import multipart
from imagewire.images import decode_b64, sniff_b64, sniff_bytes, tiny, tiny_formats
from imagewire.record.recordings import Headers, Interaction
from imagewire_client.wire import SENSITIVE_HEADERS, SENSITIVE_QUERY_KEYS, is_sensitive_header, is_sensitive_query_key

__all__ = [
    "MARKER_SUFFIXES",
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SIGNED_QUERY_KEYS",
    "is_marker",
    "scrub",
    "scrub_body",
    "scrub_headers",
    "scrub_text",
    "scrub_url",
]

REDACTED = "REDACTED"
#: what replaces base64 that did not decode: not base64 either, so an unreadable image stays unreadable
_UNREADABLE = "!REDACTED!"

#: the client's lists of secrets (one list for the client, the command line and this scrubber)
SIGNED_QUERY_KEYS = SENSITIVE_QUERY_KEYS

#: JSON object keys whose values are credentials
_SECRET_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "token",
        "access_token",
        "refresh_token",
        "password",
        "secret",
        "client_secret",
        "authorization",
        "project_id",
    }
)
#: JSON keys that carry base64 images
_IMAGE_KEYS = frozenset({"b64_json", "b64", "base64", "image_base64", "b64_image", "partial_image_b64"})
#: suffixes of the sibling keys that record a replaced image
MARKER_SUFFIXES = ("_sha256", "_bytes")
_LONG_B64 = 256  # characters: shorter strings under other keys are not taken for images

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_API_KEY = re.compile(r"\b(?:sk|sess|rk|pk)-(?!REDACTED\b)[A-Za-z0-9_-]{6,}")
#: organisation, user and project ids: ``org-…``, ``user-…``, ``proj-…`` and OpenAI's ``proj_…``
_IDS = re.compile(r"\b(org-|user-|proj[-_])(?!REDACTED\b)(?=[A-Za-z0-9_]*[0-9A-Z])[A-Za-z0-9_]{4,}")
_BEARER = re.compile(r"(?i)\b(Bearer|Basic|Token)\s+(?!REDACTED\b)[A-Za-z0-9._~+/=-]{6,}")
_URL = re.compile(r"(?i)\b(?:https?|wss?)://[^\s\"'<>\\`]+")
_DATA_URL = re.compile(
    r"data:([A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+)?((?:;[A-Za-z0-9_.+-]+=[^;,\s\"']*)*);base64,([A-Za-z0-9+/=_-]*)"
)
_B64_CHARS = re.compile(r"^[A-Za-z0-9+/=_\-\s]+$")
#: a run of base64 long enough to be an image, in text no parser could read (an answer cut off mid-image)
_B64_RUN = re.compile(rf"[A-Za-z0-9+/]{{{_LONG_B64},}}={{0,2}}")
_KV = re.compile(
    r"(?i)([?&;]|\b)("
    + "|".join(re.escape(k) for k in ("sig", "api-key", "api_key", "access_token"))
    + r")=([^&\s\"'<>]+)"
)


def is_marker(key: str, obj: dict[str, Any]) -> bool:
    """Whether ``key`` of ``obj`` is a marker the scrubber left beside a replaced image."""
    return any(key.endswith(suffix) and key[: -len(suffix)] in obj for suffix in MARKER_SUFFIXES)


# ---------------------------------------------------------------- text and URLs


def _sensitive_query_key(key: str) -> bool:
    lowered = unquote(key).strip().lower()
    return is_sensitive_query_key(lowered) or lowered in _SECRET_KEYS


def scrub_url(url: str) -> str:
    """``url`` with signed-URL query values, org/user/project ids in its path and credentials in it replaced."""
    if url.startswith("data:"):
        return url
    base, hash_, fragment = url.partition("#")
    path, question, query = base.partition("?")
    path = _IDS.sub(lambda m: f"{m.group(1)}{REDACTED}", path)
    path = _API_KEY.sub(REDACTED, _JWT.sub(REDACTED, path))
    if "@" in path.split("//", 1)[-1].split("/", 1)[0]:  # user:password@host
        scheme, _, rest = path.partition("//")
        userinfo, _, hostpart = rest.partition("@")
        path = f"{scheme}//{REDACTED}@{hostpart}" if userinfo else path
    if question:
        pieces = []
        for piece in query.split("&"):
            key, eq, value = piece.partition("=")
            if eq and value and _sensitive_query_key(key):
                piece = f"{key}={REDACTED}"
            elif eq:
                piece = f"{key}={_scrub_plain(value)}"
            pieces.append(piece)
        query = "&".join(pieces)
    return path + question + query + hash_ + (_scrub_plain(fragment) if fragment else "")


def _scrub_plain(text: str) -> str:
    text = _JWT.sub(REDACTED, text)
    text = _API_KEY.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _IDS.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _KV.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", text)


def _scrub_loose_image(match: re.Match[str]) -> str:
    run = match.group(0)
    fmt = sniff_b64(run)
    return base64.b64encode(tiny(fmt)).decode() if fmt is not None else run


def scrub_text(text: str) -> str:
    """Free text with URLs, data: URLs, JWTs, API keys, bearer tokens and org/user/project ids scrubbed, and
    long base64 runs that start like an image (a JSON answer cut off mid-image) replaced by a tiny image."""
    if "data:" in text:
        text = _DATA_URL.sub(lambda m: _scrub_data_url(m.group(0)), text)
    if len(text) >= _LONG_B64:
        text = _B64_RUN.sub(_scrub_loose_image, text)
    if "://" in text:
        text = _URL.sub(lambda m: scrub_url(m.group(0)), text)
    return _scrub_plain(text)


# ---------------------------------------------------------------- images


def _digest(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)


def _replace_b64(value: str) -> tuple[str, bytes | None]:
    """(replacement base64, original bytes or None when ``value`` is already a tiny image)."""
    if value == _UNREADABLE:
        return value, None
    decoded = decode_b64(value)
    if decoded is not None and (decoded in tiny_formats() or decoded == REDACTED.encode()):
        return value, None
    fmt = sniff_bytes(decoded) if decoded is not None else sniff_b64(value)
    if fmt is not None:
        replacement = base64.b64encode(tiny(fmt)).decode()
    elif decoded is not None:
        replacement = base64.b64encode(REDACTED.encode()).decode()
    else:
        replacement = _UNREADABLE
    original = decoded if decoded is not None else value.encode("utf-8", errors="surrogateescape")
    return replacement, original


def _scrub_data_url(url: str) -> str:
    match = _DATA_URL.fullmatch(url)
    if match is None:
        return url
    mime, params, payload = match.group(1) or "", match.group(2) or "", match.group(3) or ""
    replacement, original = _replace_b64(payload)
    if original is None:
        return url
    kept = [p for p in params.split(";") if p and not p.lower().startswith(("sha256=", "bytes="))]
    digest, size = _digest(original)
    extra = "".join(f";{p}" for p in kept)
    return f"data:{mime}{extra};sha256={digest};bytes={size};base64,{replacement}"


def _looks_like_image_b64(value: str) -> bool:
    return len(value) >= _LONG_B64 and bool(_B64_CHARS.match(value[:512])) and sniff_b64(value) is not None


# ---------------------------------------------------------------- JSON


def _scrub_json(node: Any) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        markers: dict[str, Any] = {}
        for key, value in node.items():
            lowered = str(key).lower()
            if lowered in _SECRET_KEYS and isinstance(value, (str, dict, list)) and value:
                out[key] = _redact_all(value)  # ``client_secret: {"value": ..., "expires_at": ...}`` too
            elif (
                isinstance(value, str)
                and not value.startswith("data:")
                and (lowered in _IMAGE_KEYS or _looks_like_image_b64(value))
            ):
                replacement, original = _replace_b64(value)
                out[key] = replacement
                if original is not None:
                    digest, size = _digest(original)
                    markers[f"{key}_sha256"] = digest
                    markers[f"{key}_bytes"] = size
            else:
                out[key] = _scrub_json(value)
        for key, value in markers.items():
            out[key] = value
        return out
    if isinstance(node, list):
        return [_scrub_json(item) for item in node]
    if isinstance(node, str):
        return scrub_text(node)
    return node


def _redact_all(node: Any) -> Any:
    """Every non-empty string in ``node`` (a secret, or a structure holding one) replaced by ``REDACTED``."""
    if isinstance(node, dict):
        return {key: _redact_all(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_redact_all(item) for item in node]
    return REDACTED if isinstance(node, str) and node else node


def _json_dumps(data: Any, original: str) -> str:
    if "\n" in original.strip():
        return json.dumps(data, ensure_ascii=False, indent=2)
    compact = ": " not in original and ", " not in original
    return json.dumps(data, ensure_ascii=False, separators=(",", ":") if compact else None)


def _scrub_json_text(text: str) -> str | None:
    """The scrubbed JSON text, or ``None`` when ``text`` is not JSON."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    scrubbed = _scrub_json(data)
    if scrubbed == data:
        return text
    return _json_dumps(scrubbed, text)


def _scrub_sse(text: str) -> str:
    out = []
    for line in re.split(r"(\r\n|\r|\n)", text):
        if line.startswith("data:"):
            value = line[5:]
            lead = " " if value.startswith(" ") else ""
            payload = value[len(lead) :]
            scrubbed = _scrub_json_text(payload) if payload.strip() not in ("", "[DONE]") else payload
            line = f"data:{lead}{scrubbed if scrubbed is not None else scrub_text(payload)}"
        elif line not in ("\r\n", "\r", "\n"):
            line = scrub_text(line)
        out.append(line)
    return "".join(out)


# ---------------------------------------------------------------- multipart


def _scrub_section(section: multipart.Section) -> multipart.Section:
    if not section.sep:
        return section
    newline = section.newline
    header_lines = [line for line in section.header_lines if not line.lower().startswith(b"x-imagewire-original-")]
    headers_text = newline.join(header_lines).decode("utf-8", errors="surrogateescape")
    is_file = "filename=" in headers_text.lower() or re.search(
        r"(?im)^content-type:\s*(image/|application/octet-stream)", headers_text
    )
    content = section.data
    if is_file:
        if content in tiny_formats() or content == REDACTED.encode():
            return section
        fmt = sniff_bytes(content)
        replacement = tiny(fmt) if fmt is not None else REDACTED.encode()
        digest, size = _digest(content)
        header_lines.append(f"X-Imagewire-Original-Sha256: {digest}".encode())
        header_lines.append(f"X-Imagewire-Original-Bytes: {size}".encode())
        scrubbed_head = scrub_text(newline.join(header_lines).decode("utf-8", errors="surrogateescape"))
        return replace(section, head=scrubbed_head.encode("utf-8", errors="surrogateescape"), data=replacement)
    text = content.decode("utf-8", errors="surrogateescape")
    field_name = re.search(r'(?i)\bname="([^"]*)"', headers_text)
    if field_name is not None and field_name.group(1).lower() in _SECRET_KEYS and text:
        new_text = REDACTED  # a form field named like a credential (api_key, project_id, client_secret, ...)
    else:
        scrubbed = _scrub_json_text(text) if text.lstrip().startswith(("{", "[")) else None
        new_text = scrubbed if scrubbed is not None else scrub_text(text)
    return replace(
        section,
        head=scrub_text(headers_text).encode("utf-8", errors="surrogateescape"),
        data=new_text.encode("utf-8", errors="surrogateescape"),
    )


def _scrub_multipart(form: multipart.Body) -> bytes:
    """Each part scrubbed; what follows the closing delimiter (an epilogue) scrubbed as text."""
    closing = [*form.closing[:1], *(_scrub_bytes_as_text(piece) for piece in form.closing[1:])]
    return bytes(replace(form, sections=tuple(map(_scrub_section, form.sections)), closing=tuple(closing)))


# ---------------------------------------------------------------- bodies and headers


def _scrub_bytes_as_text(body: bytes) -> bytes:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        fmt = sniff_bytes(body)
        if fmt is not None and body not in tiny_formats():
            return tiny(fmt)
        text = body.decode("utf-8", errors="surrogateescape")
        return scrub_text(text).encode("utf-8", errors="surrogateescape")
    return scrub_text(text).encode("utf-8")


def scrub_body(body: bytes, content_type: str | None) -> bytes:
    """A request or response body scrubbed according to its content type (JSON, SSE, multipart, text, image)."""
    if not body:
        return body
    ctype = (content_type or "").lower()
    if ctype.startswith("multipart/"):
        form = multipart.split(body, content_type or "")
        if form is not None:
            return _scrub_multipart(form)
    if ctype.startswith("image/") or (sniff_bytes(body) is not None and body not in tiny_formats()):
        fmt = sniff_bytes(body)
        if fmt is not None:
            return body if body in tiny_formats() else tiny(fmt)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _scrub_bytes_as_text(body)
    stripped = text.lstrip("\ufeff \t\r\n")
    if "event-stream" in ctype or stripped.startswith(("data:", "event:", ":")):
        return _scrub_sse(text).encode("utf-8")
    if "json" in ctype or stripped.startswith(("{", "[")):
        scrubbed = _scrub_json_text(text)
        if scrubbed is not None:
            return scrubbed.encode("utf-8")
    if "x-www-form-urlencoded" in ctype:
        return scrub_url("?" + text)[1:].encode("utf-8")
    return scrub_text(text).encode("utf-8")


def _scrub_header_value(name: str, value: str) -> str:
    lowered = name.strip().lower()
    if lowered in ("authorization", "proxy-authorization"):
        scheme, space, _ = value.strip().partition(" ")
        return f"{scheme} {REDACTED}" if space and scheme.isalpha() else REDACTED
    if is_sensitive_header(lowered):
        return REDACTED if value else value
    if lowered in ("location", "content-location", "link", "referer", "origin"):
        return scrub_text(value)
    return scrub_text(value)


def scrub_headers(headers: Headers) -> Headers:
    return tuple((name, _scrub_header_value(name, value)) for name, value in headers)


def _fix_length(headers: Headers, body: bytes, original: bytes) -> Headers:
    if body == original:
        return headers
    return tuple((name, str(len(body)) if name.lower() == "content-length" else value) for name, value in headers)


def scrub(interaction: Interaction, *, extra: Callable[[Interaction], Interaction] | None = None) -> Interaction:
    """The interaction with every secret and image replaced (see the module doc); ``extra`` runs last."""
    request_type = interaction.request_header("content-type")
    response_type = interaction.response_header("content-type")
    request_raw = interaction.request_content()
    response_raw = interaction.response_content()
    request_body = scrub_body(request_raw, request_type)
    response_body = scrub_body(response_raw, response_type)
    request_headers = scrub_headers(interaction.request_headers)
    response_headers = scrub_headers(interaction.response_headers)
    if response_raw != interaction.response_body:  # a compressed body was decoded: it is written decoded
        response_headers = tuple((n, v) for n, v in response_headers if n.lower() != "content-encoding")
    if request_raw != interaction.request_body:
        request_headers = tuple((n, v) for n, v in request_headers if n.lower() != "content-encoding")
    result = replace(
        interaction,
        url=scrub_url(interaction.url),
        request_headers=_fix_length(request_headers, request_body, interaction.request_body),
        request_body=request_body,
        response_headers=_fix_length(response_headers, response_body, interaction.response_body),
        response_body=response_body,
    )
    return extra(result) if extra is not None else result
