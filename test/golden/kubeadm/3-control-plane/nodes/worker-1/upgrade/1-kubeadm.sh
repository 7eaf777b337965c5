#!/usr/bin/env bash
# worker-1: kubeadm 1.36.3 for the upgrade
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! command -v curl >/dev/null || ! command -v gpg >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=300 install -y curl gpg ca-certificates
fi
if ! curl -fsSL --retry 2 --max-time 60 'https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key' -o "$work/Release.key" 2>"$work/curl.err"; then
  echo "worker-1: cannot reach the Kubernetes package repository https://pkgs.k8s.io/core:/stable:/v1.36/deb/: $(tr '\n' ' ' <"$work/curl.err")(for hosts without internet access set cluster.offlineBundleDir)" >&2
  exit 5
fi
gpg --batch --yes --dearmor -o "$work/keyring.gpg" "$work/Release.key"
install -d -m 0755 /etc/apt/keyrings
install -m 0644 "$work/keyring.gpg" /etc/apt/keyrings/kubernetes-apt-keyring.gpg
printf '%s\n' 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.36/deb/ /' >"$work/kubernetes.list"
install -m 0644 "$work/kubernetes.list" /etc/apt/sources.list.d/kubernetes.list
if ! apt-get -o DPkg::Lock::Timeout=300 update -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/kubernetes.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >"$work/update.log" 2>&1 ||
   grep -qE '^(W|E): ' "$work/update.log"; then
  rm -f /etc/apt/sources.list.d/kubernetes.list
  echo "worker-1: apt cannot read the Kubernetes package repository https://pkgs.k8s.io/core:/stable:/v1.36/deb/ (source removed again, apt left as it was):" >&2
  grep -E '^(W|E): ' "$work/update.log" >&2 || tail -n 5 "$work/update.log" >&2
  exit 5
fi
apt-get -o DPkg::Lock::Timeout=300 install -y --allow-downgrades --allow-change-held-packages kubeadm=1.36.3-1.1
apt-mark hold kubeadm kubelet kubectl >/dev/null
printf '%s' '// Written by ironroot. The Kubernetes packages are also held (apt-mark);
// this keeps unattended-upgrades from touching them even if a hold is lifted.
Unattended-Upgrade::Package-Blacklist {
    "kubeadm";
    "kubelet";
    "kubectl";
    "cri-tools";
    "kubernetes-cni";
};
' >"$work/blacklist"
install -m 0644 "$work/blacklist" /etc/apt/apt.conf.d/51ironroot-kubernetes
systemctl enable --quiet kubelet
