#!/usr/bin/env bash
# wait until 3 node(s) are Ready (at most 300 s)
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
want=('cp-1' 'cp-2' 'cp-3')
deadline=$((SECONDS + 300))
while :; do
  status=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null || true)
  missing=()
  for n in "${want[@]}"; do
    s=$(printf '%s\n' "$status" | sed -n "s/^$n=//p")
    case "$s" in
      True) ;;
      "") missing+=("$n (not registered)") ;;
      *) missing+=("$n (Ready=$s)") ;;
    esac
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "all ${#want[@]} node(s) are Ready"
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    list=$(printf '%s, ' "${missing[@]}")
    echo "nodes not Ready after 300 s: ${list%, }" >&2
    exit 7
  fi
  sleep 5
done
left=$((deadline - SECONDS > 30 ? deadline - SECONDS : 30))
if ! kubectl -n kube-system rollout status deployment/coredns --timeout="${left}s"; then
  echo "CoreDNS did not become available: pods cannot resolve names; see kubectl -n kube-system get pods -l k8s-app=kube-dns" >&2
  exit 7
fi
