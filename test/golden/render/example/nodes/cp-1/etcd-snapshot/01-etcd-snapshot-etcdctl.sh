#!/usr/bin/env bash
# etcdctl is installed
# step: etcd-snapshot/etcdctl
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  [ -x /usr/bin/etcdctl ]
}

apply() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -q
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends etcd-client
}

if probe; then
  echo "etcd-snapshot/etcdctl: already in place"
  exit 0
fi
apply
probe
echo "etcd-snapshot/etcdctl: changed"
