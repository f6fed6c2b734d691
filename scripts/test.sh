#!/usr/bin/env bash
# Vakt's test command: installs what a fresh machine lacks, then runs the lints and every
# test of the workspace. CI runs exactly this (through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

say "prerequisites"
command -v cargo >/dev/null || { echo "cargo is required (rustup)"; exit 1; }
command -v python3 >/dev/null || apt_install python3
python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
# From PyPI for the integration tests: a DC-09 transmitter they talk to, and the
# property-based tester they run against the JSON API's OpenAPI document.
peer=target/peer-venv
if ! "$peer/bin/python" -c 'import my_dc09_spt, schemathesis' >/dev/null 2>&1; then
  rm -rf "$peer"
  python3 -m venv "$peer"
  "$peer/bin/pip" install -q --disable-pip-version-check my-dc09-spt==0.2.2 schemathesis==4.32.5
fi

# The terminal test drives `vakt panel` through tmux.
command -v tmux >/dev/null || apt_install tmux

# The browser tests: Debian's Chromium driven by playwright-core from npm.
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || apt_install chromium
command -v node >/dev/null || apt_install nodejs
command -v npm >/dev/null || apt_install npm
if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

# PostgreSQL for the store's conformance suite and the multi-node tests: a server of the
# project's own on loopback, unless one is given.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  TEST_DATABASE_URL="$(scripts/postgres.sh)"
  trap 'scripts/postgres.sh stop' EXIT
fi
export TEST_DATABASE_URL

say "layering: the pure crates do no I/O"
for crate in vakt-core vakt-dc09 vakt-link vakt-panel vakt-service; do
  if cargo tree -q -p "$crate" -e normal --prefix none | grep -E '^(tokio|sqlx|axum|reqwest|hyper) ' ; then
    echo "$crate must not depend on I/O crates"; exit 1
  fi
done

# The engine speaks only to the store's traits: no database, web or HTTP client in it.
if cargo tree -q -p vakt-engine -e normal --prefix none | grep -E '^(sqlx|axum|reqwest|hyper|lettre) '; then
  echo "vakt-engine must stay on the store traits"; exit 1
fi

say "architecture: layers, purity, module loops, file sizes (docs/architecture.md)"
python3 scripts/architecture.py

say "format"
cargo fmt --all --check

say "lints"
cargo clippy -q --workspace --all-targets -- -D warnings

say "tests"
cargo test --workspace

say "browser tests"
cargo build -q -p vakt
(cd e2e && node --test --test-concurrency=1)
