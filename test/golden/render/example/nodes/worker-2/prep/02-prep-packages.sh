#!/usr/bin/env bash
# Packages containerd, runc, conntrack, socat, fio, iptables, ebtables, ethtool, ca-certificates, curl, gnupg and a time-sync daemon are installed
# step: prep/packages
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
  for p in containerd runc conntrack socat fio iptables ebtables ethtool ca-certificates curl gnupg; do
    installed "$p" || return 1
  done
  installed systemd-timesyncd || installed chrony || installed ntpsec || installed openntpd
}

apply() {
  installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
  missing=()
  for p in containerd runc conntrack socat fio iptables ebtables ethtool ca-certificates curl gnupg; do
    installed "$p" || missing+=("$p")
  done
  if ! { installed systemd-timesyncd || installed chrony || installed ntpsec || installed openntpd; }; then missing+=(systemd-timesyncd); fi
  [ "${#missing[@]}" -gt 0 ] || return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 -q update
  apt-get -o DPkg::Lock::Timeout=300 -q install -y --no-install-recommends "${missing[@]}"
}

if probe; then
  echo "prep/packages: already in place"
  exit 0
fi
apply
probe
echo "prep/packages: changed"
