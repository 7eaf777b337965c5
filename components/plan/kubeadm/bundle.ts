// Air-gapped mode (cluster.offlineBundleDir): the operator's folder of
// packages, binaries, images and the CNI manifest, described by bundle.json.
// This module only reads the manifest's text and writes the shell that
// checks and installs the files; copying them is the SSH layer's job.
import type { HostStep } from "../step";
import { printfLines, shellQuote as q } from "../shell";
import { BUNDLE_DIR, KUBERNETES_PACKAGES } from "./versions";

export const BUNDLE_MANIFEST = "bundle.json";

export const BUNDLE_KINDS = ["deb", "binary", "cni-plugin", "systemd-unit", "image", "cni-manifest"] as const;

/** Where each installed kind goes on a host (deb, image and cni-manifest are not copied anywhere). */
export const INSTALL_DIRS = {
  binary: "/usr/local/bin",
  "cni-plugin": "/opt/cni/bin",
  "systemd-unit": "/etc/systemd/system",
} as const;
export type BundleKind = (typeof BUNDLE_KINDS)[number];

export interface BundleFile {
  /** Relative to the bundle folder, forward slashes, no "..". */
  path: string;
  sha256: string;
  kind: BundleKind;
}

export interface BundleManifest {
  kubernetesVersion: string;
  files: BundleFile[];
}

/**
 * Parse bundle.json. Every problem is reported at once, each naming the
 * manifest entry and how to fix it.
 */
export function parseBundleManifest(text: string, where: string, pinnedVersion: string): BundleManifest {
  const problems: string[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  const d = doc as { kubernetesVersion?: unknown; files?: unknown };
  if (d?.kubernetesVersion !== pinnedVersion) {
    problems.push(
      `kubernetesVersion: the bundle is for ${JSON.stringify(d?.kubernetesVersion)} but cluster.kubernetesVersion pins ${JSON.stringify(pinnedVersion)}: build the bundle for ${pinnedVersion}`,
    );
  }
  const files: BundleFile[] = [];
  if (!Array.isArray(d?.files)) {
    problems.push(`files: expected a list of {path, sha256, kind}`);
  } else {
    d.files.forEach((f: { path?: unknown; sha256?: unknown; kind?: unknown }, i: number) => {
      const at = `files[${i}]`;
      if (typeof f?.path !== "string" || f.path === "" || f.path.startsWith("/") || f.path.split("/").includes("..") || /[\n\\]/.test(f.path)) {
        problems.push(`${at}.path: ${JSON.stringify(f?.path)} must be a relative path inside the bundle folder`);
        return;
      }
      if (typeof f.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(f.sha256)) {
        problems.push(`${at}.sha256: ${JSON.stringify(f.sha256)} is not a sha256 (64 lowercase hex digits): use the output of \`sha256sum ${f.path}\``);
        return;
      }
      if (!BUNDLE_KINDS.includes(f.kind as BundleKind)) {
        problems.push(`${at}.kind: ${JSON.stringify(f.kind)} is not one of: ${BUNDLE_KINDS.join(", ")}`);
        return;
      }
      files.push({ path: f.path, sha256: f.sha256, kind: f.kind as BundleKind });
    });
    const cni = files.filter((f) => f.kind === "cni-manifest").length;
    if (cni > 1) problems.push(`files: ${cni} entries of kind cni-manifest: keep exactly one (the Calico manifest)`);
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.length} problem(s) in the offline bundle manifest:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return { kubernetesVersion: pinnedVersion, files };
}

/** Where one version's bundle lives on a host. */
export function remoteBundleDir(kubernetesVersion: string): string {
  return `${BUNDLE_DIR}/${kubernetesVersion}`;
}

/** `sha256sum -c` input, in manifest order. */
export function checksumList(m: BundleManifest): string {
  return m.files.map((f) => `${f.sha256}  ${f.path}\n`).join("");
}

/**
 * Shell that checks every file against the manifest and names each one that
 * is missing or differs. Runs before anything from the bundle is used.
 */
export function verifyBundleShell(m: BundleManifest): string {
  const dir = remoteBundleDir(m.kubernetesVersion);
  return [
    `cd ${q(dir)}`,
    `if ! report=$(${printfLines(checksumList(m))} | sha256sum --check --strict 2>&1); then`,
    `  bad=$(printf '%s\\n' "$report" | grep -v ': OK$' | sed 's/^/  /')`,
    `  echo "offline bundle in ${dir}: files missing or not matching bundle.json; copy the bundle again:" >&2`,
    `  printf '%s\\n' "$bad" >&2`,
    "  exit 4",
    "fi",
  ].join("\n");
}

/**
 * The packages step in air-gapped mode: check, install the .debs, binaries,
 * import images. `images: false` leaves the images out, for an upgrade
 * that imported them on every node before its first node moved.
 */
export function offlinePackagesStep(m: BundleManifest, guard: string, marker: string, opts: { images?: boolean } = {}): HostStep {
  const debs = m.files.filter((f) => f.kind === "deb").map((f) => `./${f.path}`);
  const units = m.files.filter((f) => f.kind === "systemd-unit");
  const apply = [guard, verifyBundleShell(m), "export DEBIAN_FRONTEND=noninteractive"];
  if (debs.length > 0) apply.push(`apt-get -o DPkg::Lock::Timeout=300 install -y --allow-downgrades ${debs.map(q).join(" ")}`);
  for (const f of m.files) {
    if (f.kind === "binary" || f.kind === "cni-plugin") apply.push(`install -D -m 0755 ${q(f.path)} ${q(`${INSTALL_DIRS[f.kind]}/${f.path.split("/").pop()}`)}`);
    // units/<name> and units/<unit>.d/<drop-in> keep their place below the folder.
    if (f.kind === "systemd-unit") apply.push(`install -D -m 0644 ${q(f.path)} ${q(`${INSTALL_DIRS[f.kind]}/${f.path.split("/").slice(1).join("/")}`)}`);
  }
  if (debs.length > 0) apply.push(`apt-mark hold ${KUBERNETES_PACKAGES.join(" ")} >/dev/null`);
  if (units.length > 0) {
    // A runtime from the bundle replaces the one host preparation started:
    // restart it before images go in, so they land in the runtime that runs.
    apply.push("systemctl daemon-reload");
    if (units.some((u) => u.path.endsWith("/containerd.service"))) apply.push("systemctl restart containerd");
    if (units.some((u) => u.path.endsWith("/kubelet.service"))) apply.push("systemctl enable kubelet >/dev/null 2>&1");
  }
  if (opts.images !== false) apply.push(...imageImports(m.files));
  apply.push(`printf '%s\\n' ${q(bundleDigest(m))} >${q(marker)}`);
  return {
    id: "kubeadm/packages-offline",
    title: `Kubernetes ${m.kubernetesVersion} installed from the offline bundle (checked against bundle.json)`,
    probe: `[ "$(cat ${q(marker)} 2>/dev/null)" = ${q(bundleDigest(m))} ]`,
    apply: apply.join("\n"),
  };
}

/**
 * containerd's label for an image the kubelet's garbage collection must
 * skip (the CRI reports it as pinned, as it does the sandbox image).
 */
const PINNED_IMAGE_LABEL = "io.cri-containerd.pinned=pinned";

/**
 * One import per image file. containerd's CRI plugin reads images from the
 * k8s.io namespace; imported anywhere else, kubelet would still pull them.
 * Each is pinned: once a node's disk is over the kubelet's image GC
 * threshold, the kubelet removes every image no container runs, and
 * air-gapped nothing pulls it back. An upgrade's images go on every node
 * before the first one moves, and wait unused until each node's turn.
 */
export function imageImports(files: BundleFile[]): string[] {
  return files.filter((f) => f.kind === "image").map((f) => `ctr -n k8s.io images import --label ${PINNED_IMAGE_LABEL} ${q(f.path)} >/dev/null`);
}

/** A stable fingerprint of the manifest (not cryptographic: the files are checked one by one). */
export function bundleDigest(m: BundleManifest): string {
  let h = 0x811c9dc5;
  for (const ch of checksumList(m)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `bundle-${m.kubernetesVersion}-${h.toString(16).padStart(8, "0")}`;
}
