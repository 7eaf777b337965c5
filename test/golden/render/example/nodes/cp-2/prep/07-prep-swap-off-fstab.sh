#!/usr/bin/env bash
# No swap is enabled in /etc/fstab
# step: prep/swap-off-fstab
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  [ ! -e /etc/fstab ] || ! grep -Eq '^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab
}

apply() {
  [ -e /etc/fstab.ironroot.bak ] || cp -p /etc/fstab /etc/fstab.ironroot.bak
  sed -i -E 's/(^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$/# disabled by ironroot, Kubernetes needs swap off: \1/' /etc/fstab
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
      echo "prep/swap-off-fstab: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'prep/swap-off-fstab' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "prep/swap-off-fstab: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "prep/swap-off-fstab: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
