#!/usr/bin/env bash
# This host is marked as a node of cluster "example"
# step: kubeadm/cluster-marker
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  [ -f '/etc/ironroot/cluster' ] && cmp -s '/etc/ironroot/cluster' <(printf '%s\n' \
    'example')
}

apply() {
  mkdir -p -- '/etc/ironroot'
  tmp=$(mktemp '/etc/ironroot/.cluster.XXXXXX')
  # shellcheck disable=SC2016,SC1003 # file content, written literally
  printf '%s\n' \
    'example' >"$tmp"
  chmod 0644 "$tmp"
  if [ -e '/etc/ironroot/cluster' ] && [ ! -f '/etc/ironroot/cluster' ] && [ ! -L '/etc/ironroot/cluster' ]; then
    aside='/etc/ironroot/cluster'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
    kind=$(stat -c %F '/etc/ironroot/cluster')
    mv -- '/etc/ironroot/cluster' "$aside"
    echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
  fi
  mv -f "$tmp" '/etc/ironroot/cluster'
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
      echo "kubeadm/cluster-marker: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'kubeadm/cluster-marker' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "kubeadm/cluster-marker: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "kubeadm/cluster-marker: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
