#!/usr/bin/env bash
# worker-1: kubeadm reset
set -euo pipefail

if ! command -v kubeadm >/dev/null; then
  echo "worker-1: kubeadm is not installed; nothing to reset"
  exit 0
fi
kubeadm reset -f
rm -rf /etc/cni/net.d /etc/kubernetes/ironroot
echo "worker-1: reset"
