#!/usr/bin/env bash
# Runs the DC-09 fuzzers (cargo-fuzz, nightly toolchain) for a while each, then shrinks
# their corpora to what adds coverage. The corpora under fuzz/corpus/ are committed: the
# tests replay every file through the same checks (vakt_dc09::harness) on every run.
#
#   scripts/fuzz.sh [seconds per target, default 120]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-120}"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
for target in stream datagram payload; do
  echo "== $target for ${seconds}s"
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=2048
  cargo +nightly fuzz cmin "$target"
done
