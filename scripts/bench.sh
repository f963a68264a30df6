#!/usr/bin/env bash
# FFI figures on the host JVM, measured in one run against the release libsmartpos:
#   - a UniFFI call (method with a bool result; a function returning a String),
#   - a UniFFI callback round trip: Kotlin -> Rust ApduSession.transmit -> Kotlin CardReader -> back,
#   - a JNI APDU exchange: Kotlin -> Rust NativeApdu.transmit -> Kotlin transceive via the cached
#     method ID -> back,
#   - both selection flows (SELECT PPSE + SELECT AID),
# as medians over 101 batches after warm-up (bindings/bench/kotlin/.../FfiBench.kt), the JNI/UniFFI
# ratio, and the size of the stripped release library. Only measures: nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../bindings/jvm-env.sh
source bindings/jvm-env.sh

jvm_prepare release

java -cp "$JVM_CLASSPATH" -Djna.library.path="$JVM_LIB_DIR" -Djava.library.path="$JVM_LIB_DIR" \
    io.smartpos.bench.FfiBench

lib=$JVM_LIB_DIR/libsmartpos.so
stripped=$JVM_WORK/libsmartpos.stripped.so
strip -o "$stripped" "$lib"
size=$(stat -c %s "$stripped")
echo "libsmartpos.so (release, $(uname -m), stripped): $size bytes ($((size / 1024)) KiB); unstripped $(stat -c %s "$lib") bytes"
