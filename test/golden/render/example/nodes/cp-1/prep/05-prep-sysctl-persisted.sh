#!/usr/bin/env bash
# Bridge netfilter and IP forwarding are set on boot (/etc/sysctl.d/99-ironroot-k8s.conf)
# step: prep/sysctl-persisted
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  [ -f '/etc/sysctl.d/99-ironroot-k8s.conf' ] && cmp -s '/etc/sysctl.d/99-ironroot-k8s.conf' <(printf '%s\n' \
    '# Managed by ironroot; changes here are reverted on the next run.' \
    '# Pods reach each other through a bridge and iptables, and nodes route pod traffic.' \
    'net.bridge.bridge-nf-call-iptables = 1' \
    'net.bridge.bridge-nf-call-ip6tables = 1' \
    'net.ipv4.ip_forward = 1')
}

apply() {
  mkdir -p -- '/etc/sysctl.d'
  tmp=$(mktemp '/etc/sysctl.d/.99-ironroot-k8s.conf.XXXXXX')
  # shellcheck disable=SC2016,SC1003 # file content, written literally
  printf '%s\n' \
    '# Managed by ironroot; changes here are reverted on the next run.' \
    '# Pods reach each other through a bridge and iptables, and nodes route pod traffic.' \
    'net.bridge.bridge-nf-call-iptables = 1' \
    'net.bridge.bridge-nf-call-ip6tables = 1' \
    'net.ipv4.ip_forward = 1' >"$tmp"
  chmod 0644 "$tmp"
  if [ -e '/etc/sysctl.d/99-ironroot-k8s.conf' ] && [ ! -f '/etc/sysctl.d/99-ironroot-k8s.conf' ] && [ ! -L '/etc/sysctl.d/99-ironroot-k8s.conf' ]; then
    aside='/etc/sysctl.d/99-ironroot-k8s.conf'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
    kind=$(stat -c %F '/etc/sysctl.d/99-ironroot-k8s.conf')
    mv -- '/etc/sysctl.d/99-ironroot-k8s.conf' "$aside"
    echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
  fi
  mv -f "$tmp" '/etc/sysctl.d/99-ironroot-k8s.conf'
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
      echo "prep/sysctl-persisted: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'prep/sysctl-persisted' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "prep/sysctl-persisted: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "prep/sysctl-persisted: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
