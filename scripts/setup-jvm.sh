#!/usr/bin/env bash
# Host-JVM toolchain for the Kotlin binding tests and the FFI benchmark (scripts/jvm-test.sh,
# scripts/bench.sh): kotlinc with kotlinx-coroutines and kotlin-test from the npm package
# `kotlin-compiler` (pinned, project-local under .tools/kotlin), JNA and JUnit 4 from Debian
# (jars under /usr/share/java). JDK 17 must already be there.
# Idempotent and quiet: it only installs what is missing and prints one line per install.
set -euo pipefail
cd "$(dirname "$0")/.."

KOTLIN_VERSION=2.2.21
kotlin_dir=.tools/kotlin
kotlin_pkg="$kotlin_dir/node_modules/kotlin-compiler"

if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
    echo "setup-jvm: a JDK (17 or later) is required: java/javac not found" >&2
    exit 1
fi

need_apt=()
for pkg in libjna-java junit4; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "setup-jvm: installing ${need_apt[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq >/dev/null
    $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

installed_version=""
if [ -f "$kotlin_pkg/package.json" ]; then
    installed_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$kotlin_pkg/package.json" | head -n1)
fi
if [ "$installed_version" != "$KOTLIN_VERSION" ] || [ ! -x "$kotlin_pkg/bin/kotlinc" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "setup-jvm: npm is required to install kotlinc (apt-get install npm)" >&2
        exit 1
    fi
    echo "setup-jvm: installing kotlin-compiler $KOTLIN_VERSION into $kotlin_dir"
    mkdir -p "$kotlin_dir"
    npm_log=$(mktemp)
    if ! npm install --prefix "$kotlin_dir" --no-audit --no-fund --loglevel=error \
        "kotlin-compiler@$KOTLIN_VERSION" >"$npm_log" 2>&1; then
        cat "$npm_log" >&2
        rm -f "$npm_log"
        echo "setup-jvm: npm install kotlin-compiler@$KOTLIN_VERSION failed" >&2
        exit 1
    fi
    rm -f "$npm_log"
    chmod +x "$kotlin_pkg"/bin/* 2>/dev/null || true
fi

for jar in "$kotlin_pkg/lib/kotlinx-coroutines-core-jvm.jar" "$kotlin_pkg/lib/kotlin-test.jar" \
    /usr/share/java/jna.jar /usr/share/java/junit4.jar /usr/share/java/hamcrest-core.jar; do
    if [ ! -f "$jar" ]; then
        echo "setup-jvm: expected $jar after installation, it is missing" >&2
        exit 1
    fi
done
