#!/usr/bin/env bash
# worker-1: drain, delete (runs on cp-1)
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
if ! kubectl get node 'worker-1' >/dev/null 2>&1; then
  echo "worker-1: not a node of the cluster (already removed)"
else
  kubectl drain 'worker-1' --ignore-daemonsets --delete-emptydir-data --timeout=300s ||
    echo "worker-1: drain did not finish in 300 s; deleting the node anyway" >&2
  kubectl delete node 'worker-1' --wait=true
fi
