"""imagewire: a spec-driven generator for OpenAI-style Images APIs, and the kit around its client.

Jobs, one package each: ``generator`` (spec in, client out), ``cli`` (the ``imagewire`` command),
``server`` (the reference provider), ``record`` (recording and scrubbing traffic), ``check`` (judging
traffic against the contract), ``demo`` (the offline gallery). The curated spec ships as package data
(``imagewire/spec``); :func:`imagewire.spec_document` finds the one a command should read.
"""

from __future__ import annotations

from .generator.locate import SpecNotFound, packaged_spec_dir, spec_document

__all__ = ["SpecNotFound", "packaged_spec_dir", "spec_document"]
