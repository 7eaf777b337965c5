#!/usr/bin/env bash
# an etcd snapshot before the upgrade
set -euo pipefail

# Snapshot the local etcd member and keep the newest snapshots (ironroot).
set -euo pipefail
# A snapshot holds every Secret of the cluster: readable by root only.
umask 077
dir=/var/backups/etcd
keep=24
mkdir -p "$dir"
chmod 0700 "$dir"
stamp=$(date -u +%Y%m%dT%H%M%S.%NZ)
part="$dir/.etcd-snapshot-$stamp.db.part"
trap 'rm -f "$part"' EXIT
ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=https://127.0.0.1:2379 --command-timeout=300s \
  --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key \
  snapshot save "$part"
mv "$part" "$dir/etcd-snapshot-$stamp.db"
echo "saved $dir/etcd-snapshot-$stamp.db"
find "$dir" -maxdepth 1 -type f -name 'etcd-snapshot-*.db' -printf '%f\n' | sort -r | tail -n +$((keep + 1)) |
  while IFS= read -r old; do
    rm -f -- "${dir:?}/$old"
    echo "removed $dir/$old (retention: $keep)"
  done

