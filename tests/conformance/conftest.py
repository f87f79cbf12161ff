"""Shared fixtures of the conformance-kit tests: the spec compiled once, one judge for the session."""

from __future__ import annotations

import pytest

from imagewire.check.validate import SpecValidator, validator
from imagewire.check.verdict import Judge


@pytest.fixture(scope="session")
def spec() -> SpecValidator:
    return validator()


@pytest.fixture(scope="session")
def judge(spec: SpecValidator) -> Judge:
    return Judge(spec)
