#!/usr/bin/env bash
# haproxy on 127.0.0.1 forwards to every control plane's API server
# step: kubeadm/local-lb
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  [ -f '/etc/haproxy/haproxy.cfg' ] && cmp -s '/etc/haproxy/haproxy.cfg' <(printf '%s\n' \
    '# Written by ironroot: the node-local API server load balancer (cluster.endpoint.mode: local-lb).' \
    '# Changes here are overwritten on the next run.' \
    'global' \
    '    maxconn 4000' \
    '' \
    'defaults' \
    '    mode tcp' \
    '    timeout connect 5s' \
    '    # watches and exec/log streams stay open for a long time' \
    '    timeout client 1h' \
    '    timeout server 1h' \
    '    timeout check 3s' \
    '' \
    'frontend kube-apiserver' \
    '    bind 127.0.0.1:6444' \
    '    default_backend control-planes' \
    '' \
    'backend control-planes' \
    '    balance roundrobin' \
    '    option httpchk' \
    '    http-check send meth GET uri /readyz' \
    '    http-check expect status 200' \
    '    default-server check check-ssl verify none inter 2s fall 3 rise 2 on-marked-down shutdown-sessions' \
    '    server cp-1 192.0.2.10:6443') &&
    systemctl is-enabled --quiet haproxy &&
    systemctl is-active --quiet haproxy
}

apply() {
  export DEBIAN_FRONTEND=noninteractive
  if ! command -v haproxy >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=300 install -y haproxy ||
      { apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y haproxy; }
  fi
  mkdir -p -- '/etc/haproxy'
  tmp=$(mktemp '/etc/haproxy/.haproxy.cfg.ironroot-new.XXXXXX')
  # shellcheck disable=SC2016,SC1003 # file content, written literally
  printf '%s\n' \
    '# Written by ironroot: the node-local API server load balancer (cluster.endpoint.mode: local-lb).' \
    '# Changes here are overwritten on the next run.' \
    'global' \
    '    maxconn 4000' \
    '' \
    'defaults' \
    '    mode tcp' \
    '    timeout connect 5s' \
    '    # watches and exec/log streams stay open for a long time' \
    '    timeout client 1h' \
    '    timeout server 1h' \
    '    timeout check 3s' \
    '' \
    'frontend kube-apiserver' \
    '    bind 127.0.0.1:6444' \
    '    default_backend control-planes' \
    '' \
    'backend control-planes' \
    '    balance roundrobin' \
    '    option httpchk' \
    '    http-check send meth GET uri /readyz' \
    '    http-check expect status 200' \
    '    default-server check check-ssl verify none inter 2s fall 3 rise 2 on-marked-down shutdown-sessions' \
    '    server cp-1 192.0.2.10:6443' >"$tmp"
  chmod 0644 "$tmp"
  if [ -e '/etc/haproxy/haproxy.cfg.ironroot-new' ] && [ ! -f '/etc/haproxy/haproxy.cfg.ironroot-new' ] && [ ! -L '/etc/haproxy/haproxy.cfg.ironroot-new' ]; then
    aside='/etc/haproxy/haproxy.cfg.ironroot-new'.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
    kind=$(stat -c %F '/etc/haproxy/haproxy.cfg.ironroot-new')
    mv -- '/etc/haproxy/haproxy.cfg.ironroot-new' "$aside"
    echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
  fi
  mv -f "$tmp" '/etc/haproxy/haproxy.cfg.ironroot-new'
  haproxy -c -q -f /etc/haproxy/haproxy.cfg.ironroot-new
  mv -f /etc/haproxy/haproxy.cfg.ironroot-new /etc/haproxy/haproxy.cfg
  systemctl enable --quiet haproxy
  systemctl reload-or-restart haproxy
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
      echo "kubeadm/local-lb: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'kubeadm/local-lb' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "kubeadm/local-lb: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "kubeadm/local-lb: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
