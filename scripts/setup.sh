#!/usr/bin/env bash
# Install what the build and the tests need on a fresh machine of this kind (Debian, Rust stable).
# Idempotent and quiet: it only installs what is missing and prints one line per install.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# libpcsclite-dev builds the PC/SC transport; pcscd + vsmartcard-vpcd run its end-to-end test.
for pkg in pkg-config libssl-dev libpcsclite-dev pcscd vsmartcard-vpcd; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done

if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "setup: installing ${need_apt[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq >/dev/null
    $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        echo "setup: adding rustup component $component"
        rustup component add "$component" >/dev/null
    fi
done

# Host-JVM toolchain for the Kotlin binding tests (kotlinc from npm, JNA and JUnit 4 from Debian).
if [ -x scripts/setup-jvm.sh ]; then
    scripts/setup-jvm.sh
fi
