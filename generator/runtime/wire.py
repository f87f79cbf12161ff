"""Traffic as the client reads and shows it: redaction of secrets in headers, URLs and text, server-sent
event decoding, and the request id of an answer.

    from imagewire_client import wire

    wire.redact_headers({"Authorization": "Bearer sk-..."})  # {'Authorization': '<redacted>'}
"""

from __future__ import annotations

from ._error_parsing import request_id_from_headers
from ._logs import (
    REDACTED,
    SENSITIVE_HEADERS,
    SENSITIVE_QUERY_KEYS,
    SENSITIVE_QUERY_PREFIXES,
    is_sensitive_header,
    is_sensitive_query_key,
    mask_secrets,
    redact_headers,
    redact_url,
)
from ._sse import ServerSentEvent, aiter_events, decode_stream_event, is_done, is_error_event, iter_events

__all__ = [
    "REDACTED",
    "SENSITIVE_HEADERS",
    "SENSITIVE_QUERY_KEYS",
    "SENSITIVE_QUERY_PREFIXES",
    "ServerSentEvent",
    "aiter_events",
    "decode_stream_event",
    "is_done",
    "is_error_event",
    "is_sensitive_header",
    "is_sensitive_query_key",
    "iter_events",
    "mask_secrets",
    "redact_headers",
    "redact_url",
    "request_id_from_headers",
]
