#!/usr/bin/env bash
# cp-3: kubeadm reset
set -euo pipefail

if ! command -v kubeadm >/dev/null; then
  echo "cp-3: kubeadm is not installed; nothing to reset"
  exit 0
fi
kubeadm reset -f
rm -rf /etc/cni/net.d /etc/kubernetes/ironroot
echo "cp-3: reset"
