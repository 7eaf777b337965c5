#!/usr/bin/env bash
# kubeadm, kubelet and kubectl 1.36.3 from pkgs.k8s.io v1.36, held
# step: kubeadm/packages
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's field
  [ "$(dpkg-query -W -f='${Version}' kubeadm 2>/dev/null)" = '1.36.3-1.1' ] &&
    [ "$(dpkg-query -W -f='${Version}' kubelet 2>/dev/null)" = '1.36.3-1.1' ] &&
    [ "$(dpkg-query -W -f='${Version}' kubectl 2>/dev/null)" = '1.36.3-1.1' ] &&
    [ "$(apt-mark showhold kubeadm kubelet kubectl | sort | tr '\n' ' ')" = 'kubeadm kubectl kubelet ' ] &&
    cmp -s /etc/apt/apt.conf.d/51ironroot-kubernetes <(printf '%s' '// Written by ironroot. The Kubernetes packages are also held (apt-mark);
  // this keeps unattended-upgrades from touching them even if a hold is lifted.
  Unattended-Upgrade::Package-Blacklist {
      "kubeadm";
      "kubelet";
      "kubectl";
      "cri-tools";
      "kubernetes-cni";
  };
  ')
}

apply() {
  if [ -f /etc/kubernetes/kubelet.conf ]; then
    # shellcheck disable=SC2016 # ${Version} is dpkg-query's field, not a shell variable
    installed=$(dpkg-query -W -f='${Version}' kubeadm 2>/dev/null || true)
    if [ -n "$installed" ] && [ "$installed" != '1.36.3-1.1' ]; then
      echo "cp-1: kubeadm $installed is installed but cluster.kubernetesVersion is 1.36.3: this cluster member is upgraded by cp-1-k8s-upgrade before its packages are touched: run pulumi up again, and see that step's error if it stops there" >&2
      exit 3
    fi
    binary=$(/usr/local/bin/kubeadm version -o short 2>/dev/null || true)
    if [ -n "$binary" ] && [ "$binary" != 'v1.36.3' ]; then
      echo "cp-1: kubeadm $binary is installed in /usr/local/bin but cluster.kubernetesVersion is 1.36.3: this cluster member is upgraded by cp-1-k8s-upgrade before its packages are touched: run pulumi up again, and see that step's error if it stops there" >&2
      exit 3
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  if ! command -v curl >/dev/null || ! command -v gpg >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 install -y curl gpg ca-certificates
  fi
  if ! curl -fsSL --retry 2 --max-time 60 'https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key' -o "$work/Release.key" 2>"$work/curl.err"; then
    echo "cp-1: cannot reach the Kubernetes package repository https://pkgs.k8s.io/core:/stable:/v1.36/deb/: $(tr '\n' ' ' <"$work/curl.err")(for hosts without internet access set cluster.offlineBundleDir)" >&2
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
    echo "cp-1: apt cannot read the Kubernetes package repository https://pkgs.k8s.io/core:/stable:/v1.36/deb/ (source removed again, apt left as it was):" >&2
    grep -E '^(W|E): ' "$work/update.log" >&2 || tail -n 5 "$work/update.log" >&2
    exit 5
  fi
  apt-get -o DPkg::Lock::Timeout=300 install -y --allow-downgrades --allow-change-held-packages kubeadm=1.36.3-1.1 kubelet=1.36.3-1.1 kubectl=1.36.3-1.1
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
}

locked_apply() {
  exec 9>>/run/ironroot-step.lock
  if ! flock -n 9; then
    echo "waiting for an earlier ironroot step that still runs on this host: $(cat /run/ironroot-step.holder 2>/dev/null || echo unknown)" >&2
    if ! flock -w 600 9; then
      echo "an earlier ironroot step still holds /run/ironroot-step.lock after 600 s: $(cat /run/ironroot-step.holder 2>/dev/null || echo unknown); see whether it still runs (ps -ef), then run again" >&2
      exit 75
    fi
    if probe; then
      echo "kubeadm/packages: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'kubeadm/packages' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "kubeadm/packages: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "kubeadm/packages: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
