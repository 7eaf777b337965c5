// Scheduled etcd snapshots on the control planes, and the restore command.
// Git holds the desired state; etcd holds what git cannot (objects made by
// controllers and users, leases, the state of running workloads), so each
// control plane snapshots its own etcd member on a systemd timer.
import { createHash } from "node:crypto";
import type { EtcdSnapshotsConfig } from "../config/etcdSnapshots";
import { shellQuote, writeFileAtomically } from "./shell";
import type { HostStep } from "./step";

/** Where kubeadm puts etcd's certificates; the snapshot client uses them. */
export const KUBEADM_ETCD_PKI = "/etc/kubernetes/pki/etcd";
/** The local etcd member of a kubeadm control plane (client port on loopback). */
export const KUBEADM_ETCD_ENDPOINT = "https://127.0.0.1:2379";
export const SNAPSHOT_UNIT = "ironroot-etcd-snapshot";
export const SNAPSHOT_PREFIX = "etcd-snapshot-";

export interface EtcdTls {
  cacert: string;
  cert: string;
  key: string;
}

/** The kubeadm certificates etcdctl authenticates with (the server pair carries client usage too). */
export const KUBEADM_ETCD_TLS: EtcdTls = {
  cacert: `${KUBEADM_ETCD_PKI}/ca.crt`,
  cert: `${KUBEADM_ETCD_PKI}/server.crt`,
  key: `${KUBEADM_ETCD_PKI}/server.key`,
};

/** kubectl arguments that run etcdctl `command` in the static etcd pod of control plane `node` (its image carries etcdctl), with kubeadm's certificates. */
export function etcdctlInPod(node: string, command: string): string {
  const { cacert, cert, key } = KUBEADM_ETCD_TLS;
  return `-n kube-system exec ${shellQuote(`etcd-${node}`)} -- etcdctl --cacert=${cacert} --cert=${cert} --key=${key} ${command}`;
}

export interface SnapshotScriptOptions {
  /** Client URL of the etcd member to snapshot. */
  endpoint: string;
  /** Client certificates; none for a plain-HTTP etcd (only tests use that). */
  tls?: EtcdTls;
  dir: string;
  retention: number;
  /** The etcdctl binary. */
  etcdctl: string;
}

export interface SnapshotUnitOptions extends SnapshotScriptOptions {
  schedule: string;
  /** Name of the service and timer units. */
  unit: string;
  /** Where the snapshot script is installed. */
  scriptPath: string;
}

/** What a kubeadm control plane runs, from the stack's `etcdSnapshots` section. */
export function kubeadmSnapshotOptions(cfg: EtcdSnapshotsConfig): SnapshotUnitOptions {
  return {
    endpoint: KUBEADM_ETCD_ENDPOINT,
    tls: KUBEADM_ETCD_TLS,
    dir: cfg.dir,
    retention: cfg.retention,
    etcdctl: "/usr/bin/etcdctl",
    schedule: cfg.schedule,
    unit: SNAPSHOT_UNIT,
    scriptPath: `/usr/local/sbin/${SNAPSHOT_UNIT}`,
  };
}

/**
 * The snapshot steps of one node of the stack: the timer on control planes
 * (after kubeadm has written the etcd certificates), nothing on workers.
 */
export function etcdSnapshotPlan(spec: { etcdSnapshots: EtcdSnapshotsConfig }, node: { isControlPlane: boolean }): HostStep[] {
  if (!node.isControlPlane) return [];
  return etcdSnapshotSteps(kubeadmSnapshotOptions(spec.etcdSnapshots), spec.etcdSnapshots.enabled);
}

/**
 * One snapshot, then retention. The file is written under a temporary name
 * and renamed only once etcdctl has verified it, so a crash never leaves a
 * truncated `etcd-snapshot-*.db` that retention would count as good, and old
 * snapshots are deleted only after a new one succeeded. Names carry a UTC
 * timestamp of fixed width, so name order is age order.
 */
export function snapshotScript(o: SnapshotScriptOptions): string {
  const tls = o.tls ? ` \\\n  --cacert=${q(o.tls.cacert)} --cert=${q(o.tls.cert)} --key=${q(o.tls.key)}` : "";
  return [
    "#!/usr/bin/env bash",
    "# Snapshot the local etcd member and keep the newest snapshots (ironroot).",
    "set -euo pipefail",
    "# A snapshot holds every Secret of the cluster: readable by root only.",
    "umask 077",
    `dir=${q(o.dir)}`,
    `keep=${o.retention}`,
    'mkdir -p "$dir"',
    'chmod 0700 "$dir"',
    'stamp=$(date -u +%Y%m%dT%H%M%S.%NZ)',
    `part="$dir/.${SNAPSHOT_PREFIX}$stamp.db.part"`,
    "trap 'rm -f \"$part\"' EXIT",
    `ETCDCTL_API=3 ${q(o.etcdctl)} --endpoints=${q(o.endpoint)} --command-timeout=300s${tls} \\`,
    '  snapshot save "$part"',
    `mv "$part" "$dir/${SNAPSHOT_PREFIX}$stamp.db"`,
    `echo "saved $dir/${SNAPSHOT_PREFIX}$stamp.db"`,
    `find "$dir" -maxdepth 1 -type f -name '${SNAPSHOT_PREFIX}*.db' -printf '%f\\n' | sort -r | tail -n +$((keep + 1)) |`,
    "  while IFS= read -r old; do",
    '    rm -f -- "${dir:?}/$old"',
    '    echo "removed $dir/$old (retention: $keep)"',
    "  done",
    "",
  ].join("\n");
}

export function snapshotService(o: SnapshotUnitOptions): string {
  return [
    "[Unit]",
    "Description=etcd snapshot with retention (ironroot)",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${o.scriptPath}`,
    // etcd's own WAL fsyncs must not wait behind the snapshot's writes.
    "Nice=10",
    "IOSchedulingClass=idle",
    "",
  ].join("\n");
}

export function snapshotTimer(o: SnapshotUnitOptions): string {
  return [
    "[Unit]",
    "Description=Scheduled etcd snapshots (ironroot)",
    "",
    "[Timer]",
    `OnCalendar=${o.schedule}`,
    // A control plane that was off at the scheduled time catches up on boot.
    "Persistent=true",
    `Unit=${o.unit}.service`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

/**
 * The host steps of one control plane: etcdctl present, the script and
 * units in place, the timer enabled. With snapshots disabled, one step that
 * removes the timer, so turning the setting off is a real change too.
 */
export function etcdSnapshotSteps(o: SnapshotUnitOptions, enabled = true): HostStep[] {
  const service = `/etc/systemd/system/${o.unit}.service`;
  const timer = `/etc/systemd/system/${o.unit}.timer`;
  if (!enabled) {
    return [{
      id: "etcd-snapshot/absent",
      title: "No scheduled etcd snapshots",
      probe: `! systemctl is-enabled --quiet ${o.unit}.timer 2>/dev/null && [ ! -e ${q(timer)} ]`,
      apply: [
        `systemctl disable --now ${o.unit}.timer 2>/dev/null || true`,
        `rm -f ${q(timer)} ${q(service)} ${q(o.scriptPath)}`,
        "systemctl daemon-reload",
      ].join("\n"),
    }];
  }
  const files: [string, string, string][] = [
    [o.scriptPath, snapshotScript(o), "0755"],
    [service, snapshotService(o), "0644"],
    [timer, snapshotTimer(o), "0644"],
  ];
  return [
    {
      id: "etcd-snapshot/etcdctl",
      title: "etcdctl is installed",
      probe: `[ -x ${q(o.etcdctl)} ]`,
      // Debian's etcd-client ships etcdctl without a server: snapshots only
      // need the client side of the v3 API.
      apply: [
        "export DEBIAN_FRONTEND=noninteractive",
        "apt-get -o DPkg::Lock::Timeout=300 update -q",
        "apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends etcd-client",
      ].join("\n"),
    },
    {
      id: "etcd-snapshot/timer",
      title: `etcd is snapshotted on schedule "${o.schedule}" into ${o.dir}, newest ${o.retention} kept`,
      probe: [
        ...files.map(([path, content]) => `[ "$(sha256sum < ${q(path)} 2>/dev/null | cut -d' ' -f1)" = ${sha256(content)} ]`),
        `systemctl is-enabled --quiet ${o.unit}.timer`,
        `systemctl is-active --quiet ${o.unit}.timer`,
      ].join(" &&\n"),
      apply: [
        ...files.map(([path, content, mode]) => writeFileAtomically(path, content, mode)),
        "systemctl daemon-reload",
        // restart, not start: a changed schedule takes effect only on a reload of the timer.
        `systemctl enable ${o.unit}.timer`,
        `systemctl restart ${o.unit}.timer`,
      ].join("\n"),
    },
  ];
}

export interface RestoreOptions {
  snapshot: string;
  /** A new, not yet existing folder: restoring over live data is refused by etcd. */
  dataDir: string;
  /** This member's name (kubeadm uses the node name). */
  name: string;
  /** This member's peer URL, e.g. https://10.0.0.11:2380. */
  peerUrl: string;
  /** Every member, `name=peerUrl`, comma-separated; the same on every member. */
  initialCluster: string;
}

/**
 * Restore a snapshot into a new data dir. etcd 3.5+ moved offline restore
 * to etcdutl; etcd 3.4 (Debian bookworm) still has it in etcdctl. The flags
 * are the same, so one command covers both.
 */
export function restoreCommand(o: RestoreOptions): string {
  const args = [
    `snapshot restore ${q(o.snapshot)}`,
    `--data-dir=${q(o.dataDir)}`,
    `--name=${q(o.name)}`,
    `--initial-advertise-peer-urls=${q(o.peerUrl)}`,
    `--initial-cluster=${q(o.initialCluster)}`,
  ].join(" ");
  return [
    "if command -v etcdutl >/dev/null; then",
    `  etcdutl ${args}`,
    "else",
    `  ETCDCTL_API=3 etcdctl ${args}`,
    "fi",
  ].join("\n");
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}


/** Shell-quote a value unless it is made of safe characters only. */
function q(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
