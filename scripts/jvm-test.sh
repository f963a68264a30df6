#!/usr/bin/env bash
# Host-JVM tests of the Kotlin side: builds libsmartpos (cargo build -p smartpos-jni), generates
# the Kotlin bindings with the pinned uniffi-bindgen into bindings/generated, compiles them with
# the facade (android/smartpos/src/main/kotlin) and the JUnit 4 tests (bindings/tests/kotlin)
# in one kotlinc run (cached on the sources), and runs the tests against the real library with
# JNA (UniFFI) and System.loadLibrary (JNI fast path).
# Quiet: kotlinc and JUnit output go to target/jvm/*.log; the last line is cargo-style
# `test result: ok. N passed; M failed; 0 ignored` for scripts/test.sh's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../bindings/jvm-env.sh
source bindings/jvm-env.sh

jvm_prepare debug

tests=$(cd bindings/tests/kotlin && grep -rl --include='*Test.kt' '@Test' . | sed -e 's|^\./||' -e 's|\.kt$||' -e 's|/|.|g' | LC_ALL=C sort)
[ -n "$tests" ] || jvm_fail "no test classes under bindings/tests/kotlin"

log=$JVM_WORK/junit.log
set +e
# shellcheck disable=SC2086
timeout 600 java -Xss4m -cp "$JVM_CLASSPATH" -Djna.library.path="$JVM_LIB_DIR" -Djava.library.path="$JVM_LIB_DIR" \
    org.junit.runner.JUnitCore $tests >"$log" 2>&1
status=$?
set -e

passed=0
failed=0
if ok_line=$(grep -E '^OK \([0-9]+ tests?\)' "$log"); then
    passed=$(echo "$ok_line" | sed -E 's/^OK \(([0-9]+) tests?\).*/\1/')
elif run_line=$(grep -E '^Tests run: [0-9]+, +Failures: [0-9]+' "$log"); then
    total=$(echo "$run_line" | sed -E 's/^Tests run: ([0-9]+),.*/\1/')
    failed=$(echo "$run_line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    passed=$((total - failed))
else
    failed=1
fi

if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
    echo "jvm-test: JUnit failed (exit $status); failures from $log:"
    grep -E -A 6 '^[0-9]+\) ' "$log" | head -n 80 || tail -n 40 "$log"
    [ "$failed" -ne 0 ] || failed=1
    echo "test result: FAILED. $passed passed; $failed failed; 0 ignored"
    exit 1
fi
echo "test result: ok. $passed passed; $failed failed; 0 ignored"
