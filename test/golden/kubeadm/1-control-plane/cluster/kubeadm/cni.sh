#!/usr/bin/env bash
# Calico v3.30.3 (VXLAN) as the CNI
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
running=$(kubectl -n kube-system get daemonset calico-node -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null || true)
case "$running" in
  *:v3.30.3) echo "calico v3.30.3 is already installed"; exit 0 ;;
esac
manifest=$(mktemp -d)
trap 'rm -rf "$manifest"' EXIT
curl -fsSL --retry 3 -o "$manifest/upstream.yaml" 'https://raw.githubusercontent.com/projectcalico/calico/v3.30.3/manifests/calico-vxlan.yaml'
awk 'prev ~ /- name: CALICO_IPV4POOL_VXLAN$/ && $1 == "value:" { sub(/value:.*/, "value: \"Always\""); n++ } { print; prev = $0 } END { exit n == 1 ? 0 : 3 }' "$manifest/upstream.yaml" >"$manifest/calico.yaml" || {
  echo "the Calico manifest does not set CALICO_IPV4POOL_VXLAN exactly once, so ironroot cannot make the pool encapsulate all traffic (Always): check cluster.calicoVersion against docs/kubernetes.md" >&2
  exit 3
}
kubectl apply --server-side --force-conflicts -f "$manifest/calico.yaml"
kubectl -n kube-system rollout status daemonset/calico-node --timeout=600s
echo "calico v3.30.3 installed (pod network 10.244.0.0/16)"
