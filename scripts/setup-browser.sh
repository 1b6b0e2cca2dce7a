#!/usr/bin/env bash
# Installs what the browser test of the web UI (tests/browser/) needs: Debian's Chromium, Node.js
# and npm (when missing), and the test's npm dependencies (playwright-core, pinned by
# tests/browser/package-lock.json; it drives /usr/bin/chromium and never downloads a browser).
# Safe to run again: it installs only what is missing. Needs root (or sudo) for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "sevenport setup-browser: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "sevenport setup-browser: run as root, or install sudo" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core never fetches a browser by itself; this keeps any install hook from trying.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# npm ci only when node_modules does not hold exactly what the lock file pins.
if ! (cd tests/browser && node -e '
  const lock = require("./package-lock.json").packages;
  for (const [path, pkg] of Object.entries(lock)) {
    if (!path) continue;
    if (require("./" + path + "/package.json").version !== pkg.version) process.exit(1);
  }' 2>/dev/null); then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
