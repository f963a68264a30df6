#!/usr/bin/env bash
# End to end through the real PC/SC stack: pcscd (foreground) with vsmartcard's vpcd driver,
# the simulator's virtual card speaking the vpcd protocol over TCP, and
# `smartpos emv run --reader` talking to it through pcsc-lite.
#
# Needs (Debian): pcscd, vsmartcard-vpcd, libpcsclite-dev (to build smartpos with `pcsc`).
# Run as root (pcscd needs its socket directory). Exits 0 on success, 77 when the stack is
# not installed (skip), 1 on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pcscd >/dev/null || [ ! -e /etc/reader.conf.d/vpcd ]; then
    echo "pcsc_e2e: SKIP (pcscd or vsmartcard-vpcd not installed)"
    exit 77
fi
if pgrep -x pcscd >/dev/null; then
    echo "pcsc_e2e: SKIP (a pcscd is already running; not touching it)"
    exit 77
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build -q -p smartpos-cli --features pcsc
bin="$CARGO_TARGET_DIR/debug/smartpos"
work="$(mktemp -d)"
pcscd_pid=""
card_pid=""
cleanup() {
    [ -n "$card_pid" ] && kill "$card_pid" 2>/dev/null || true
    [ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null || true
    [ -n "$pcscd_pid" ] && wait "$pcscd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
pcscd --foreground >"$work/pcscd.log" 2>&1 &
pcscd_pid=$!

profile="visa-dda-offline-pin"
"$bin" emv serve-vpcd --profile "$profile" --vpcd 127.0.0.1:35963 --wait 20 --json \
    >"$work/card.json" 2>"$work/card.err" &
card_pid=$!

# Wait (bounded) for the reader to show a card that answers a probe transaction.
reader=""
for _ in $(seq 1 100); do
    if out=$("$bin" emv readers --json 2>/dev/null); then
        reader=$(printf '%s' "$out" | sed -n 's/.*"readers":\["\([^"]*\)".*/\1/p')
        if [ -n "$reader" ] && "$bin" emv run --reader "$reader" --amount 1 --un 00000000 \
            --date 261121 --time 101500 --json >/dev/null 2>&1; then
            break
        fi
    fi
    sleep 0.2
done
if [ -z "$reader" ]; then
    echo "pcsc_e2e: FAIL (no vpcd reader appeared)"; cat "$work/pcscd.log"; exit 1
fi

result=$("$bin" emv run --reader "$reader" --amount 1000 --pin 1234 \
    --un A1B2C3D4 --date 261121 --time 101500 --json)
expected=$("$bin" emv run --sim "$profile" --amount 1000 --pin 1234 \
    --un A1B2C3D4 --date 261121 --time 101500 --json)
outcome=$(printf '%s' "$result" | sed -n 's/.*"outcome":"\([a-z_]*\)".*/\1/p')
oda_ok=$(printf '%s' "$result" | sed -n 's/.*"oda_ok":\([a-z]*\).*/\1/p')
# The reader's card already served the probe transaction, the --sim card is fresh: compare
# outcome, ODA, TVR and CVM results (the ATC, and so the cryptogram, differs).
field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p"; }
if [ "$outcome" != "online_request" ] || [ "$oda_ok" != "true" ] \
    || [ "$(field "$result" cvm_results)" != "$(field "$expected" cvm_results)" ] \
    || [ "$(field "$result" tvr)" != "$(field "$expected" tvr)" ]; then
    echo "pcsc_e2e: FAIL"; echo "reader: $result"; echo "sim:    $expected"; exit 1
fi
end=$(date +%s)
echo "pcsc_e2e: PASS (reader \"$reader\", outcome $outcome, ODA ok, CVM $(field "$result" cvm_results), $((end - start)) s)"
