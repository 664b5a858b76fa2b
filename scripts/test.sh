#!/usr/bin/env bash
# Sets up the test environment (scripts/venv.sh) and runs the test suite against the installed package.
#
#   bash scripts/test.sh                     # the whole suite
#   bash scripts/test.sh -m "not slow"       # the everyday loop (any pytest arguments pass through)
#   SUPERBILL_LATEST=1 bash scripts/test.sh  # against the newest releases pyproject.toml allows
#
# By default .venv gets exactly the versions in requirements/test.lock, every file checked against
# its hash, so a new upstream release cannot turn the suite red; then the project itself, without
# its dependencies. SUPERBILL_LATEST=1 uses .venv-latest instead, upgraded to the newest releases
# within the ranges of pyproject.toml: upstream changes show up there as a signal, before
# `bash scripts/lock.sh --upgrade` takes them into the lock.
# SUPERBILL_NO_SETUP=1 skips the set-up (.ci/run has just done it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${SUPERBILL_NO_SETUP:-}" ]; then
  venv=$([ -n "${SUPERBILL_LATEST:-}" ] && echo .venv-latest || echo .venv)
else
  venv=$(bash scripts/venv.sh)
fi
# Run against the installed package, not the source tree, so packaging mistakes fail here.
cd tests
exec "../$venv/bin/python" -m pytest -p no:cacheprovider "$@"
