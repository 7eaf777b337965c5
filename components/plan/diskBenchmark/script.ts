// The disk benchmark as data: the two fio profiles, the script that runs them
// on a node, and the reading of its output. Pure: the same spec gives the same
// script byte for byte; fio.ts reads fio's output and gate.ts judges it.
import type { StackSpec } from "../../config/schema";
import type { InventoryNode } from "../inventory";
import { shellQuote } from "../shell";
import type { HostStep } from "../step";

/** Everything one node's benchmark needs; also what decides whether it re-runs. */
export interface DiskBenchmarkPlan {
  node: string;
  /** Config path of the host, for messages: `hosts[2]`. */
  configPath: string;
  isControlPlane: boolean;
  /** The directory whose filesystem is measured (etcd's data dir). */
  etcdDataDir: string;
  warnP99Ms: number;
  failP99Ms: number;
  runs: number;
  /** The host is in diskBenchmark.allowSlowDisk. */
  allowSlowDisk: boolean;
  minFreeMb: number;
  randomIops: boolean;
  randomRuntimeSeconds: number;
  trigger: string;
  /**
   * Control planes of a stack with Kubernetes: the release this result
   * answers for. A new one (an upgrade) measures again before any node
   * moves, so etcd is upgraded only on disks that still pass the gate.
   */
  kubernetesVersion?: string;
  /** The bash script that runs on the node (see diskBenchmarkScript). */
  script: string;
}

/**
 * etcd's write pattern: small sequential WAL appends, each followed by
 * fdatasync. This is the seeds' command (and the etcd maintainers'
 * recommendation) unchanged, plus JSON output.
 */
export const ETCD_PROFILE_MB = 22;
export function etcdFioArgs(dir: string): string[] {
  return ["--rw=write", "--ioengine=sync", "--fdatasync=1", `--directory=${dir}`, `--size=${ETCD_PROFILE_MB}m`, "--bs=2300", "--name=mytest"];
}

/**
 * Random 4k reads and writes at queue depth 16: what git checkouts in Argo
 * CD's repo server and Redis persistence feel. Time-bounded so a slow disk
 * cannot stretch it; the 1 s ramp is its warm-up and is not counted.
 */
export const RANDOM_PROFILE_MB = 64;
export function randomFioArgs(dir: string, runtimeSeconds: number | string, direct: number | string): string[] {
  return [
    "--name=randrw", "--rw=randrw", "--rwmixread=50", "--bs=4k", `--size=${RANDOM_PROFILE_MB}m`,
    "--ioengine=libaio", "--iodepth=16", `--direct=${direct}`,
    `--runtime=${runtimeSeconds}`, "--time_based", "--ramp_time=1", `--directory=${dir}`,
  ];
}

/** fio comes with host preparation; the benchmark also ensures it, as it cannot run without it. */
export const fioInstalledStep: HostStep = {
  id: "prep/fio",
  title: "fio is installed (the disk benchmark runs it)",
  probe: "command -v fio >/dev/null",
  apply:
    "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends fio >/dev/null",
};

/** Exit statuses of the script that mean something other than "fio failed". */
export const EXIT = { fioMissing: 3, notEnoughSpace: 4 } as const;

/** Lines on stdout that frame each fio JSON document, so a parser can split them. */
export const MARK = {
  begin: (profile: string, label: string) => `=== ironroot-fio ${profile} ${label} begin ===`,
  beginRe: /^=== ironroot-fio (\S+) (\S+) begin ===$/,
  endRe: /^=== ironroot-fio (\S+) (\S+) end wall_ms=(\d+) ===$/,
  diskRe: /^=== ironroot-disk (\S+) (\S+) (\S+) ===$/,
};

/** Progress and facts go to stderr with this prefix; stdout carries only framed JSON. */
export const PROGRESS_PREFIX = "disk-benchmark: ";

export function diskBenchmarkPlan(spec: StackSpec, n: InventoryNode): DiskBenchmarkPlan {
  const cfg = spec.diskBenchmark;
  const base = {
    node: n.name,
    configPath: `hosts[${spec.hosts.findIndex((h) => h.name === n.name)}]`,
    isControlPlane: n.isControlPlane,
    etcdDataDir: n.etcdDataDir,
    warnP99Ms: cfg.warnP99Ms,
    failP99Ms: cfg.failP99Ms,
    runs: cfg.runs,
    allowSlowDisk: cfg.allowSlowDisk.includes(n.name),
    minFreeMb: cfg.minFreeMb,
    randomIops: cfg.randomIops,
    randomRuntimeSeconds: cfg.randomRuntimeSeconds,
    trigger: cfg.trigger,
    ...(n.isControlPlane && spec.layers !== "hosts" ? { kubernetesVersion: spec.cluster.kubernetesVersion } : {}),
  };
  return { ...base, script: diskBenchmarkScript(base) };
}


type ScriptInput = Pick<DiskBenchmarkPlan, "node" | "etcdDataDir" | "runs" | "minFreeMb" | "randomIops" | "randomRuntimeSeconds">;

/**
 * The benchmark script. It writes only inside a fresh directory it makes
 * under the data dir (so the data dir's own filesystem is measured), removes
 * that directory on every exit path including signals, and refuses before
 * writing anything when free space is short. A data dir it had to create is
 * removed again if still empty, so kubeadm later finds the host as it was.
 */
export function diskBenchmarkScript(p: ScriptInput): string {
  const filesMb = ETCD_PROFILE_MB + (p.randomIops ? RANDOM_PROFILE_MB : 0);
  const q = (args: string[]) => args.map((a) => (a.includes("$") ? `"${a}"` : a)).join(" ");
  return `#!/usr/bin/env bash
# Disk benchmark for ${p.node}: fdatasync latency (etcd profile) of the
# filesystem holding ${p.etcdDataDir}${p.randomIops ? ", and random 4k read/write IOPS" : ""}.
# One warm-up run, then ${p.runs} measured runs. Every file is written in a
# temporary directory that is removed on exit, also when interrupted.
set -euo pipefail

data_dir=${shellQuote(p.etcdDataDir)}
runs=${p.runs}
files_mb=${filesMb}
min_free_mb=${p.minFreeMb}
random_iops=${p.randomIops ? 1 : 0}
random_runtime=${p.randomRuntimeSeconds}

say() { echo "${PROGRESS_PREFIX}$*" >&2; }

if ! command -v fio >/dev/null; then
  say "fio is not installed: host preparation installs it (apt-get install fio)"
  exit ${EXIT.fioMissing}
fi

# Free space is judged on the nearest existing directory, before anything is created.
existing="$data_dir"
while [ ! -d "$existing" ]; do existing="$(dirname -- "$existing")"; done
free_mb=$(( $(df -Pk -- "$existing" | awk 'NR == 2 { print $4 }') / 1024 ))
if (( free_mb < files_mb + min_free_mb )); then
  say "not enough free space on the filesystem of $data_dir: $free_mb MiB free, the benchmark needs $files_mb MiB for its files plus diskBenchmark.minFreeMb $min_free_mb MiB; nothing was written"
  exit ${EXIT.notEnoughSpace}
fi

created=""
work=""
fio_pid=""
cleanup() {
  # Signals are ignored, not reset: \`timeout\` sends SIGTERM to this script
  # and again to its process group, and the second one must not end the
  # clean-up that the first one started.
  trap - EXIT
  trap '' INT TERM HUP
  # The files go before fio is waited for: fio stops only after the I/O it
  # has in flight, which on a busy disk can outlast the 5 s that \`timeout\`
  # gives a stopped command before it SIGKILLs the lot (wrapCommand).
  if [ -n "$fio_pid" ]; then kill "$fio_pid" 2>/dev/null || true; fi
  if [ -n "$work" ]; then rm -rf -- "$work" 2>/dev/null || true; fi
  if [ -n "$fio_pid" ]; then
    wait "$fio_pid" 2>/dev/null || true
    # What fio wrote while it stopped: it makes its directory itself as it
    # sets up its job, so one stopped at that moment makes it again.
    if [ -n "$work" ]; then rm -rf -- "$work"; fi
  fi
  # Only directories this script made, and only while empty.
  if [ -n "$created" ]; then
    d="$data_dir"
    while rmdir -- "$d" 2>/dev/null && [ "$d" != "$created" ]; do d="$(dirname -- "$d")"; done
  fi
}
on_signal() {
  # Clean up before saying anything: the connection that would carry the
  # words may be gone (the client was interrupted), and a write to it must
  # not end this script before the files are removed.
  trap '' PIPE HUP
  cleanup
  say "interrupted: the benchmark files are removed" || true
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

if [ ! -d "$data_dir" ]; then
  created="$data_dir"
  while [ ! -d "$(dirname -- "$created")" ]; do created="$(dirname -- "$created")"; done
  mkdir -p -- "$data_dir"
fi
# Files of an earlier run that was cut off before its clean-up (its pid is
# gone): removed, and said. A run still going (a lost connection's) is left alone.
for old in "$data_dir"/.ironroot-disk-benchmark.*; do
  [ -d "$old" ] || continue
  old_pid="$(cat -- "$old/pid" 2>/dev/null || true)"
  if [ -n "$old_pid" ] && kill -0 "$old_pid" 2>/dev/null; then continue; fi
  rm -rf -- "$old"
  say "removed the files of an earlier run that was cut off: $old"
done
work="$(mktemp -d -- "$data_dir/.ironroot-disk-benchmark.XXXXXX")"
echo "$$" >"$work/pid"
say "started: pid $$, files in $work"
read -r device fstype mount < <(df -PT -- "$work" | awk 'NR == 2 { print $1, $2, $7 }')
echo "=== ironroot-disk $device $fstype $mount ==="

# fio runs in the background so that a signal is handled at once (bash defers
# traps while a foreground child runs), and the trap can stop fio.
run_fio() {
  local profile="$1" label="$2" start end
  shift 2
  start=$(date +%s%N)
  fio --output-format=json --output="$work/$profile-$label.json" "$@" &
  fio_pid=$!
  wait "$fio_pid"
  fio_pid=""
  end=$(date +%s%N)
  echo "=== ironroot-fio $profile $label begin ==="
  cat -- "$work/$profile-$label.json"
  echo
  echo "=== ironroot-fio $profile $label end wall_ms=$(( (end - start) / 1000000 )) ==="
  # Each run starts from a fresh file, as the reference command does.
  rm -f -- "$work/$profile-$label.json" "$work"/*.0.0
}

say "etcd profile: warm-up run (not counted)"
run_fio etcd warmup ${q(etcdFioArgs("$work"))}
for ((i = 1; i <= runs; i++)); do
  say "etcd profile: run $i of $runs"
  run_fio etcd "$i" ${q(etcdFioArgs("$work"))}
done

if (( random_iops )); then
  # Without O_DIRECT (e.g. tmpfs) reads come from the page cache; the result says so.
  direct=1
  if ! dd if=/dev/zero of="$work/direct-probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
    direct=0
    say "O_DIRECT is not supported here: random IOPS include the page cache"
  fi
  rm -f -- "$work/direct-probe"
  say "random 4k profile: $random_runtime s after a 1 s ramp"
  run_fio random 1 ${q(randomFioArgs("$work", "$random_runtime", "$direct"))}
fi
say "done"
`;
}

/** One framed fio document from the script's stdout. */
export interface FioOutput {
  profile: string;
  /** "warmup" or the run number. */
  label: string;
  json: string;
  /** Wall time of the fio process on the node, ms (includes laying out its file). */
  wallMs: number;
}

export interface BenchmarkOutput {
  device: string;
  fstype: string;
  mount: string;
  outputs: FioOutput[];
}

/** Split the script's stdout into the disk line and the framed fio documents. */
export function splitBenchmarkOutput(stdout: string): BenchmarkOutput {
  const out: BenchmarkOutput = { device: "", fstype: "", mount: "", outputs: [] };
  let open: { profile: string; label: string; lines: string[] } | undefined;
  for (const line of stdout.split("\n")) {
    const disk = MARK.diskRe.exec(line);
    if (disk && !open) {
      [out.device, out.fstype, out.mount] = [disk[1], disk[2], disk[3]];
      continue;
    }
    const begin = MARK.beginRe.exec(line);
    if (begin) {
      open = { profile: begin[1], label: begin[2], lines: [] };
      continue;
    }
    const end = MARK.endRe.exec(line);
    if (end && open) {
      if (end[1] !== open.profile || end[2] !== open.label) {
        throw new Error(`benchmark output: run ${open.profile} ${open.label} ends with the marker of ${end[1]} ${end[2]}`);
      }
      out.outputs.push({ profile: open.profile, label: open.label, json: open.lines.join("\n"), wallMs: Number(end[3]) });
      open = undefined;
      continue;
    }
    if (open) open.lines.push(line);
  }
  if (open) throw new Error(`benchmark output: run ${open.profile} ${open.label} has no end marker (output cut short?)`);
  return out;
}
