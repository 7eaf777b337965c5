#!/usr/bin/env bash
# Bridge netfilter and IP forwarding are set on boot (/etc/sysctl.d/99-ironroot-k8s.conf)
# step: prep/sysctl-persisted
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  printf '%s' '# Managed by ironroot; changes here are reverted on the next run.
  # Pods reach each other through a bridge and iptables, and nodes route pod traffic.
  net.bridge.bridge-nf-call-iptables = 1
  net.bridge.bridge-nf-call-ip6tables = 1
  net.ipv4.ip_forward = 1
  ' | cmp -s - '/etc/sysctl.d/99-ironroot-k8s.conf'
}

apply() {
  dest='/etc/sysctl.d/99-ironroot-k8s.conf'
  install -d -m 0755 "$(dirname "$dest")"
  tmp=$(mktemp "$dest.XXXXXX")
  printf '%s' '# Managed by ironroot; changes here are reverted on the next run.
  # Pods reach each other through a bridge and iptables, and nodes route pod traffic.
  net.bridge.bridge-nf-call-iptables = 1
  net.bridge.bridge-nf-call-ip6tables = 1
  net.ipv4.ip_forward = 1
  ' > "$tmp"
  chmod 0644 "$tmp"
  if [ -e "$dest" ] && [ ! -f "$dest" ] && [ ! -L "$dest" ]; then
    aside="$dest".ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
    kind=$(stat -c %F "$dest")
    mv -- "$dest" "$aside"
    echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
  fi
  mv -f "$tmp" "$dest"
}

if probe; then
  echo "prep/sysctl-persisted: already in place"
  exit 0
fi
apply
probe
echo "prep/sysctl-persisted: changed"
