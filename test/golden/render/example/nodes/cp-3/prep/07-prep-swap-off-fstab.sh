#!/usr/bin/env bash
# No swap is enabled in /etc/fstab
# step: prep/swap-off-fstab
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  [ ! -e /etc/fstab ] || ! grep -Eq '^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab
}

apply() {
  [ -e /etc/fstab.ironroot.bak ] || cp -p /etc/fstab /etc/fstab.ironroot.bak
  sed -i -E 's/(^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$/# disabled by ironroot, Kubernetes needs swap off: \1/' /etc/fstab
}

if probe; then
  echo "prep/swap-off-fstab: already in place"
  exit 0
fi
apply
probe
echo "prep/swap-off-fstab: changed"
