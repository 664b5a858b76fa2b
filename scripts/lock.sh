#!/usr/bin/env bash
# Regenerates requirements/test.lock: every package the test suite, ruff and mypy need, pinned with
# hashes, resolved from pyproject.toml (the dependencies, the `test` extra and the build backend).
# Run it after changing a dependency in pyproject.toml, then commit the lock with that change.
#   bash scripts/lock.sh            # a few minutes: pip-tools resolves against the package index
#   bash scripts/lock.sh --upgrade  # the newest releases the ranges allow (extra arguments go to pip-compile)
# The lock is for the Python that runs this (CPython 3.11 on Linux today); the index is pip's own
# configuration (no index URL is written into the lock).
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d "${TMPDIR:-/tmp}/superbill-lock.XXXXXX")
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/python" -m pip install --quiet "pip-tools>=7.4"
mkdir -p requirements
"$tools/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --all-build-deps --extra test --strip-extras \
  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host --output-file requirements/test.lock "$@" pyproject.toml
echo "requirements/test.lock: $(grep -c '==' requirements/test.lock) packages pinned with hashes"
