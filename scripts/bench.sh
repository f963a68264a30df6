#!/usr/bin/env bash
# FFI figures on the host JVM, measured in one run against the release libsmartpos:
#   - a UniFFI call (method with a bool result; a function returning a String),
#   - a UniFFI callback round trip: Kotlin -> Rust ApduSession.transmit -> Kotlin CardReader -> back,
#   - a JNI APDU exchange: Kotlin -> Rust NativeApdu.transmit -> Kotlin transceive via the cached
#     method ID -> back,
#   - a UniFFI callback made from a long-lived Rust worker thread (CallbackWorker, the shape of
#     every device callback of a PosTerminal operation), before and after the facade's
#     CallbackThreads.keepAttached() (JNA CallbackThreadInitializer, detach = false): per
#     callback, both medians and their ratio,
#   - a whole contactless tap (Visa fDDA, kernel C-3 of smartpos-emv against a smartpos-sim
#     virtual card) through EmvKernel.tap (UniFFI CardReader) and EmvKernel.tapNative (JNI reader),
# as medians over 101 batches after warm-up (bindings/bench/kotlin/.../FfiBench.kt), the JNI/UniFFI
# ratios, and the size of the stripped release library as shipped (without the test-only `sim`
# feature the benchmark itself needs). Only measures: nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../bindings/jvm-env.sh
source bindings/jvm-env.sh

# The library as shipped (no `sim`), for its size; then the benchmark build (with `sim`).
cargo build --quiet --release -p smartpos-jni || jvm_fail "cargo build --release -p smartpos-jni failed"
mkdir -p "$JVM_WORK"
shipped=$JVM_WORK/libsmartpos.shipped.so
cp "$TARGET_DIR/release/libsmartpos.so" "$shipped"

jvm_prepare release

java -cp "$JVM_CLASSPATH" -Djna.library.path="$JVM_LIB_DIR" -Djava.library.path="$JVM_LIB_DIR" \
    io.smartpos.bench.FfiBench

stripped=$JVM_WORK/libsmartpos.stripped.so
strip -o "$stripped" "$shipped"
size=$(stat -c %s "$stripped")
echo "libsmartpos.so (release, $(uname -m), stripped, as shipped without sim): $size bytes ($((size / 1024)) KiB); unstripped $(stat -c %s "$shipped") bytes"
strip -o "$JVM_WORK/libsmartpos.sim.stripped.so" "$JVM_LIB_DIR/libsmartpos.so"
echo "libsmartpos.so with the test-only sim feature, stripped: $(stat -c %s "$JVM_WORK/libsmartpos.sim.stripped.so") bytes"
