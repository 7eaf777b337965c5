#!/usr/bin/env bash
# No package operation was left half-done (dpkg --audit finds nothing)
# step: prep/dpkg-consistent
# The probe is read-only; the change runs only when the probe fails.
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

if probe; then
  echo "prep/dpkg-consistent: already in place"
  exit 0
fi
apply
probe
echo "prep/dpkg-consistent: changed"
