#!/usr/bin/env bash
# Installs what is missing, builds sevenport (release), and starts it with the default config.
# Arguments go to sevenport, e.g. `scripts/run.sh --port-offset 10000` to run without root.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEVENPORT_TESTS=OFF >/dev/null
cmake --build build-release --target sevenport >/dev/null
exec build-release/sevenport "$@"
