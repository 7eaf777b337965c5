#!/usr/bin/env bash
# No package operation was left half-done (dpkg --audit finds nothing)
# step: prep/dpkg-consistent
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  [ -z "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ] && [ -z "$(dpkg --audit 2>/dev/null)" ]
}

apply() {
  export DEBIAN_FRONTEND=noninteractive
  echo "an earlier package run was interrupted; finishing it with dpkg --configure -a. dpkg --audit said:" >&2
  dpkg --audit 2>&1 | sed 's/^/  /' >&2 || true
  dpkg --force-confdef --force-confold --configure -a
  apt-get -o DPkg::Lock::Timeout=300 -q install -f -y
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
      echo "prep/dpkg-consistent: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'prep/dpkg-consistent' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "prep/dpkg-consistent: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "prep/dpkg-consistent: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
