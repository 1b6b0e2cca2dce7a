#!/usr/bin/env bash
# Installs the Debian packages that only the benchmarks need (scripts/bench_smtp.py):
# postfix, for its smtp-sink (a reference SMTP sink) and smtp-source (the SMTP load generator).
# Postfix is installed WITHOUT configuring or starting a system mail service: the benchmark runs
# smtp-sink by hand on a loopback port. Safe to run again: it installs only what is missing.
# Needs root (or sudo).
set -euo pipefail

packages=(
  postfix   # /usr/sbin/smtp-sink, /usr/sbin/smtp-source
  python3   # the benchmark driver (standard library only)
  openssl
  dovecot-imapd   # the reference IMAP server of scripts/bench_imap.py (run privately, never as a service)
)

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "sevenport bench-setup: run as root, or install sudo" >&2; exit 1; }
  sudo="sudo"
fi

# Stops the Postfix mail service if installing the package started one; the benchmark never
# uses it. A Postfix that was installed before is left alone.
stop_postfix_service() {
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    if systemctl is-active --quiet postfix 2>/dev/null; then
      echo "sevenport bench-setup: stopping the postfix service" >&2
      $sudo systemctl stop postfix || true
    fi
    $sudo systemctl disable postfix >/dev/null 2>&1 || true
  elif [ -x /usr/sbin/postfix ] && $sudo /usr/sbin/postfix status >/dev/null 2>&1; then
    echo "sevenport bench-setup: stopping the postfix service" >&2
    $sudo /usr/sbin/postfix stop >/dev/null 2>&1 || true
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "sevenport bench-setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # "No configuration": Postfix installs its programs but writes no main.cf and runs no service.
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  case " ${missing[*]} " in *" postfix "*) stop_postfix_service ;; esac
fi

for tool in /usr/sbin/smtp-sink /usr/sbin/smtp-source; do
  [ -x "$tool" ] || { echo "sevenport bench-setup: $tool is missing after installing postfix" >&2; exit 1; }
done
