#!/usr/bin/env bash
# No swap is active
# step: prep/swap-off-now
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  ! awk 'NR > 1 { found = 1 } END { exit !found }' /proc/swaps
}

apply() {
  swapoff -a
}

if probe; then
  echo "prep/swap-off-now: already in place"
  exit 0
fi
apply
probe
echo "prep/swap-off-now: changed"
