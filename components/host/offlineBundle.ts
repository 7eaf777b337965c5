// Air-gapped mode, the part that touches files and hosts: read the
// operator's bundle folder, check every file against bundle.json locally,
// copy it to a host over SSH and check it again there before anything
// from it is installed.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../plan/shell";
import { BUNDLE_MANIFEST, parseBundleManifest, remoteBundleDir, verifyBundleShell, type BundleManifest } from "../plan/kubeadm/bundle";
import { HostError, type HostSession } from "../ssh/types";

/** The local bundle cannot be used: the message names the config path, the file and the fix. */
export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

export interface LocalBundle {
  dir: string;
  manifest: BundleManifest;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path).on("data", (d) => h.update(d)).on("error", reject).on("end", () => resolve(h.digest("hex")));
  });
}

/** Read and check the local bundle; every missing or corrupted file is named. */
export async function readLocalBundle(dir: string, kubernetesVersion: string): Promise<LocalBundle> {
  if (!existsSync(dir)) {
    throw new BundleError(`cluster.offlineBundleDir: the folder ${dir} does not exist on this machine: copy the offline bundle (${BUNDLE_MANIFEST} and its files) there, or remove offlineBundleDir to install from the package repository`);
  }
  const manifestPath = join(dir, BUNDLE_MANIFEST);
  if (!existsSync(manifestPath)) {
    throw new BundleError(`cluster.offlineBundleDir: ${manifestPath} does not exist: put the bundle's ${BUNDLE_MANIFEST} (files with sha256 and kind) in ${dir}`);
  }
  let manifest: BundleManifest;
  try {
    manifest = parseBundleManifest(readFileSync(manifestPath, "utf8"), manifestPath, kubernetesVersion);
  } catch (e) {
    throw new BundleError(`cluster.offlineBundleDir: ${(e as Error).message}`);
  }
  const problems: string[] = [];
  for (const f of manifest.files) {
    const path = join(dir, f.path);
    if (!existsSync(path)) {
      problems.push(`${f.path}: missing`);
      continue;
    }
    const actual = await sha256File(path);
    if (actual !== f.sha256) problems.push(`${f.path}: sha256 is ${actual}, bundle.json says ${f.sha256}`);
  }
  if (problems.length > 0) {
    throw new BundleError(`cluster.offlineBundleDir: ${dir}: files do not match ${BUNDLE_MANIFEST}; rebuild or re-download the bundle:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return { dir, manifest };
}

/** What an upload did: files copied, and files the host already had with the manifest's sha256. */
export interface UploadSummary {
  sent: string[];
  alreadyThere: string[];
}

/**
 * Manifest paths whose file on the host already has the manifest's sha256.
 * One read-only command; a missing folder or file simply is not listed.
 */
export async function filesAlreadyOnHost(s: HostSession, manifest: BundleManifest): Promise<Set<string>> {
  if (manifest.files.length === 0) return new Set();
  const remote = remoteBundleDir(manifest.kubernetesVersion);
  // sha256sum exits non-zero when a file is missing; the lines it printed for the others still count.
  const r = await s.run(`cd ${shellQuote(remote)} 2>/dev/null || exit 0\nsha256sum -- ${manifest.files.map((f) => shellQuote(f.path)).join(" ")} 2>/dev/null\nexit 0`);
  if (r.code !== 0) {
    const t = s.target;
    throw new HostError(t.name, `${t.address}:${t.port}`, `offline bundle: reading the checksums of ${remote}`, r.stderr.trim() || `exit status ${r.code}`);
  }
  const onHost = new Map<string, string>();
  for (const line of r.stdout.split("\n")) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) onHost.set(m[2], m[1]);
  }
  return new Set(manifest.files.filter((f) => onHost.get(f.path) === f.sha256).map((f) => f.path));
}

/**
 * Copy the bundle to the host and check it there. Files the host already
 * has with the right sha256 are not sent again, so a second run costs one
 * checksum pass instead of the whole transfer. A file that arrives
 * different (disk, transfer, tampering) is refused by name, before use.
 */
export async function uploadBundle(s: HostSession, bundle: LocalBundle): Promise<UploadSummary> {
  const remote = remoteBundleDir(bundle.manifest.kubernetesVersion);
  const present = await filesAlreadyOnHost(s, bundle.manifest);
  const missing = bundle.manifest.files.filter((f) => !present.has(f.path));
  if (missing.length > 0) {
    const dirs = [...new Set(missing.map((f) => `${remote}/${f.path}`.replace(/\/[^/]*$/, "")))];
    await s.check("offline bundle: create the bundle folder", `install -d -m 0755 ${dirs.map(shellQuote).join(" ")}`);
  }
  for (const f of missing) {
    await s.upload(join(bundle.dir, f.path), `${remote}/${f.path}`);
  }
  await verifyUploadedBundle(s, bundle.manifest);
  return { sent: missing.map((f) => f.path), alreadyThere: [...present] };
}

export async function verifyUploadedBundle(s: HostSession, manifest: BundleManifest): Promise<void> {
  const r = await s.run(verifyBundleShell(manifest));
  if (r.code !== 0) {
    const t = s.target;
    throw new HostError(t.name, `${t.address}:${t.port}`, "offline bundle: checking the uploaded files", r.stderr.trim());
  }
}
