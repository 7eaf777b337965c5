#!/usr/bin/env bash
# cp-3: leave etcd and the Node list (runs on a surviving control plane)
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
pod=$(kubectl -n kube-system get pods -l component=etcd --field-selector=status.phase=Running,spec.nodeName!='cp-3' -o jsonpath='{.items[0].metadata.name}' 2>/dev/null || true)
if [ -z "$pod" ]; then
  echo "cp-3: no running etcd on another control plane to remove the member through" >&2
  exit 4
fi
etcdctl() { kubectl -n kube-system exec "$pod" -- etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key "$@"; }
ids=$(etcdctl member list | awk -F', ' -v name='cp-3' -v peer='https://192.0.2.13:2380' '$3 == name || $4 == peer { print $1 }')
if [ -z "$ids" ]; then
  echo "cp-3: no etcd member (already removed)"
fi
for id in $ids; do
  etcdctl member remove "$id"
  echo "cp-3: etcd member $id removed (through $pod)"
done
kubectl delete node 'cp-3' --ignore-not-found --wait=true
echo "cp-3: removed from the cluster"
