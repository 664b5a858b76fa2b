#!/bin/sh
# Run every benchmark with its defaults (a few minutes on a 2-core machine) and keep the output.
#   sh bench/run_all.sh     # prints to the terminal and to ${TMPDIR:-/tmp}/superbill-bench-last-run.txt
set -e
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$here/../.venv/bin/python}
{
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$python" "$here/bench_startup.py"
  echo
  "$python" "$here/bench_hostile.py" --sessions
  echo
  "$python" "$here/bench_837p.py"
  echo
  "$python" "$here/bench_superbills.py"
  echo
  "$python" "$here/bench_cms1500.py"
} 2>&1 | tee "${TMPDIR:-/tmp}/superbill-bench-last-run.txt"
