#!/usr/bin/env bash
# Kernel modules overlay, br_netfilter load on boot (/etc/modules-load.d/ironroot-k8s.conf)
# step: prep/modules-on-boot
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  printf '%s' '# Managed by ironroot; changes here are reverted on the next run.
  # Kernel modules Kubernetes networking and containerd need.
  overlay
  br_netfilter
  ' | cmp -s - '/etc/modules-load.d/ironroot-k8s.conf'
}

apply() {
  dest='/etc/modules-load.d/ironroot-k8s.conf'
  install -d -m 0755 "$(dirname "$dest")"
  tmp=$(mktemp "$dest.XXXXXX")
  printf '%s' '# Managed by ironroot; changes here are reverted on the next run.
  # Kernel modules Kubernetes networking and containerd need.
  overlay
  br_netfilter
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
  echo "prep/modules-on-boot: already in place"
  exit 0
fi
apply
probe
echo "prep/modules-on-boot: changed"
