"""The exit statuses of every ``imagewire`` command, defined once.

====  ==========================================================================================
0     done: images saved, a check that found nothing wrong, a regeneration, a clean stop
1     the command ran and the answer is no: drift or a broken spec (``regen``), a violation or a
      mismatch with an expectation file (``check``), a port in use (``serve``); also a bug in this program
2     a problem on this side, nothing was sent: a usage error, a model rule the request breaks, a
      bad ``--descr``, an input file or output folder problem, no API key; a recording ``check`` cannot
      read or that is not a cassette or HAR
3     the provider: an error status, or no answer (``check --live``: a provider that cannot be reached)
4     the provider answered 2xx with something that breaks the contract
130   interrupted
====  ==========================================================================================

A leaf module (no imports): every command uses it.
"""

from __future__ import annotations

__all__ = ["CONTRACT", "FAILED", "INTERRUPTED", "OK", "PROVIDER", "SUMMARY", "USAGE"]

OK = 0
FAILED = 1
USAGE = 2
PROVIDER = 3
CONTRACT = 4
INTERRUPTED = 130

#: one line for the commands' help
SUMMARY = (
    "Exit codes: 0 ok; 1 the check or run found a problem; 2 usage, rule, input or output problem (nothing sent); "
    "3 provider error or no answer; 4 answer breaks the contract."
)
