#!/usr/bin/env bash
# Vakt's receiver side by side with a raw baseline and another DC-09 receiver from PyPI
# (pysiaalarm), in one run. Prints a Markdown table; extra arguments go to
# `vakt-bench compare` (for example --seconds 10 --connections 1,100).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
if ! "$venv/bin/python" -c 'import pysiaalarm' >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check pysiaalarm==3.2.2
fi
cargo build -q --release -p vakt -p vakt-bench
exec target/release/vakt-bench compare \
  --other "$venv/bin/python scripts/bench/pysiaalarm_receiver.py {port} {accounts}" \
  --other-name "pysiaalarm 3.2.2 (Python, asyncio)" "$@"
