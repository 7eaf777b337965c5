#!/usr/bin/env bash
# cp-1: kubeadm init (first control plane)
set -euo pipefail

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
if [ -f /etc/kubernetes/admin.conf ]; then
  if kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz >/dev/null 2>&1; then
    echo "cp-1: the cluster is already initialised; not running kubeadm init again"
    exit 0
  fi
  echo "cp-1: /etc/kubernetes/admin.conf exists but the API server is not ready: a previous kubeadm init stopped halfway; run \`kubeadm reset -f\` on cp-1 and re-run" >&2
  exit 6
fi
for link in cni0 flannel.1; do
  if ip link show "$link" >/dev/null 2>&1; then
    ip link delete "$link"
    echo "cp-1: removed the pod network's $link, which kubeadm reset leaves behind"
  fi
done
rm -rf /var/lib/cni
install -d -m 0700 /etc/kubernetes/ironroot
mkdir -p -- '/etc/kubernetes/kubelet.conf.d'
tmp=$(mktemp '/etc/kubernetes/kubelet.conf.d/.50-ironroot-reservations.conf.XXXXXX')
# shellcheck disable=SC2016,SC1003 # file content, written literally
printf '%s\n' \
  'apiVersion: kubelet.config.k8s.io/v1beta1' \
  'kind: KubeletConfiguration' \
  'maxPods: 110' \
  '# cp-1' >"$tmp"
chmod 0644 "$tmp"
if [ -e '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf' ] && [ ! -f '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf' ] && [ ! -L '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf' ]; then
  aside='/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
  kind=$(stat -c %F '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf')
  mv -- '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf' "$aside"
  echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
fi
mv -f "$tmp" '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf'
mkdir -p -- '/etc/kubernetes/ironroot'
tmp=$(mktemp '/etc/kubernetes/ironroot/.kubeadm-init.yaml.XXXXXX')
# shellcheck disable=SC2016,SC1003 # file content, written literally
printf '%s\n' \
  'apiVersion: kubeadm.k8s.io/v1beta4' \
  'kind: InitConfiguration' \
  'localAPIEndpoint:' \
  '  advertiseAddress: 192.0.2.10' \
  '  bindPort: 6443' \
  'nodeRegistration:' \
  '  name: cp-1' \
  '  criSocket: unix:///run/containerd/containerd.sock' \
  '  taints:' \
  '    - key: node-role.kubernetes.io/control-plane' \
  '      effect: NoSchedule' \
  '  kubeletExtraArgs:' \
  '    - name: config-dir' \
  '      value: /etc/kubernetes/kubelet.conf.d' \
  '---' \
  'apiVersion: kubeadm.k8s.io/v1beta4' \
  'kind: ClusterConfiguration' \
  'clusterName: dns' \
  'kubernetesVersion: v1.36.3' \
  'controlPlaneEndpoint: api.example.org:443' \
  'networking:' \
  '  podSubnet: 10.244.0.0/16' \
  '  serviceSubnet: 10.96.0.0/12' \
  'apiServer:' \
  '  certSANs:' \
  '    - 127.0.0.1' \
  '    - localhost' \
  '    - 192.0.2.10' \
  '    - api.example.org' \
  'etcd:' \
  '  local:' \
  '    dataDir: /var/lib/etcd' \
  '---' \
  'apiVersion: kubelet.config.k8s.io/v1beta1' \
  'kind: KubeletConfiguration' \
  'cgroupDriver: systemd' >"$tmp"
chmod 0600 "$tmp"
if [ -e '/etc/kubernetes/ironroot/kubeadm-init.yaml' ] && [ ! -f '/etc/kubernetes/ironroot/kubeadm-init.yaml' ] && [ ! -L '/etc/kubernetes/ironroot/kubeadm-init.yaml' ]; then
  aside='/etc/kubernetes/ironroot/kubeadm-init.yaml'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
  kind=$(stat -c %F '/etc/kubernetes/ironroot/kubeadm-init.yaml')
  mv -- '/etc/kubernetes/ironroot/kubeadm-init.yaml' "$aside"
  echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
fi
mv -f "$tmp" '/etc/kubernetes/ironroot/kubeadm-init.yaml'
kubeadm init --config /etc/kubernetes/ironroot/kubeadm-init.yaml --upload-certs --skip-token-print --skip-certificate-key-print
echo "cp-1: cluster initialised"
