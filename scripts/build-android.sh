#!/usr/bin/env bash
# Build smartpos for Android: libsmartpos.so for arm64-v8a, armeabi-v7a and x86_64 with cargo-ndk
# (OpenSSL vendored, 16 KB page alignment), the Kotlin bindings with the pinned uniffi-bindgen,
# then the Gradle project in android/ (library AAR and sample APK).
#
# THIS SCRIPT CANNOT RUN ON THE PROJECT'S DEVELOPMENT/CI MACHINE: it has no Android SDK or NDK and
# no access to Google's Maven repository or Gradle's distribution server. It is written for a
# machine with the SDK and NDK; there it checks every prerequisite first and says what is missing.
# On the development machine, scripts/jvm-test.sh exercises the same Rust library, bindings and
# Kotlin facade on the host JVM.
#
# Prerequisites:
#   ANDROID_HOME          Android SDK (platform 35, build-tools)
#   ANDROID_NDK_HOME      Android NDK r27 or later (16 KB page-size support)
#   cargo-ndk             cargo install cargo-ndk
#   rustup targets        aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
#   perl, make            to build the vendored OpenSSL
#   gradle or android/gradlew
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_SDK=24
ABIS=(arm64-v8a armeabi-v7a x86_64)
TRIPLES=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
JNI_LIBS=android/smartpos/src/main/jniLibs
TARGET_DIR=${CARGO_TARGET_DIR:-target}

missing=()
if [ -z "${ANDROID_HOME:-}" ] || [ ! -d "${ANDROID_HOME:-/nonexistent}" ]; then
    missing+=("ANDROID_HOME must point to the Android SDK (e.g. export ANDROID_HOME=\$HOME/Android/Sdk)")
fi
if [ -z "${ANDROID_NDK_HOME:-}" ] || [ ! -d "${ANDROID_NDK_HOME:-/nonexistent}" ]; then
    missing+=("ANDROID_NDK_HOME must point to an NDK r27+ (e.g. \$ANDROID_HOME/ndk/27.2.12479018)")
fi
if ! cargo ndk --version >/dev/null 2>&1; then
    missing+=("cargo-ndk is not installed: cargo install cargo-ndk")
fi
if command -v rustup >/dev/null 2>&1; then
    installed_targets=$(rustup target list --installed)
    for triple in "${TRIPLES[@]}"; do
        grep -qx "$triple" <<<"$installed_targets" || missing+=("rust target $triple: rustup target add $triple")
    done
else
    missing+=("rustup is needed to check/add the Android targets")
fi
for tool in perl make; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool is needed to build the vendored OpenSSL")
done
gradle_cmd=()
if [ -x android/gradlew ]; then
    gradle_cmd=(./gradlew)
elif command -v gradle >/dev/null 2>&1; then
    gradle_cmd=(gradle)
else
    missing+=("Gradle: install gradle 8.9+ or run 'gradle wrapper' in android/ once")
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "build-android: cannot build, prerequisites missing:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi

# 16 KB page alignment of the ELF segments (required for Android 15+ devices with 16 KB pages).
page_flags="-C link-arg=-Wl,-z,max-page-size=16384"
for triple in "${TRIPLES[@]}"; do
    var="CARGO_TARGET_$(tr '[:lower:]-' '[:upper:]_' <<<"$triple")_RUSTFLAGS"
    export "$var=${!var:-} $page_flags"
done

echo "build-android: cargo ndk (${ABIS[*]}), release, vendored OpenSSL"
ndk_targets=()
for abi in "${ABIS[@]}"; do ndk_targets+=(-t "$abi"); done
rm -rf "$JNI_LIBS"
# Never `--features sim`: the virtual cards and the host simulator (smartpos-ffi feature `sim`,
# used by scripts/jvm-test.sh and scripts/bench.sh) stay out of every release library.
cargo ndk "${ndk_targets[@]}" --platform "$MIN_SDK" -o "$JNI_LIBS" \
    build --release -p smartpos-jni --features vendored-openssl

readelf_bin=$(find "$ANDROID_NDK_HOME/toolchains/llvm/prebuilt" -name llvm-readelf -type f 2>/dev/null | head -n1)
for abi in "${ABIS[@]}"; do
    so=$JNI_LIBS/$abi/libsmartpos.so
    [ -f "$so" ] || { echo "build-android: $so was not produced" >&2; exit 1; }
    # The test-only surface must not be in a release library.
    if grep -q -a 'uniffi_smartpos_ffi_fn_func_simulated_emv_kernel' "$so"; then
        echo "build-android: $abi/libsmartpos.so contains the test-only sim surface" >&2
        exit 1
    fi
    if [ -n "$readelf_bin" ]; then
        # Every LOAD segment must be aligned to at least 16 KB (0x4000).
        aligned=yes
        while read -r align; do
            [ "$((align))" -ge 16384 ] || aligned=no
        done < <("$readelf_bin" -lW "$so" | awk '$1 == "LOAD" { print $NF }')
        if [ "$aligned" = yes ]; then
            echo "build-android: $abi/libsmartpos.so: LOAD segments 16 KB aligned, $(stat -c %s "$so") bytes"
        else
            echo "build-android: $abi/libsmartpos.so is not 16 KB page aligned" >&2
            exit 1
        fi
    fi
done

echo "build-android: Kotlin bindings (pinned uniffi-bindgen, library mode)"
cargo build --quiet -p smartpos-ffi --features bindgen-cli --bin uniffi-bindgen
rm -rf bindings/generated/kotlin
"$TARGET_DIR/debug/uniffi-bindgen" generate --library "$TARGET_DIR/aarch64-linux-android/release/libsmartpos.so" \
    --language kotlin --config bindings/uniffi.toml --out-dir bindings/generated/kotlin --no-format

echo "build-android: Gradle assemble"
(cd android && "${gradle_cmd[@]}" --no-daemon --quiet :smartpos:assembleRelease :sample:assembleDebug :sample:assembleRelease)
echo "build-android: AAR in android/smartpos/build/outputs/aar, APKs in android/sample/build/outputs/apk"
