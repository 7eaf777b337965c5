// Host preparation: what every node needs before Kubernetes is installed,
// as idempotent probe/apply steps. Probes and applies run as bash function
// bodies (stepScript wraps them), so they
// use `return`, never `exit`. A probe runs where `set -e` does not apply
// (`if probe`), so every probe is one && chain or returns explicitly.
import { releaseOf } from "../config/kubernetesReleases";
import { fileHolds, moveIntoPlace, writeFileAtomically } from "./shell";
import type { HostStep } from "./step";

/** `systemd-detect-virt` names of container runtimes: they share the host kernel. */
export const CONTAINER_VIRT = [
  "systemd-nspawn", "lxc", "lxc-libvirt", "docker", "podman", "openvz", "rkt", "wsl", "proot", "pouch",
];

/** Installed on every node. kubeadm's preflight looks for conntrack, socat, ebtables and ethtool. */
export const PACKAGES = [
  "containerd", "runc", "conntrack", "socat", "fio", "iptables", "ebtables", "ethtool",
  "ca-certificates", "curl", "gnupg",
];

/** Any one of these counts as a time-sync daemon; systemd-timesyncd is installed when none is. */
export const TIME_SYNC_PACKAGES = ["systemd-timesyncd", "chrony", "ntpsec", "openntpd"];
const TIME_SYNC_UNITS = ["systemd-timesyncd", "chrony", "ntpsec", "openntpd"];

export const MODULES_FILE = "/etc/modules-load.d/ironroot-k8s.conf";
export const MODULES = ["overlay", "br_netfilter"];
export const SYSCTL_FILE = "/etc/sysctl.d/99-ironroot-k8s.conf";
export const SYSCTLS: [string, string][] = [
  ["net.bridge.bridge-nf-call-iptables", "1"],
  ["net.bridge.bridge-nf-call-ip6tables", "1"],
  ["net.ipv4.ip_forward", "1"],
];
export const CONTAINERD_CONFIG = "/etc/containerd/config.toml";

const MANAGED = "# Managed by ironroot; changes here are reverted on the next run.";

export const modulesFileContent = [MANAGED, "# Kernel modules Kubernetes networking and containerd need.", ...MODULES, ""].join("\n");
export const sysctlFileContent = [
  MANAGED,
  "# Pods reach each other through a bridge and iptables, and nodes route pod traffic.",
  ...SYSCTLS.map(([k, v]) => `${k} = ${v}`),
  "",
].join("\n");

const APT = "apt-get -o DPkg::Lock::Timeout=300 -q";
const FSTAB_SWAP = String.raw`^[^#[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]`;
const SYSTEMD_CGROUP_TRUE = String.raw`^[[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*true`;

const inContainer = (reason: string) => ({ virt: CONTAINER_VIRT, reason });

/** Prep steps for one node, in the order they run. */
export function prepSteps(kubernetesVersion: string): HostStep[] {
  return [
    dpkgConsistent(), packages(), modulesOnBoot(), modulesLoaded(), sysctlPersisted(), sysctlApplied(), swapOffInFstab(), swapOffNow(),
    containerdConfig(sandboxImage(kubernetesVersion)), timeSync(),
  ];
}

/**
 * The pod sandbox image kubeadm's own image list names for the pinned
 * release. containerd's default (pause:3.6 on Debian 12) differs, and in
 * air-gapped mode only kubeadm's is imported, so every sandbox would fail.
 */
export function sandboxImage(kubernetesVersion: string): string {
  return `registry.k8s.io/pause:${releaseOf(kubernetesVersion).pauseVersion}`;
}

/**
 * A package run cut off mid-way (power loss, a killed connection: dpkg gets
 * SIGPIPE) leaves packages unpacked but not configured, and every apt-get
 * after it refuses with "dpkg was interrupted". Finish what was started, the
 * way dpkg says to, keeping the configuration files on the host, and say
 * what was repaired.
 */
function dpkgConsistent(): HostStep {
  return {
    id: "prep/dpkg-consistent",
    title: "No package operation was left half-done (dpkg --audit finds nothing)",
    probe: '[ -z "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ] && [ -z "$(dpkg --audit 2>/dev/null)" ]',
    apply: [
      "export DEBIAN_FRONTEND=noninteractive",
      'echo "an earlier package run was interrupted; finishing it with dpkg --configure -a. dpkg --audit said:" >&2',
      "dpkg --audit 2>&1 | sed 's/^/  /' >&2 || true",
      "dpkg --force-confdef --force-confold --configure -a",
      `${APT} install -f -y`,
    ].join("\n"),
  };
}

function packages(): HostStep {
  const installed = `installed() { [ "$(dpkg-query -W -f='\${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }`;
  const anyTimeSync = TIME_SYNC_PACKAGES.map((p) => `installed ${p}`).join(" || ");
  return {
    id: "prep/packages",
    title: `Packages ${PACKAGES.join(", ")} and a time-sync daemon are installed`,
    probe: [
      installed,
      `for p in ${PACKAGES.join(" ")}; do`,
      `  installed "$p" || return 1`,
      "done",
      anyTimeSync,
    ].join("\n"),
    apply: [
      installed,
      "missing=()",
      `for p in ${PACKAGES.join(" ")}; do`,
      `  installed "$p" || missing+=("$p")`,
      "done",
      `if ! { ${anyTimeSync}; }; then missing+=(systemd-timesyncd); fi`,
      `[ "\${#missing[@]}" -gt 0 ] || return 0`,
      "export DEBIAN_FRONTEND=noninteractive",
      `${APT} update`,
      `${APT} install -y --no-install-recommends "\${missing[@]}"`,
    ].join("\n"),
  };
}

/** Write a file atomically with exactly this content (probe: byte-identical). */
function fileStep(id: string, title: string, path: string, content: string): HostStep {
  return {
    id,
    title,
    probe: fileHolds(path, content),
    apply: writeFileAtomically(path, content, "0644"),
  };
}

function modulesOnBoot(): HostStep {
  return fileStep("prep/modules-on-boot", `Kernel modules ${MODULES.join(", ")} load on boot (${MODULES_FILE})`, MODULES_FILE, modulesFileContent);
}

function modulesLoaded(): HostStep {
  return {
    id: "prep/modules-loaded",
    title: `Kernel modules ${MODULES.join(", ")} are loaded`,
    // overlay may be built in (no /sys/module entry), so ask for the filesystem;
    // br_netfilter's sysctls exist exactly when it is loaded.
    probe: ["grep -qw overlay /proc/filesystems", "[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]"].join(" &&\n  "),
    apply: MODULES.map((m) => `modprobe ${m}`).join("\n"),
    unsupportedIn: inContainer(
      "a container cannot load kernel modules: load overlay and br_netfilter on the machine that runs the container (modprobe overlay br_netfilter)",
    ),
  };
}

function sysctlPersisted(): HostStep {
  return fileStep("prep/sysctl-persisted", `Bridge netfilter and IP forwarding are set on boot (${SYSCTL_FILE})`, SYSCTL_FILE, sysctlFileContent);
}

function sysctlApplied(): HostStep {
  return {
    id: "prep/sysctl-applied",
    title: `Kernel settings ${SYSCTLS.map(([k, v]) => `${k}=${v}`).join(", ")} are in effect`,
    probe: SYSCTLS.map(([k, v]) => `[ "$(sysctl -n ${k} 2>/dev/null)" = ${v} ]`).join(" &&\n  "),
    apply: `sysctl -q ${SYSCTLS.map(([k, v]) => `-w ${k}=${v}`).join(" ")}`,
  };
}

function swapOffInFstab(): HostStep {
  return {
    id: "prep/swap-off-fstab",
    title: "No swap is enabled in /etc/fstab",
    probe: `[ ! -e /etc/fstab ] || ! grep -Eq '${FSTAB_SWAP}' /etc/fstab`,
    apply: [
      "[ -e /etc/fstab.ironroot.bak ] || cp -p /etc/fstab /etc/fstab.ironroot.bak",
      `sed -i -E 's/(${FSTAB_SWAP}.*)$/# disabled by ironroot, Kubernetes needs swap off: \\1/' /etc/fstab`,
    ].join("\n"),
  };
}

function swapOffNow(): HostStep {
  return {
    id: "prep/swap-off-now",
    title: "No swap is active",
    probe: "! awk 'NR > 1 { found = 1 } END { exit !found }' /proc/swaps",
    apply: "swapoff -a",
    unsupportedIn: inContainer(
      "a container sees the swap of the machine that runs it, and turning that off from inside would change that machine: run `swapoff -a` there",
    ),
  };
}

function containerdConfig(pause: string): HostStep {
  // containerd 1.x names it sandbox_image (config version 2), 2.x sandbox
  // under pinned_images (version 3); each default config has one of them.
  // The value is always written in double quotes, so the probe reads those.
  const sandboxIs = String.raw`^[[:space:]]*(sandbox_image|sandbox)[[:space:]]*=[[:space:]]*"${pause.replace(/\./g, "\\.")}"`;
  return {
    id: "prep/containerd-config",
    title: `containerd runs with the systemd cgroup driver (SystemdCgroup = true) and kubeadm's sandbox image ${pause}`,
    probe: [
      `grep -Eq '${SYSTEMD_CGROUP_TRUE}' ${CONTAINERD_CONFIG} 2>/dev/null`,
      `grep -Eq '${sandboxIs}' ${CONTAINERD_CONFIG}`,
      "systemctl is-active --quiet containerd",
    ].join(" &&\n  "),
    apply: [
      `cfg=${CONTAINERD_CONFIG}`,
      'install -d -m 0755 "$(dirname "$cfg")"',
      'tmp=$(mktemp "$cfg.XXXXXX")',
      // Keep a config someone wrote and only flip the field; otherwise start
      // from containerd's defaults, where the field exists and is false.
      `if grep -Eq '^[[:space:]]*SystemdCgroup[[:space:]]*=' "$cfg" 2>/dev/null; then`,
      '  cat "$cfg" > "$tmp"',
      "else",
      '  containerd config default > "$tmp"',
      "fi",
      String.raw`sed -i -E 's/^([[:space:]]*SystemdCgroup[[:space:]]*=[[:space:]]*)false/\1true/' "$tmp"`,
      String.raw`sed -i -E 's#^([[:space:]]*(sandbox_image|sandbox)[[:space:]]*=[[:space:]]*).*#\1"${pause}"#' "$tmp"`,
      `if ! grep -Eq '${SYSTEMD_CGROUP_TRUE}' "$tmp"; then`,
      '  rm -f "$tmp"',
      `  echo "no SystemdCgroup setting found in ${CONTAINERD_CONFIG} or containerd's default config" >&2`,
      "  return 1",
      "fi",
      `if ! grep -Eq '${sandboxIs}' "$tmp"; then`,
      '  rm -f "$tmp"',
      `  echo "no sandbox image setting (sandbox_image or sandbox) found in ${CONTAINERD_CONFIG} or containerd's default config" >&2`,
      "  return 1",
      "fi",
      'chmod 0644 "$tmp"',
      // Restart only when the file really changes: a restart stops every
      // container's shim supervision for a moment.
      'if cmp -s "$tmp" "$cfg"; then',
      '  rm -f "$tmp"',
      "else",
      '  [ ! -f "$cfg" ] || [ -e "$cfg.ironroot.bak" ] || cp -p "$cfg" "$cfg.ironroot.bak"',
      moveIntoPlace('"$tmp"', '"$cfg"').replace(/^/gm, "  "),
      "  systemctl restart containerd",
      "fi",
      "systemctl enable --now containerd",
    ].join("\n"),
  };
}

function timeSync(): HostStep {
  return {
    id: "prep/time-sync",
    title: "A time-sync service is running",
    probe: [`for s in ${TIME_SYNC_UNITS.join(" ")}; do`, '  systemctl is-active --quiet "$s" && return 0', "done", "return 1"].join("\n"),
    apply: [
      // Prefer a daemon the host already has; systemd-timesyncd otherwise.
      `for s in ${TIME_SYNC_UNITS.filter((u) => u !== "systemd-timesyncd").join(" ")} systemd-timesyncd; do`,
      '  if systemctl cat "$s.service" >/dev/null 2>&1; then',
      '    systemctl enable --now "$s"',
      "    return 0",
      "  fi",
      "done",
      'echo "no time-sync service is installed (prep/packages installs systemd-timesyncd)" >&2',
      "return 1",
    ].join("\n"),
    unsupportedIn: inContainer(
      "a container uses the clock of the machine that runs it (systemd-timesyncd does not start in containers): keep time synced there",
    ),
  };
}
