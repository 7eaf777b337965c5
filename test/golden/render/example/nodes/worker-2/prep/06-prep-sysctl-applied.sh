#!/usr/bin/env bash
# Kernel settings net.bridge.bridge-nf-call-iptables=1, net.bridge.bridge-nf-call-ip6tables=1, net.ipv4.ip_forward=1 are in effect
# step: prep/sysctl-applied
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  [ "$(sysctl -n net.bridge.bridge-nf-call-iptables 2>/dev/null)" = 1 ] &&
    [ "$(sysctl -n net.bridge.bridge-nf-call-ip6tables 2>/dev/null)" = 1 ] &&
    [ "$(sysctl -n net.ipv4.ip_forward 2>/dev/null)" = 1 ]
}

apply() {
  sysctl -q -w net.bridge.bridge-nf-call-iptables=1 -w net.bridge.bridge-nf-call-ip6tables=1 -w net.ipv4.ip_forward=1
}

if probe; then
  echo "prep/sysctl-applied: already in place"
  exit 0
fi
apply
probe
echo "prep/sysctl-applied: changed"
