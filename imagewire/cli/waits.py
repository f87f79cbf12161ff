"""The client's retries and waits, shown while a command runs: one line each on stderr.

The generated client logs every retry at INFO on the ``imagewire_client`` logger before it waits
(the client's retry log records: the retry's number, how many are allowed, the delay and why). For
as long as :func:`shown` is active those records become lines such as::

    retrying 1/2 after 2.0 s: status 500

on the standard error of the moment (so a progress display on a terminal keeps them above itself), the
answer itself staying on standard output. ``quiet`` (``--quiet``) shows nothing.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

__all__ = ["RetryLines", "retry_line", "shown"]

_LOGGER = "imagewire_client"


def retry_line(record: logging.LogRecord) -> str | None:
    """The line for a retry record of the client; ``None`` for any other record."""
    attempt = getattr(record, "imagewire_attempt", None)
    delay = getattr(record, "imagewire_delay", None)
    if not isinstance(attempt, int) or not isinstance(delay, (int, float)):
        return None
    allowed = getattr(record, "imagewire_max_retries", "?")
    why = getattr(record, "imagewire_reason", "")
    return f"retrying {attempt}/{allowed} after {delay:.1f} s" + (f": {why}" if why else "")


class RetryLines(logging.Handler):
    """Writes one line per retry record (other records are left to other handlers)."""

    def __init__(self, redact: Callable[[str], str] = lambda text: text) -> None:
        super().__init__(logging.INFO)
        self.redact = redact

    def emit(self, record: logging.LogRecord) -> None:
        line = retry_line(record)
        if line is not None:
            print(self.redact(line), file=sys.stderr, flush=True)


@contextlib.contextmanager
def shown(*, quiet: bool = False, redact: Callable[[str], str] = lambda text: text) -> Iterator[None]:
    """Show the client's retries on stderr while the block runs (nothing when ``quiet``)."""
    if quiet:
        yield
        return
    logger = logging.getLogger(_LOGGER)
    handler = RetryLines(redact)
    level = logger.level
    logger.addHandler(handler)
    if not logger.isEnabledFor(logging.INFO):
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
