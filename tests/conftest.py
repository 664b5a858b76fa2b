"""What every test shares: the fuzzing budget, the YAML loaders, a cache folder of its own.

Hypothesis: the default profile ("ci") is derandomized (the same examples on every run and every
machine, no example database) with the short budgets, so a red test is a real failure that the
next run shows again. `--fuzz-long` (or SUPERBILL_FUZZ=long) switches to random exploration with
the long budgets and the example database; property tests read `SUPERBILL_FUZZ` ("ci" or "long")
to size their example counts. Both profiles: no deadline, failures print a reproduction blob.

Control numbers: a new ledger starts from the clock (batch/control_numbers.py); in-process tests see
the clock at its epoch (`ledger_clock_at_epoch`), so a fresh ledger's first interchange is 000000001
and the files and listings they assert are the same on every run. tests/test_control_numbers.py sets
the clock itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from superbill.batch import control_numbers
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
    settings.register_profile("ci", deadline=None, print_blob=True, suppress_health_check=quiet,
                              derandomize=True, database=None)
    settings.register_profile("long", deadline=None, print_blob=True, suppress_health_check=quiet)
    settings.load_profile("long" if long else "ci")


@pytest.fixture(params=sorted(readfile.LOADERS))
def yaml_loader(request, monkeypatch):
    """Run the test once with each YAML loader this PyYAML has: libyaml's (C) and the pure-Python one.
    Which one a user gets depends on the wheel; what they see must not."""
    monkeypatch.setattr(readfile, "Loader", readfile.LOADERS[request.param])
    return request.param


@pytest.fixture(scope="session", autouse=True)
def _session_cache_folder(tmp_path_factory):
    """Module and session fixtures render too: their cache folder (the slim fonts', see
    superbill/documents/pdfbatch.py) is this run's own, never the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUPERBILL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def own_cache_folder(tmp_path_factory, monkeypatch):
    """Every test starts with its own empty cache folder, so none depends on what another left (beside
    the test's tmp_path, not in it: tests list what they wrote there)."""
    folder = tmp_path_factory.mktemp("superbill-cache")
    monkeypatch.setenv("SUPERBILL_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def ledger_clock_at_epoch(monkeypatch, tmp_path_factory):
    """New ledgers number from 2025-01-01 00:00 UTC (clock number 0): their first export is 1. Each
    test keeps its clinics' marks (the highest number issued, beside clinic.yaml) in a folder of its
    own, so a clinic folder shared by a module's tests does not carry numbers from one test to the next."""
    monkeypatch.setattr(control_numbers, "clock_number", lambda now=None: 0)
    marks = tmp_path_factory.mktemp("control-marks")
    monkeypatch.setattr(control_numbers, "mark_path",
                        lambda folder: marks / (str(Path(folder).resolve()).replace("/", "_") + ".mark"))
