"""Shared fixtures of the conformance-kit tests: the spec compiled once, one judge for the session."""

from __future__ import annotations

import pytest

from conformance.validate import SpecValidator, validator
from conformance.verdict import Judge


@pytest.fixture(scope="session")
def spec() -> SpecValidator:
    return validator()


@pytest.fixture(scope="session")
def judge(spec: SpecValidator) -> Judge:
    return Judge(spec)
