"""Project-wide test configuration: the spec compiled once for the session (``spec``, ``judge``), and
pytest-recording (vcrpy) writing cassettes scrubbed by the kit's scrubber.

A test marked ``@pytest.mark.vcr`` records with these settings: credential headers are filtered by vcrpy
itself, and every request and response then goes through :func:`imagewire.record.scrub.scrub` (signed-URL
values, JWTs, API keys, images replaced by tiny ones with their sha256 kept), the same scrubbing
``imagewire record`` and ``imagewire check --live`` apply.
"""

from __future__ import annotations

from typing import Any

import pytest

from imagewire.check.validate import SpecValidator, validator
from imagewire.check.verdict import Judge
from imagewire.record.vcr import vcr_before_record_request, vcr_before_record_response

#: credential headers vcrpy replaces before our hooks run (the hooks would catch them too)
FILTERED_HEADERS = (
    ("authorization", "REDACTED"),
    ("proxy-authorization", "REDACTED"),
    ("api-key", "REDACTED"),
    ("x-api-key", "REDACTED"),
    ("cookie", "REDACTED"),
    ("openai-organization", "REDACTED"),
    ("openai-project", "REDACTED"),
)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    """pytest-recording's configuration: filter credentials, scrub everything else before it is written."""
    return {
        "filter_headers": list(FILTERED_HEADERS),
        "before_record_request": vcr_before_record_request,
        "before_record_response": vcr_before_record_response,
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="session")
def spec() -> SpecValidator:
    """The repository's spec, compiled once."""
    return validator()


@pytest.fixture(scope="session")
def judge(spec: SpecValidator) -> Judge:
    """One judge for the session."""
    return Judge(spec)
