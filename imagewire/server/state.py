"""What one server instance holds: settings, the request log, fault counters, stored images."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from imagewire.server.contract import Contract
from imagewire.server.files import FileStore
from imagewire.server.personas import Persona

__all__ = ["DEFAULT_BODY_TIMEOUT", "DEFAULT_MAX_BODY", "DEFAULT_MAX_CONCURRENT", "LOG_LIMIT", "ServerState"]

DEFAULT_MAX_BODY = 100 * 1024 * 1024
#: requests handled at once; more are answered 429 (rate_limit_exceeded) the way OpenAI answers them
DEFAULT_MAX_CONCURRENT = 1000
#: seconds a client may take to send a whole request body (408 after that)
DEFAULT_BODY_TIMEOUT = 60.0
LOG_LIMIT = 10_000


@dataclass
class ServerState:
    """Everything one server instance holds: settings, the request log, fault counters, stored images."""

    persona: Persona
    contract: Contract
    api_key: str | None = None
    latency_ms: int = 0
    faults: tuple[str, ...] = ()
    url_ttl: int = 3600
    max_body: int = DEFAULT_MAX_BODY
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    active: int = 0  # requests being handled now
    files: FileStore = field(default_factory=FileStore)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))
    seq: int = 0
    counters: dict[tuple[str, str], int] = field(default_factory=dict)

    def reset(self) -> None:
        self.log.clear()
        self.counters.clear()
