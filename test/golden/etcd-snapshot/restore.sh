if command -v etcdutl >/dev/null; then
  etcdutl snapshot restore /var/backups/etcd/etcd-snapshot-20260101T000000.000000000Z.db --data-dir=/var/lib/etcd-restored --name=cp-1 --initial-advertise-peer-urls=https://10.0.0.11:2380 --initial-cluster=cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380
else
  ETCDCTL_API=3 etcdctl snapshot restore /var/backups/etcd/etcd-snapshot-20260101T000000.000000000Z.db --data-dir=/var/lib/etcd-restored --name=cp-1 --initial-advertise-peer-urls=https://10.0.0.11:2380 --initial-cluster=cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380
fi