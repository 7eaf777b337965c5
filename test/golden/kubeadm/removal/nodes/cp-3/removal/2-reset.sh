#!/usr/bin/env bash
# cp-3: kubeadm reset
set -euo pipefail

if ! command -v kubeadm >/dev/null; then
  echo "cp-3: kubeadm is not installed; nothing to reset"
  exit 0
fi
kubeadm reset -f
rm -rf /etc/cni/net.d /etc/kubernetes/ironroot
for link in cni0 flannel.1; do
  if ip link show "$link" >/dev/null 2>&1; then
    ip link delete "$link"
    echo "cp-3: removed the pod network's $link, which kubeadm reset leaves behind"
  fi
done
rm -rf /var/lib/cni
echo "cp-3: reset"
