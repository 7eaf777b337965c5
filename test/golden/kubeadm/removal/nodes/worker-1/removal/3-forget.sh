#!/usr/bin/env bash
# worker-1: leave etcd and the Node list (runs on a surviving control plane)
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
kubectl delete node 'worker-1' --ignore-not-found --wait=true
echo "worker-1: removed from the cluster"
