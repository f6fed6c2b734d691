#!/usr/bin/env bash
# The operator's screen measured in Debian's Chromium: signal-to-screen latency under 100
# signals per second of background load, and the queue's first render with 10,000 open
# incidents. Prints Markdown tables; arguments go to e2e/bench/console.mjs
# (for example --open=2000 --alarms=50).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p vakt
if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
exec node e2e/bench/console.mjs "$@"
