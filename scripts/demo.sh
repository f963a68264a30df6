#!/usr/bin/env bash
# A merchant's day on the embedded default configuration: the host simulator on a loopback port,
# a journal in a fresh temp directory, virtual cards; prints the UI events, the receipts and the
# settlement report. Extra arguments go to `smartpos demo` (e.g. --lang zh, --width 48, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet -p smartpos-cli
exec "${CARGO_TARGET_DIR:-target}/release/smartpos" demo "$@"
