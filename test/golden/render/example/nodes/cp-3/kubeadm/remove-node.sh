#!/usr/bin/env bash
# cp-3: drain, delete, remove etcd member (runs on cp-1)
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
if ! kubectl get node 'cp-3' >/dev/null 2>&1; then
  echo "cp-3: not a node of the cluster (already removed)"
else
  kubectl drain 'cp-3' --ignore-daemonsets --delete-emptydir-data --timeout=300s ||
    echo "cp-3: drain did not finish in 300 s; deleting the node anyway" >&2
  kubectl delete node 'cp-3' --wait=true
fi
etcdctl() { kubectl -n kube-system exec 'etcd-cp-1' -- etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key "$@"; }
id=$(etcdctl member list | awk -F', ' -v name='cp-3' '$3 == name { print $1 }')
if [ -n "$id" ]; then
  etcdctl member remove "$id"
  echo "cp-3: etcd member $id removed"
else
  echo "cp-3: no etcd member of that name (already removed)"
fi
