#!/usr/bin/env bash
# cp-3: drain (runs on a surviving control plane)
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
if ! kubectl get node 'cp-3' >/dev/null 2>&1; then
  echo "cp-3: not a node of the cluster (already removed)"
  exit 0
fi
if ! kubectl drain 'cp-3' --ignore-daemonsets --delete-emptydir-data --timeout=300s; then
  echo "cp-3: the drain did not finish in 300 s, so nothing was removed: a PodDisruptionBudget or a pod without a controller holds it (kubectl get pods -A --field-selector spec.nodeName=cp-3); fix that and run pulumi up again" >&2
  exit 3
fi
