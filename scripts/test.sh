#!/usr/bin/env bash
# Builds sevenport and runs the whole test suite: unit tests, TLS channel tests, and end-to-end
# tests that drive the real binary with real clients (Python's smtplib/poplib, curl, swaks,
# openssl s_client) over loopback. Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# CI builds with warnings as errors; a local build only warns.
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
build_dir=${SEVENPORT_BUILD_DIR:-build}

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEVENPORT_WERROR="$werror" >/dev/null
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
