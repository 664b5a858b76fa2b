#!/usr/bin/env bash
# Sets up a virtual environment, installs superbill, and runs the main job on the shipped example:
# a starter clinic folder, its check, its claims, and the superbill PDF in ./example-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet .
rm -rf example-output
.venv/bin/superbill init example-output/clinic
cd example-output/clinic
../../.venv/bin/superbill check patients/example.yaml requests/example.yaml
../../.venv/bin/superbill claims patients/example.yaml
../../.venv/bin/superbill render patients/example.yaml -o ../superbills
../../.venv/bin/superbill letter requests/example.yaml -o ../letters/prior-authorization.pdf
echo "Done: example-output/superbills/ and example-output/letters/"
