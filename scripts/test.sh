#!/usr/bin/env bash
# Install what is needed, then run every check and test: format, lints, Rust tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# A one-shot full run gains nothing from incremental caches, which would double the target dir.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
echo "== disk free before the build: $(df -h . | awk 'NR == 2 { print $4 }')"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo test"
mkdir -p target
log=target/test-output.txt
set +e
cargo test --workspace --quiet 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
    echo "cargo test failed (exit $status)"
    exit "$status"
fi

echo "== PC/SC end to end (pcscd + vsmartcard vpcd + virtual card)"
set +e
tests/pcsc_e2e.sh
pcsc_status=$?
set -e
case "$pcsc_status" in
    0) echo "test result: ok. 1 passed; 0 failed; 0 ignored" >>"$log" ;;
    77) echo "test result: ok. 0 passed; 0 failed; 1 ignored" >>"$log" ;;
    *) echo "PC/SC end-to-end test failed (exit $pcsc_status)"; exit 1 ;;
esac

if [ -x scripts/jvm-test.sh ]; then
    echo "== host-JVM tests (Kotlin bindings)"
    scripts/jvm-test.sh | tee -a "$log"
fi

echo "== target dir after the run: $(du -sh "${CARGO_TARGET_DIR:-target}" 2>/dev/null | cut -f1)"

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
