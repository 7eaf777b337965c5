#!/usr/bin/env bash
# Packages containerd, runc, conntrack, socat, fio, iptables, ebtables, ethtool, ca-certificates, curl, gnupg and a time-sync daemon are installed
# step: prep/packages
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
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

locked_apply() {
  exec 9>>/run/ironroot-step.lock
  if ! flock -n 9; then
    echo "waiting for an earlier ironroot step that still runs on this host: $(cat /run/ironroot-step.holder 2>/dev/null || echo unknown)" >&2
    if ! flock -w 600 9; then
      echo "an earlier ironroot step still holds /run/ironroot-step.lock after 600 s: $(cat /run/ironroot-step.holder 2>/dev/null || echo unknown); see whether it still runs (ps -ef), then run again" >&2
      exit 75
    fi
    if probe; then
      echo "prep/packages: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'prep/packages' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "prep/packages: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "prep/packages: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
