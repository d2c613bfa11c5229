"""The ``backend`` fixture: a test that takes it runs against both backends, the native extension
and the Python reference (parser, tool calls, loop guard: ``backend.StreamParser`` /
``backend.parse``; chat templates: ``backend.render``). Units with one backend are tested on it
alone."""

from __future__ import annotations

import os
import types

import pytest
from hypothesis import HealthCheck, settings

import hermes_stream as hs

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

BACKENDS = {
    "native": types.SimpleNamespace(
        name="native", StreamParser=hs.StreamParser, parse=hs.parse, render=hs.render
    ),
    "reference": types.SimpleNamespace(
        name="reference",
        StreamParser=hs.reference.StreamParser,
        parse=hs.reference.parse,
        render=hs.reference.render,
    ),
}


@pytest.fixture(params=sorted(BACKENDS), scope="session")
def backend(request: pytest.FixtureRequest) -> types.SimpleNamespace:
    return BACKENDS[request.param]
