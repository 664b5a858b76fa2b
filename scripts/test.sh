#!/usr/bin/env bash
# Sets up a virtual environment from pyproject.toml and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet ".[test]"
# Run against the installed package, not the source tree, so packaging mistakes fail here.
cd tests
exec ../.venv/bin/python -m pytest -p no:cacheprovider "$@"
