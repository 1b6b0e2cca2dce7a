#!/usr/bin/env bash
# Builds sevenport and runs the whole test suite: unit tests, TLS channel tests, and end-to-end
# tests that drive the real binary with real clients (Python's smtplib/poplib, curl, swaks,
# openssl s_client) over loopback. Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/setup-browser.sh

# CI builds with warnings as errors; a local build only warns.
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
build_dir=${SEVENPORT_BUILD_DIR:-build}

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEVENPORT_WERROR="$werror" >/dev/null
cmake --build "$build_dir"

# The end-to-end tests and the fuzz replays once more, built with AddressSanitizer and UBSan:
# real clients, hostile input and mutated sessions must not find a memory error or undefined
# behaviour either.
# SEVENPORT_SKIP_SANITIZED=1 leaves this pass out (a quicker local run).
if [ "${SEVENPORT_SKIP_SANITIZED:-0}" != "1" ]; then
  cmake -S . -B "$build_dir-asan" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSEVENPORT_SANITIZE=ON \
        -DSEVENPORT_WERROR="$werror" >/dev/null
  cmake --build "$build_dir-asan" --target sevenport fuzz_smtp fuzz_pop3 fuzz_imap fuzz_http
  ctest --test-dir "$build_dir-asan" --output-on-failure -j "$(nproc)" -R '^(e2e|fuzz)\.'
fi

ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
