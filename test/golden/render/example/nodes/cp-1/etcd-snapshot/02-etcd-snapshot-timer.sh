#!/usr/bin/env bash
# etcd is snapshotted on schedule "hourly" into /var/backups/etcd, newest 24 kept
# step: etcd-snapshot/timer
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  [ "$(sha256sum < /usr/local/sbin/ironroot-etcd-snapshot 2>/dev/null | cut -d' ' -f1)" = 214bf26f8717fc561fe0355e18f56388fbb961a6261912c0b056052681f3ca19 ] &&
  [ "$(sha256sum < /etc/systemd/system/ironroot-etcd-snapshot.service 2>/dev/null | cut -d' ' -f1)" = 4ec3376151fb77ccfbfc048b696df84e0e720821ff59b943513923c58ea938cf ] &&
  [ "$(sha256sum < /etc/systemd/system/ironroot-etcd-snapshot.timer 2>/dev/null | cut -d' ' -f1)" = fff004eb085454688530bbc677c9ebbb1cd23b31f2bc3212a10459b91a258fe3 ] &&
  systemctl is-enabled --quiet ironroot-etcd-snapshot.timer &&
  systemctl is-active --quiet ironroot-etcd-snapshot.timer
}

apply() {
  mkdir -p -- '/usr/local/sbin'
  tmp=$(mktemp '/usr/local/sbin/.ironroot-etcd-snapshot.XXXXXX')
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
    '  done' >"$tmp"
  chmod 0755 "$tmp"
  if [ -e '/usr/local/sbin/ironroot-etcd-snapshot' ] && [ ! -f '/usr/local/sbin/ironroot-etcd-snapshot' ] && [ ! -L '/usr/local/sbin/ironroot-etcd-snapshot' ]; then
    aside='/usr/local/sbin/ironroot-etcd-snapshot'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
    kind=$(stat -c %F '/usr/local/sbin/ironroot-etcd-snapshot')
    mv -- '/usr/local/sbin/ironroot-etcd-snapshot' "$aside"
    echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
  fi
  mv -f "$tmp" '/usr/local/sbin/ironroot-etcd-snapshot'
  mkdir -p -- '/etc/systemd/system'
  tmp=$(mktemp '/etc/systemd/system/.ironroot-etcd-snapshot.service.XXXXXX')
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
    'IOSchedulingClass=idle' >"$tmp"
  chmod 0644 "$tmp"
  if [ -e '/etc/systemd/system/ironroot-etcd-snapshot.service' ] && [ ! -f '/etc/systemd/system/ironroot-etcd-snapshot.service' ] && [ ! -L '/etc/systemd/system/ironroot-etcd-snapshot.service' ]; then
    aside='/etc/systemd/system/ironroot-etcd-snapshot.service'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
    kind=$(stat -c %F '/etc/systemd/system/ironroot-etcd-snapshot.service')
    mv -- '/etc/systemd/system/ironroot-etcd-snapshot.service' "$aside"
    echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
  fi
  mv -f "$tmp" '/etc/systemd/system/ironroot-etcd-snapshot.service'
  mkdir -p -- '/etc/systemd/system'
  tmp=$(mktemp '/etc/systemd/system/.ironroot-etcd-snapshot.timer.XXXXXX')
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
    'WantedBy=timers.target' >"$tmp"
  chmod 0644 "$tmp"
  if [ -e '/etc/systemd/system/ironroot-etcd-snapshot.timer' ] && [ ! -f '/etc/systemd/system/ironroot-etcd-snapshot.timer' ] && [ ! -L '/etc/systemd/system/ironroot-etcd-snapshot.timer' ]; then
    aside='/etc/systemd/system/ironroot-etcd-snapshot.timer'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
    kind=$(stat -c %F '/etc/systemd/system/ironroot-etcd-snapshot.timer')
    mv -- '/etc/systemd/system/ironroot-etcd-snapshot.timer' "$aside"
    echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
  fi
  mv -f "$tmp" '/etc/systemd/system/ironroot-etcd-snapshot.timer'
  systemctl daemon-reload
  systemctl enable ironroot-etcd-snapshot.timer
  systemctl restart ironroot-etcd-snapshot.timer
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
      echo "etcd-snapshot/timer: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'etcd-snapshot/timer' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "etcd-snapshot/timer: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "etcd-snapshot/timer: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
