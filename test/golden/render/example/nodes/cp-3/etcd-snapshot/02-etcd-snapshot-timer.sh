#!/usr/bin/env bash
# etcd is snapshotted on schedule "hourly" into /var/backups/etcd, newest 24 kept
# step: etcd-snapshot/timer
# The probe is read-only; the change runs only when the probe fails.
set -euo pipefail

probe() {
  [ "$(sha256sum < /usr/local/sbin/ironroot-etcd-snapshot 2>/dev/null | cut -d' ' -f1)" = 214bf26f8717fc561fe0355e18f56388fbb961a6261912c0b056052681f3ca19 ] &&
  [ "$(sha256sum < /etc/systemd/system/ironroot-etcd-snapshot.service 2>/dev/null | cut -d' ' -f1)" = 4ec3376151fb77ccfbfc048b696df84e0e720821ff59b943513923c58ea938cf ] &&
  [ "$(sha256sum < /etc/systemd/system/ironroot-etcd-snapshot.timer 2>/dev/null | cut -d' ' -f1)" = fff004eb085454688530bbc677c9ebbb1cd23b31f2bc3212a10459b91a258fe3 ] &&
  systemctl is-enabled --quiet ironroot-etcd-snapshot.timer &&
  systemctl is-active --quiet ironroot-etcd-snapshot.timer
}

apply() {
  install -d -m 0755 /usr/local/sbin
  # shellcheck disable=SC2016,SC1003 # file content, written literally
  printf '%s\n' \
    '#!/usr/bin/env bash' \
    '# Snapshot the local etcd member and keep the newest snapshots (ironroot).' \
    'set -euo pipefail' \
    '# A snapshot holds every Secret of the cluster: readable by root only.' \
    'umask 077' \
    'dir=/var/backups/etcd' \
    'keep=24' \
    'mkdir -p "$dir"' \
    'chmod 0700 "$dir"' \
    'stamp=$(date -u +%Y%m%dT%H%M%S.%NZ)' \
    'part="$dir/.etcd-snapshot-$stamp.db.part"' \
    'trap '\''rm -f "$part"'\'' EXIT' \
    'ETCDCTL_API=3 /usr/bin/etcdctl --endpoints=https://127.0.0.1:2379 --command-timeout=300s \' \
    '  --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key \' \
    '  snapshot save "$part"' \
    'mv "$part" "$dir/etcd-snapshot-$stamp.db"' \
    'echo "saved $dir/etcd-snapshot-$stamp.db"' \
    'find "$dir" -maxdepth 1 -type f -name '\''etcd-snapshot-*.db'\'' -printf '\''%f\n'\'' | sort -r | tail -n +$((keep + 1)) |' \
    '  while IFS= read -r old; do' \
    '    rm -f -- "${dir:?}/$old"' \
    '    echo "removed $dir/$old (retention: $keep)"' \
    '  done' \
    > /usr/local/sbin/ironroot-etcd-snapshot.ironroot-new
  chmod 0755 /usr/local/sbin/ironroot-etcd-snapshot.ironroot-new
  mv /usr/local/sbin/ironroot-etcd-snapshot.ironroot-new /usr/local/sbin/ironroot-etcd-snapshot
  install -d -m 0755 /etc/systemd/system
  # shellcheck disable=SC2016,SC1003 # file content, written literally
  printf '%s\n' \
    '[Unit]' \
    'Description=etcd snapshot with retention (ironroot)' \
    'After=network-online.target' \
    '' \
    '[Service]' \
    'Type=oneshot' \
    'ExecStart=/usr/local/sbin/ironroot-etcd-snapshot' \
    'Nice=10' \
    'IOSchedulingClass=idle' \
    > /etc/systemd/system/ironroot-etcd-snapshot.service.ironroot-new
  chmod 0644 /etc/systemd/system/ironroot-etcd-snapshot.service.ironroot-new
  mv /etc/systemd/system/ironroot-etcd-snapshot.service.ironroot-new /etc/systemd/system/ironroot-etcd-snapshot.service
  install -d -m 0755 /etc/systemd/system
  # shellcheck disable=SC2016,SC1003 # file content, written literally
  printf '%s\n' \
    '[Unit]' \
    'Description=Scheduled etcd snapshots (ironroot)' \
    '' \
    '[Timer]' \
    'OnCalendar=hourly' \
    'Persistent=true' \
    'Unit=ironroot-etcd-snapshot.service' \
    '' \
    '[Install]' \
    'WantedBy=timers.target' \
    > /etc/systemd/system/ironroot-etcd-snapshot.timer.ironroot-new
  chmod 0644 /etc/systemd/system/ironroot-etcd-snapshot.timer.ironroot-new
  mv /etc/systemd/system/ironroot-etcd-snapshot.timer.ironroot-new /etc/systemd/system/ironroot-etcd-snapshot.timer
  systemctl daemon-reload
  systemctl enable ironroot-etcd-snapshot.timer
  systemctl restart ironroot-etcd-snapshot.timer
}

if probe; then
  echo "etcd-snapshot/timer: already in place"
  exit 0
fi
apply
probe
echo "etcd-snapshot/timer: changed"
