# Shared by scripts/jvm-test.sh and scripts/bench.sh (sourced, not run): builds libsmartpos and
# the pinned bindgen, generates the host Kotlin bindings, compiles generated code + facade +
# host tests + benchmark with kotlinc in one invocation, cached on the sources' hash.
#
# libsmartpos is built with the test-only feature `sim` (virtual cards, simulated kernel): host
# tests and benchmarks only; scripts/build-android.sh never enables it.
#
# After `jvm_prepare debug|release`: $JVM_CLASSPATH (compiled classes + runtime jars) and
# $JVM_LIB_DIR (directory of libsmartpos.so) are set.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
KOTLIN_HOME=$ROOT/.tools/kotlin/node_modules/kotlin-compiler
KOTLINC=$KOTLIN_HOME/bin/kotlinc
JVM_WORK=$TARGET_DIR/jvm
GENERATED=$ROOT/bindings/generated/kotlin-host
RUNTIME_JARS="$KOTLIN_HOME/lib/kotlin-stdlib.jar:$KOTLIN_HOME/lib/kotlinx-coroutines-core-jvm.jar:$KOTLIN_HOME/lib/kotlin-test.jar:$KOTLIN_HOME/lib/kotlin-test-junit.jar:/usr/share/java/jna.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar"

jvm_fail() {
    echo "jvm: $*" >&2
    exit 1
}

# Symbols that must be exported by libsmartpos: UniFFI scaffolding of smartpos-ffi and the JNI side.
jvm_check_exports() {
    local lib=$1 sym symbols
    symbols=$(nm -D --defined-only "$lib" | awk '{ print $NF }')
    for sym in uniffi_smartpos_ffi_fn_func_version uniffi_smartpos_ffi_fn_method_emvkernel_tap \
        uniffi_smartpos_ffi_fn_method_emvkernel_tap_native uniffi_smartpos_ffi_fn_func_simulated_emv_kernel \
        uniffi_smartpos_ffi_fn_constructor_posterminal_open_secured uniffi_smartpos_ffi_fn_method_posterminal_receipt \
        uniffi_smartpos_ffi_fn_init_callback_vtable_keystorecallback uniffi_smartpos_ffi_fn_constructor_posoperators_open \
        uniffi_smartpos_ffi_fn_constructor_callbackworker_new \
        ffi_smartpos_ffi_uniffi_contract_version JNI_OnLoad Java_io_smartpos_jni_NativeApdu_openReader; do
        grep -qx "$sym" <<<"$symbols" || jvm_fail "$lib does not export $sym"
    done
}

jvm_prepare() {
    local profile=$1 cargo_profile_flag="" lib_dir
    [ "$profile" = release ] && cargo_profile_flag="--release"
    [ -x "$KOTLINC" ] || "$ROOT/scripts/setup-jvm.sh"
    mkdir -p "$JVM_WORK"

    (cd "$ROOT" && cargo build --quiet $cargo_profile_flag -p smartpos-jni --features sim) || jvm_fail "cargo build -p smartpos-jni failed"
    (cd "$ROOT" && cargo build --quiet -p smartpos-ffi --features bindgen-cli --bin uniffi-bindgen) ||
        jvm_fail "building the pinned uniffi-bindgen failed"
    lib_dir=$TARGET_DIR/$profile
    [ -f "$lib_dir/libsmartpos.so" ] || jvm_fail "$lib_dir/libsmartpos.so missing after the build"
    jvm_check_exports "$lib_dir/libsmartpos.so"

    # Host flavour of bindings/uniffi.toml: no android.* / androidx.* on a desktop JVM.
    sed -e 's/^android *= *true/android = false/' -e 's/^android_cleaner *= *true/android_cleaner = false/' \
        "$ROOT/bindings/uniffi.toml" >"$JVM_WORK/uniffi-host.toml"
    rm -rf "$GENERATED"
    "$TARGET_DIR/debug/uniffi-bindgen" generate --library "$lib_dir/libsmartpos.so" --language kotlin \
        --out-dir "$GENERATED" --config "$JVM_WORK/uniffi-host.toml" --no-format >"$JVM_WORK/bindgen.log" 2>&1 ||
        { cat "$JVM_WORK/bindgen.log" >&2; jvm_fail "uniffi-bindgen failed"; }

    local sources key classes=$JVM_WORK/classes
    sources=$(find "$GENERATED" "$ROOT/android/smartpos/src/main/kotlin" "$ROOT/bindings/tests/kotlin" \
        "$ROOT/bindings/bench/kotlin" -name '*.kt' | LC_ALL=C sort)
    key=$( { echo "$RUNTIME_JARS"; "$KOTLINC" -version 2>&1 | tail -n1; cat $sources; } | sha256sum | cut -d' ' -f1)
    if [ ! -d "$classes/io/smartpos" ] || [ ! -f "$JVM_WORK/classes.key" ] || [ "$(cat "$JVM_WORK/classes.key")" != "$key" ]; then
        rm -rf "$classes" "$JVM_WORK/classes.key"
        mkdir -p "$classes"
        # One kotlinc invocation for everything (it is slow to start); warnings go to the log.
        # shellcheck disable=SC2086
        if ! "$KOTLINC" -jvm-target 17 -cp "$RUNTIME_JARS" -d "$classes" $sources >"$JVM_WORK/kotlinc.log" 2>&1; then
            grep -E "error:" "$JVM_WORK/kotlinc.log" | head -n 40 >&2
            jvm_fail "kotlinc failed (full log: $JVM_WORK/kotlinc.log)"
        fi
        echo "$key" >"$JVM_WORK/classes.key"
    fi
    JVM_CLASSPATH="$classes:$RUNTIME_JARS"
    JVM_LIB_DIR=$lib_dir
}
