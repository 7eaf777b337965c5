#!/usr/bin/env bash
# etcdctl is installed
# step: etcd-snapshot/etcdctl
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  [ -x /usr/bin/etcdctl ]
}

apply() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -q
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends etcd-client
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
      echo "etcd-snapshot/etcdctl: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'etcd-snapshot/etcdctl' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "etcd-snapshot/etcdctl: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "etcd-snapshot/etcdctl: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
