// `npm run render` on an air-gapped stack: it reads and checks the local
// bundle as `pulumi up` does, writes the offline install steps, and a
// missing or damaged bundle is a clear error (exit 1, no stack trace).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, test } from "node:test";

const ROOT = resolve(__dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "ironroot-render-offline-"));
after(() => rmSync(work, { recursive: true, force: true }));

const CONTENT: Record<string, [string, string]> = {
  "debs/kubeadm_1.36.3-1.1_amd64.deb": ["deb", "kubeadm package bytes\n"],
  "images/pause_3.10.tar": ["image", "pause image bytes\n"],
  "manifests/calico.yaml": ["cni-manifest", "kind: List\nitems: []\n"],
};

function bundle(dir: string, version = "1.36.3"): void {
  for (const [p, [, c]] of Object.entries(CONTENT)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  const files = Object.entries(CONTENT).map(([path, [kind, c]]) => ({ path, kind, sha256: createHash("sha256").update(c).digest("hex") }));
  writeFileSync(join(dir, "bundle.json"), JSON.stringify({ kubernetesVersion: version, files }));
}

/** The example stack with cluster.offlineBundleDir set, in a stacks folder of its own. */
function offlineStack(name: string, bundleDir: string): string {
  const dir = join(work, `stacks-${name}`);
  mkdirSync(dir, { recursive: true });
  const example = readFileSync(join(ROOT, "stacks/Pulumi.example.yaml"), "utf8");
  const withBundle = example.replace(/^( {2}ironroot:cluster:\n)/m, `$1    offlineBundleDir: ${bundleDir}\n`);
  assert.notEqual(withBundle, example, "the example stack has no ironroot:cluster section to extend");
  writeFileSync(join(dir, "Pulumi.offline.yaml"), withBundle);
  return dir;
}

function render(stacksDir: string, out: string) {
  return spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/render.ts"), "--stack", "offline", "--out", out, "--stacks-dir", stacksDir], {
    cwd: ROOT,
    encoding: "utf8",
  });
}

test("an offline stack renders the install from the bundle, naming its files", () => {
  const dir = join(work, "bundle-ok");
  bundle(dir);
  const out = join(work, "out-ok");
  const r = render(offlineStack("ok", dir), out);
  assert.equal(r.status, 0, r.stderr);
  const scripts = readdirSync(join(out, "nodes/cp-1/kubeadm"));
  const name = scripts.find((f) => /-kubeadm-packages-offline\.sh$/.test(f));
  assert.ok(name, `no offline packages script among ${scripts.join(", ")}`);
  assert.ok(!scripts.some((f) => /-kubeadm-packages\.sh$/.test(f)), "the online packages script is rendered too");
  const packages = readFileSync(join(out, "nodes/cp-1/kubeadm", name), "utf8");
  assert.match(packages, /installed from the offline bundle/);
  assert.match(packages, /\.\/debs\/kubeadm_1\.36\.3-1\.1_amd64\.deb/);
  assert.match(packages, /images import --label io\.cri-containerd\.pinned=pinned 'images\/pause_3\.10\.tar'/);
  assert.doesNotMatch(packages, /pkgs\.k8s\.io/, "an air-gapped node must not reach for the package repository");
  assert.match(readFileSync(join(out, "cluster/kubeadm/cni.sh"), "utf8"), /\/var\/lib\/ironroot\/bundle\/1\.36\.3\/manifests\/calico\.yaml/);
});

test("a missing bundle folder is one clear error naming the config path and the folder", () => {
  const missing = join(work, "no-such-bundle");
  const r = render(offlineStack("missing", missing), join(work, "out-missing"));
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr.trim(),
    `cluster.offlineBundleDir: the folder ${missing} does not exist on this machine: copy the offline bundle (bundle.json and its files) there, or remove offlineBundleDir to install from the package repository`,
  );
});

test("a corrupted bundle file is refused by name; a bundle for another version too", () => {
  const dir = join(work, "bundle-bad");
  bundle(dir);
  writeFileSync(join(dir, "images/pause_3.10.tar"), "tampered\n");
  const r = render(offlineStack("bad", dir), join(work, "out-bad"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^cluster\.offlineBundleDir: .*files do not match bundle\.json/);
  assert.match(r.stderr, /images\/pause_3\.10\.tar: sha256 is [0-9a-f]{64}, bundle\.json says/);
  assert.doesNotMatch(r.stderr, /kubeadm_1\.36\.3|calico\.yaml|\n\s+at /);

  const other = join(work, "bundle-other-version");
  bundle(other, "1.33.5");
  const v = render(offlineStack("version", other), join(work, "out-version"));
  assert.equal(v.status, 1);
  assert.match(v.stderr, /kubernetesVersion: the bundle is for "1\.33\.5" but cluster\.kubernetesVersion pins "1\.36\.3"/);
});
