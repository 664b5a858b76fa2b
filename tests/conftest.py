"""The fuzzing budget: short in CI, long behind `--fuzz-long` (or SUPERBILL_FUZZ=long).

Property tests read `SUPERBILL_FUZZ` ("ci" or "long") to size their example counts; hypothesis runs
under the matching registered profile ("ci": no deadline, failures print a reproduction blob).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from superbill.inputs import readfile


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true", default=False,
                     help="run the property-based tests with the long example budget (minutes, not seconds)")


def pytest_configure(config):
    long = config.getoption("--fuzz-long") or os.environ.get("SUPERBILL_FUZZ") == "long"
    os.environ["SUPERBILL_FUZZ"] = "long" if long else "ci"
    if long:
        os.environ.setdefault("SUPERBILL_FUZZ_EXAMPLES", "1000")  # tests/test_claim_properties.py
    quiet = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile("ci", deadline=None, print_blob=True, suppress_health_check=quiet)
    settings.register_profile("long", deadline=None, print_blob=True, suppress_health_check=quiet)
    settings.load_profile("long" if long else "ci")


@pytest.fixture(params=sorted(readfile.LOADERS))
def yaml_loader(request, monkeypatch):
    """Run the test once with each YAML loader this PyYAML has: libyaml's (C) and the pure-Python one.
    Which one a user gets depends on the wheel; what they see must not."""
    monkeypatch.setattr(readfile, "Loader", readfile.LOADERS[request.param])
    return request.param
