// Host facts: one read-only script (one round trip per host) and a pure
// parser. The script prints `key<TAB>value` lines; a key may repeat (disks,
// addresses, ports). Anything it cannot find is printed empty, never
// guessed, so the parser and preflight can say "unknown".
import { shellQuote } from "./shell";
import { ADMIN_CONF } from "./kubeadm/kubeVip";

export interface DiskFact {
  name: string;
  nvme: boolean;
  rotational: boolean;
  sizeBytes: number;
}

export interface PortFact {
  port: number;
  /** Process holding the port, when `ss -p` could tell (needs root). */
  process?: string;
}

export interface HostFacts {
  os: { id: string; versionId: string; prettyName: string };
  kernel: string;
  /** `systemd-detect-virt`: "kvm", "systemd-nspawn", "none", ... */
  virt: string;
  cpus: number;
  memoryBytes: number;
  disks: DiskFact[];
  etcd: {
    /** The etcd data dir, or its nearest existing parent when it does not exist yet. */
    path: string;
    freeBytes?: number;
    /** Block device (or filesystem source) that holds `path`. */
    source: string;
    /** Whole disk holding `path`, when it is a block device. */
    disk?: string;
  };
  swap: { totalBytes: number; active: string[]; fstab: string[] };
  cgroupVersion: 1 | 2 | undefined;
  timeSync: {
    /** timedatectl's NTPSynchronized; undefined when timedated did not answer. */
    synchronized?: boolean;
    /** Time-sync services installed, with their state, e.g. "systemd-timesyncd=active". */
    services: { name: string; active: boolean }[];
  };
  hostname: string;
  machineId: string;
  addresses: { device: string; cidr: string }[];
  /** Listening TCP ports among the ones Kubernetes needs. */
  portsInUse: PortFact[];
  /** Name of the ironroot cluster installed on this host (/etc/ironroot/cluster), if any. */
  installedCluster?: string;
  /** The kubelet has joined a cluster (/etc/kubernetes/kubelet.conf exists). */
  kubernetesMember?: boolean;
  /** The kubeadm installed on this host ("1.36.3"), from the offline bundle or the packages. */
  kubeadmVersion?: string;
  /** On a control plane whose API server answers: the cluster's Node names. Absent elsewhere. */
  clusterNodes?: string[];
  /** The host's clock when the script ran, epoch ms. */
  clockMs: number;
}

/** Ports a node needs free; see preflight for which role needs which. */
export const WATCHED_PORTS = [6443, 2379, 2380, 10250] as const;

/** Where later install steps record which cluster owns this host (see docs/hosts.md). */
export const CLUSTER_MARKER = "/etc/ironroot/cluster";

/** kubeadm writes it when a node joins or starts a cluster: the mark of a member. */
export const KUBELET_KUBECONFIG = "/etc/kubernetes/kubelet.conf";

export const TIME_SYNC_SERVICES = ["systemd-timesyncd", "chrony", "chronyd", "ntp", "ntpsec", "openntpd"] as const;

/**
 * The read-only facts script for a host whose etcd data dir is `etcdDataDir`;
 * `ports` are the listening ports to report (preflight's requiredPorts).
 */
export function factsScript(etcdDataDir: string, ports: readonly number[] = WATCHED_PORTS): string {
  const portPattern = [...new Set(ports)].join("|");
  return `set -u
f() { printf '%s\\t%s\\n' "$1" "$2"; }
f clock.ms "$(date +%s%3N)"
# shellcheck source=/dev/null
. /etc/os-release 2>/dev/null || true
f os.id "\${ID:-}"
f os.version "\${VERSION_ID:-}"
f os.pretty "\${PRETTY_NAME:-}"
f kernel "$(uname -r)"
f virt "$(systemd-detect-virt 2>/dev/null || true)"
f cpus "$(nproc 2>/dev/null || true)"
f mem.kib "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
f swap.kib "$(awk '/^SwapTotal:/ {print $2}' /proc/meminfo)"
awk 'NR > 1 {print $1}' /proc/swaps | while read -r dev; do f swap.active "$dev"; done
if [ -r /etc/fstab ]; then
  awk '$1 !~ /^#/ && $3 == "swap" {print $1" "$2" "$3}' /etc/fstab | while read -r line; do f swap.fstab "$line"; done
fi
lsblk -b -d -n -P -o NAME,ROTA,SIZE,TYPE,TRAN 2>/dev/null | while read -r line; do f disk "$line"; done
p=${shellQuote(etcdDataDir)}
while [ ! -e "$p" ] && [ "$p" != / ]; do p=$(dirname "$p"); done
f etcd.path "$p"
f etcd.free "$(df -B1 --output=avail "$p" 2>/dev/null | tail -n 1 | tr -d ' ')"
src=$(df --output=source "$p" 2>/dev/null | tail -n 1 | tr -d ' ')
f etcd.source "$src"
if [ -b "$src" ]; then
  pk=$(lsblk -n -d -o PKNAME "$src" 2>/dev/null | head -n 1 | tr -d ' ')
  f etcd.disk "\${pk:-$(basename "$src")}"
fi
f cgroup "$(stat -fc %T /sys/fs/cgroup 2>/dev/null || true)"
f time.synced "$(timeout 5 timedatectl show -p NTPSynchronized --value 2>/dev/null || true)"
for s in ${TIME_SYNC_SERVICES.join(" ")}; do
  if systemctl cat "$s.service" >/dev/null 2>&1; then
    f time.service "$s=$(systemctl is-active "$s.service" 2>/dev/null || true)"
  fi
done
f hostname "$(cat /proc/sys/kernel/hostname)"
f machine-id "$(cat /etc/machine-id 2>/dev/null || true)"
ip -o addr show scope global 2>/dev/null | awk '{print $2" "$4}' | while read -r line; do f address "$line"; done
ss -Htlnp 2>/dev/null | awk '{n = split($4, a, ":"); print a[n]" "$0}' | while read -r port rest; do
  case "$port" in
    ${portPattern}) f port "$port $(printf '%s' "$rest" | sed -n 's/.*users:(("\\([^"]*\\)".*/\\1/p')" ;;
  esac
done
f cluster "$(cat ${CLUSTER_MARKER} 2>/dev/null || true)"
f member "$(if test -f ${KUBELET_KUBECONFIG}; then echo yes; fi)"
# The offline bundle puts kubeadm in /usr/local/bin, the packages in /usr/bin.
for k in /usr/local/bin/kubeadm /usr/bin/kubeadm; do
  if [ -x "$k" ]; then f kubeadm.version "$(timeout 10 "$k" version -o short 2>/dev/null || true)"; break; fi
done
# The Nodes the cluster has, asked of a control plane: removing a node
# from the config without saying so is refused against this list.
if [ -r ${ADMIN_CONF} ] && command -v kubectl >/dev/null 2>&1; then
  if nodes=$(timeout 10 kubectl --kubeconfig ${ADMIN_CONF} --request-timeout=5s get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\\n"}{end}' 2>/dev/null); then
    f nodes.listed yes
    printf '%s\\n' "$nodes" | while read -r n; do [ -n "$n" ] && f node "$n"; done
  fi
fi
`;
}

export class FactsParseError extends Error {}

/** Parse the script's output. Throws FactsParseError naming the missing field. */
export function parseFacts(output: string): HostFacts {
  const values = new Map<string, string[]>();
  for (const line of output.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    const key = line.slice(0, tab);
    const list = values.get(key) ?? [];
    list.push(line.slice(tab + 1));
    values.set(key, list);
  }
  const one = (k: string): string => values.get(k)?.[0]?.trim() ?? "";
  const all = (k: string): string[] => (values.get(k) ?? []).map((v) => v.trim()).filter((v) => v !== "");
  const int = (k: string, what: string): number => {
    const v = one(k);
    if (!/^\d+$/.test(v)) throw new FactsParseError(`facts: ${what} (${k}) is ${v === "" ? "missing" : JSON.stringify(v)}`);
    return Number(v);
  };
  const optInt = (k: string): number | undefined => (/^\d+$/.test(one(k)) ? Number(one(k)) : undefined);

  const cgroupFs = one("cgroup");
  const synced = one("time.synced");
  const cluster = one("cluster");
  const etcdDisk = one("etcd.disk");
  const kubeadm = /^v?(\d+\.\d+\.\d+)$/.exec(one("kubeadm.version"))?.[1];
  return {
    os: { id: one("os.id"), versionId: one("os.version"), prettyName: one("os.pretty") },
    kernel: one("kernel"),
    virt: one("virt") || "unknown",
    cpus: int("cpus", "CPU count"),
    memoryBytes: int("mem.kib", "memory") * 1024,
    disks: all("disk").map(parseDisk).filter((d): d is DiskFact => d !== undefined),
    etcd: {
      path: one("etcd.path"),
      freeBytes: optInt("etcd.free"),
      source: one("etcd.source"),
      ...(etcdDisk ? { disk: etcdDisk } : {}),
    },
    swap: { totalBytes: (optInt("swap.kib") ?? 0) * 1024, active: all("swap.active"), fstab: all("swap.fstab") },
    cgroupVersion: cgroupFs === "cgroup2fs" ? 2 : cgroupFs === "tmpfs" ? 1 : undefined,
    timeSync: {
      ...(synced === "yes" ? { synchronized: true } : synced === "no" ? { synchronized: false } : {}),
      services: all("time.service").map((s) => {
        const [name, state] = s.split("=");
        return { name, active: state === "active" };
      }),
    },
    hostname: one("hostname"),
    machineId: one("machine-id"),
    addresses: all("address").map((a) => {
      const [device, cidr] = a.split(" ");
      return { device, cidr };
    }),
    portsInUse: dedupePorts(
      all("port").map((p) => {
        const [port, process] = p.split(" ");
        return { port: Number(port), ...(process ? { process } : {}) };
      }),
    ),
    ...(cluster ? { installedCluster: cluster } : {}),
    ...(one("member") === "yes" ? { kubernetesMember: true } : {}),
    ...(kubeadm ? { kubeadmVersion: kubeadm } : {}),
    ...(one("nodes.listed") === "yes" ? { clusterNodes: all("node") } : {}),
    clockMs: int("clock.ms", "host clock"),
  };
}

// `lsblk -P` prints NAME="nvme0n1" ROTA="0" SIZE="..." TYPE="disk" TRAN="nvme".
function parseDisk(line: string): DiskFact | undefined {
  const kv = Object.fromEntries([...line.matchAll(/([A-Z]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  if (kv.TYPE !== "disk" || !kv.NAME) return undefined;
  return {
    name: kv.NAME,
    nvme: kv.TRAN === "nvme" || kv.NAME.startsWith("nvme"),
    rotational: kv.ROTA === "1",
    sizeBytes: Number(kv.SIZE ?? 0),
  };
}

// A port listening on IPv4 and IPv6 shows up twice.
function dedupePorts(ports: PortFact[]): PortFact[] {
  const seen = new Map<number, PortFact>();
  for (const p of ports) if (!seen.has(p.port) || (!seen.get(p.port)!.process && p.process)) seen.set(p.port, p);
  return [...seen.values()].sort((a, b) => a.port - b.port);
}
