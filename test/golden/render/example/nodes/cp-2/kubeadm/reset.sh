#!/usr/bin/env bash
# cp-2: kubeadm reset
set -euo pipefail

if ! command -v kubeadm >/dev/null; then
  echo "cp-2: kubeadm is not installed; nothing to reset"
  exit 0
fi
kubeadm reset -f
rm -rf /etc/cni/net.d /etc/kubernetes/ironroot
echo "cp-2: reset"
