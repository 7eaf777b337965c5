#!/usr/bin/env bash
# Kernel modules overlay, br_netfilter are loaded
# step: prep/modules-loaded
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  grep -qw overlay /proc/filesystems &&
    [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]
}

apply() {
  modprobe overlay
  modprobe br_netfilter
}

if probe; then
  echo "prep/modules-loaded: already in place"
  exit 0
fi
apply
probe
echo "prep/modules-loaded: changed"
