#!/usr/bin/env bash
# No scheduled etcd snapshots
# step: etcd-snapshot/absent
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  ! systemctl is-enabled --quiet ironroot-etcd-snapshot.timer 2>/dev/null && [ ! -e /etc/systemd/system/ironroot-etcd-snapshot.timer ]
}

apply() {
  systemctl disable --now ironroot-etcd-snapshot.timer 2>/dev/null || true
  rm -f /etc/systemd/system/ironroot-etcd-snapshot.timer /etc/systemd/system/ironroot-etcd-snapshot.service /usr/local/sbin/ironroot-etcd-snapshot
  systemctl daemon-reload
}

if probe; then
  echo "etcd-snapshot/absent: already in place"
  exit 0
fi
apply
probe
echo "etcd-snapshot/absent: changed"
