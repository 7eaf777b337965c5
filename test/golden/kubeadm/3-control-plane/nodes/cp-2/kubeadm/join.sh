#!/usr/bin/env bash
# cp-2: kubeadm join (control plane); credentials on stdin
set -euo pipefail

if [ -f /etc/kubernetes/kubelet.conf ]; then
  # shellcheck disable=SC2016 # ${Version} is dpkg-query's field, not a shell variable
  installed=$(dpkg-query -W -f='${Version}' kubeadm 2>/dev/null || true)
  if [ -n "$installed" ] && [ "$installed" != '1.36.3-1.1' ]; then
    echo "cp-2: kubeadm $installed is installed but cluster.kubernetesVersion is 1.36.3: this cluster member is upgraded by cp-2-k8s-upgrade before its packages are touched: run pulumi up again, and see that step's error if it stops there" >&2
    exit 3
  fi
  binary=$(/usr/local/bin/kubeadm version -o short 2>/dev/null || true)
  if [ -n "$binary" ] && [ "$binary" != 'v1.36.3' ]; then
    echo "cp-2: kubeadm $binary is installed in /usr/local/bin but cluster.kubernetesVersion is 1.36.3: this cluster member is upgraded by cp-2-k8s-upgrade before its packages are touched: run pulumi up again, and see that step's error if it stops there" >&2
    exit 3
  fi
fi
if [ -f /etc/kubernetes/kubelet.conf ]; then
  echo "cp-2: already a member of the cluster; not joining again"
  exit 0
fi
token='' certificateKey='' caCertHash=''
while IFS='=' read -r key value || [ -n "$key" ]; do
  case "$key" in
    token) token=$value ;;
    certificateKey) certificateKey=$value ;;
    caCertHash) caCertHash=$value ;;
  esac
done
if [ -z "$token" ] || [ -z "$caCertHash" ] || [ -z "$certificateKey" ]; then
  echo "cp-2: kubeadm join: the join credentials on stdin are incomplete (expected token, caCertHash, certificateKey)" >&2
  exit 2
fi
for link in cni0 flannel.1; do
  if ip link show "$link" >/dev/null 2>&1; then
    ip link delete "$link"
    echo "cp-2: removed the pod network's $link, which kubeadm reset leaves behind"
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
  '# cp-2' >"$tmp"
chmod 0644 "$tmp"
if [ -e '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf' ] && [ ! -f '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf' ] && [ ! -L '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf' ]; then
  aside='/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
  kind=$(stat -c %F '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf')
  mv -- '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf' "$aside"
  echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
fi
mv -f "$tmp" '/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf'
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config=$(printf '%s\n' \
  'apiVersion: kubeadm.k8s.io/v1beta4' \
  'kind: JoinConfiguration' \
  'discovery:' \
  '  bootstrapToken:' \
  '    apiServerEndpoint: 127.0.0.1:6444' \
  '    token: <secret:bootstrapToken>' \
  '    caCertHashes:' \
  '      - <runtime:caCertHash>' \
  'nodeRegistration:' \
  '  name: cp-2' \
  '  criSocket: unix:///run/containerd/containerd.sock' \
  '  taints:' \
  '    - key: node-role.kubernetes.io/control-plane' \
  '      effect: NoSchedule' \
  '  kubeletExtraArgs:' \
  '    - name: config-dir' \
  '      value: /etc/kubernetes/kubelet.conf.d' \
  'controlPlane:' \
  '  localAPIEndpoint:' \
  '    advertiseAddress: 192.0.2.12' \
  '    bindPort: 6443' \
  '  certificateKey: <secret:certificateKey>')
config=${config//'<secret:bootstrapToken>'/"$token"}
config=${config//'<secret:certificateKey>'/"$certificateKey"}
config=${config//'<runtime:caCertHash>'/"$caCertHash"}
printf '%s\n' "$config" >"$work/kubeadm-join.yaml"
kubeadm join --config "$work/kubeadm-join.yaml"
echo "cp-2: joined the cluster as a control plane"
