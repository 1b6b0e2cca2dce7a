#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing sevenport needs.
# Safe to run again: it installs only what is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git clang-format
  libuv1-dev libssl-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libgmime-3.0-dev node-llhttp
  # tests
  catch2 python3 python3-pytest openssl curl swaks libnet-ssleay-perl neomutt tmux
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "sevenport setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "sevenport setup: run as root, or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
