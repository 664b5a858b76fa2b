#!/usr/bin/env bash
# Creates or updates the test environment and installs the project into it; prints its folder.
#   bash scripts/venv.sh                     # .venv: exactly requirements/test.lock, hashes checked
#   SUPERBILL_LATEST=1 bash scripts/venv.sh  # .venv-latest: the newest releases pyproject.toml allows
# scripts/test.sh calls this before it runs the suite; .ci/run calls it once, then ruff, mypy and the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${SUPERBILL_LATEST:-}" ]; then
  venv=.venv-latest
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip >&2
  "$venv/bin/python" -m pip install --quiet --upgrade --upgrade-strategy eager ".[test]" >&2
else
  venv=.venv
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --require-hashes -r requirements/test.lock >&2
  # The build backend (setuptools, wheel) comes from the lock too, hence no build isolation.
  "$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation --force-reinstall . >&2
fi
"$venv/bin/python" -m pip check >&2
echo "$venv"
