#!/usr/bin/env bash
# containerd runs with the systemd cgroup driver (SystemdCgroup = true) and kubeadm's sandbox image registry.k8s.io/pause:3.10.2
# step: prep/containerd-config
# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.
set -euo pipefail

probe() {
  grep -Eq '^[[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*true' /etc/containerd/config.toml 2>/dev/null &&
    grep -Eq '^[[:space:]]*(sandbox_image|sandbox)[[:space:]]*=[[:space:]]*"registry\.k8s\.io/pause:3\.10\.2"' /etc/containerd/config.toml &&
    systemctl is-active --quiet containerd
}

apply() {
  cfg=/etc/containerd/config.toml
  install -d -m 0755 "$(dirname "$cfg")"
  tmp=$(mktemp "$cfg.XXXXXX")
  if grep -Eq '^[[:space:]]*SystemdCgroup[[:space:]]*=' "$cfg" 2>/dev/null; then
    cat "$cfg" > "$tmp"
  else
    containerd config default > "$tmp"
  fi
  sed -i -E 's/^([[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*)false/\1true/' "$tmp"
  sed -i -E 's#^([[:space:]]*(sandbox_image|sandbox)[[:space:]]*=[[:space:]]*).*#\1"registry.k8s.io/pause:3.10.2"#' "$tmp"
  if ! grep -Eq '^[[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*true' "$tmp"; then
    rm -f "$tmp"
    echo "no SystemdCgroup setting found in /etc/containerd/config.toml or containerd's default config" >&2
    return 1
  fi
  if ! grep -Eq '^[[:space:]]*(sandbox_image|sandbox)[[:space:]]*=[[:space:]]*"registry\.k8s\.io/pause:3\.10\.2"' "$tmp"; then
    rm -f "$tmp"
    echo "no sandbox image setting (sandbox_image or sandbox) found in /etc/containerd/config.toml or containerd's default config" >&2
    return 1
  fi
  chmod 0644 "$tmp"
  if cmp -s "$tmp" "$cfg"; then
    rm -f "$tmp"
  else
    [ ! -f "$cfg" ] || [ -e "$cfg.ironroot.bak" ] || cp -p "$cfg" "$cfg.ironroot.bak"
    if [ -e "$cfg" ] && [ ! -f "$cfg" ] && [ ! -L "$cfg" ]; then
      aside="$cfg".ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)
      kind=$(stat -c %F "$cfg")
      mv -- "$cfg" "$aside"
      echo "moved aside: ${aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2
    fi
    mv -f "$tmp" "$cfg"
    systemctl restart containerd
  fi
  systemctl enable --now containerd
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
      echo "prep/containerd-config: done by the earlier run meanwhile"
      exit 0
    fi
  fi
  printf '%s (pid %s, since %s)\n' 'prep/containerd-config' "$$" "$(date -u +%FT%TZ)" >/run/ironroot-step.holder
  ( exec 9>&-; apply )
}

case "${1:-run}" in
  probe) if probe; then exit 0; fi; exit 1 ;;
  apply) locked_apply ;;
  run)
    if probe; then
      echo "prep/containerd-config: already in place"
      exit 0
    fi
    locked_apply
    probe
    echo "prep/containerd-config: changed"
    ;;
  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;
esac
