#!/usr/bin/env bash
# worker-2: drain, delete (runs on cp-1)
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
if ! kubectl get node 'worker-2' >/dev/null 2>&1; then
  echo "worker-2: not a node of the cluster (already removed)"
else
  kubectl drain 'worker-2' --ignore-daemonsets --delete-emptydir-data --timeout=300s ||
    echo "worker-2: drain did not finish in 300 s; deleting the node anyway" >&2
  kubectl delete node 'worker-2' --wait=true
fi
