// The OfflineBundle provider against a real lab host (lab-2): create sends
// the bundle and checks it there; the same create again sends nothing;
// a file damaged on the host is sent again, one damaged locally is refused
// by name before anything is sent; refresh sees a file removed by hand.
// The bundle goes to a version folder of its own, so the kubeadm install
// test's bundle on the same host is never touched.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { BundleFile } from "../../components/plan/kubeadm/bundle";
import { remoteBundleDir } from "../../components/plan/kubeadm/bundle";
import { offlineBundleProvider, type OfflineBundleState } from "../../components/pulumi/OfflineBundleProvider";
import { closeAll } from "../../components/ssh/pool";
import { keylessTarget, targetFor } from "../../components/plan/targets";
import { session } from "../../components/ssh/session";
import type { HostSession } from "../../components/ssh/types";
import { lab, labCredentials } from "../support/lab";

const HOST = "lab-2";
const { spec, skip: noLab } = lab();
const skip = noLab ?? (spec && !spec.hosts.some((h) => h.name === HOST) ? `the lab has no host ${HOST}: run \`sudo scripts/lab up 3\`` : undefined);

const VERSION = `${spec?.cluster.kubernetesVersion ?? "1.34.2"}-offline-bundle-test`;
const REMOTE = remoteBundleDir(VERSION);
const CONTENT: Record<string, string> = {
  "debs/placeholder.deb": "not a real package: the test checks transfer and checksums only\n",
  "images/pause.tar": "image bytes\n".repeat(5000),
  "manifests/calico vxlan.yaml": "kind: List\nitems: []\n",
};
const KIND: Record<string, BundleFile["kind"]> = { debs: "deb", images: "image", manifests: "cni-manifest" };
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe(`OfflineBundle provider on ${HOST}`, { skip }, () => {
  const local = mkdtempSync(join(tmpdir(), "ironroot-offline-bundle-"));
  const provider = offlineBundleProvider(labCredentials(spec!));
  let s: HostSession;
  let inputs: OfflineBundleState;

  /** Inode and mtime of every remote file: an upload (temp file + rename) changes the inode. */
  async function remoteIdentity(): Promise<string> {
    return s.check("list the bundle", `cd '${REMOTE}' && find . -type f -printf '%P %i %T@\\n' | sort`);
  }

  before(async () => {
    const target = keylessTarget(spec!, HOST);
    s = session(targetFor(spec!, HOST));
    await s.check("clearing an earlier run", `rm -rf -- '${REMOTE}'`);
    for (const [p, c] of Object.entries(CONTENT)) {
      mkdirSync(dirname(join(local, p)), { recursive: true });
      writeFileSync(join(local, p), c);
    }
    const files = Object.entries(CONTENT).map(([path, c]) => ({ path, sha256: sha(c), kind: KIND[path.split("/")[0]] }));
    writeFileSync(join(local, "bundle.json"), JSON.stringify({ kubernetesVersion: VERSION, files }));
    inputs = { node: HOST, target, bundleDir: local, kubernetesVersion: VERSION, files };
  });
  after(async () => {
    await s?.run(`rm -rf -- '${REMOTE}'`);
    rmSync(local, { recursive: true, force: true });
    await closeAll();
  });

  test("first create sends every file; the host has them with the manifest's sha256", async () => {
    const r = await provider.create!(inputs);
    assert.equal(r.id, `${HOST}-offline-bundle`);
    assert.deepEqual([...r.outs!.sent!].sort(), Object.keys(CONTENT).sort());
    const sums = await s.check("checksums", `cd '${REMOTE}' && sha256sum -- ${Object.keys(CONTENT).map((p) => `'${p}'`).join(" ")}`);
    for (const [p, c] of Object.entries(CONTENT)) assert.ok(sums.includes(`${sha(c)}  ${p}`), `${p} on the host: ${sums}`);
    assert.doesNotMatch(JSON.stringify(r.outs), /privateKey|agent/, "no credential in the outputs");
  });

  test("second create with the same bundle sends nothing and writes nothing; diff sees no change", async () => {
    const before = await remoteIdentity();
    const r = await provider.create!(inputs);
    assert.deepEqual(r.outs!.sent, []);
    assert.equal(await remoteIdentity(), before, "a file on the host was rewritten");
    assert.equal((await provider.diff!(r.id, r.outs!, inputs)).changes, false);
  });

  test("a file damaged on the host is sent again, and only that one", async () => {
    await s.check("damage a file", `printf 'x' >>'${REMOTE}/images/pause.tar'`);
    const r = await provider.update!(`${HOST}-offline-bundle`, inputs, inputs);
    assert.deepEqual(r.outs!.sent, ["images/pause.tar"]);
  });

  test("refresh: a file removed by hand leaves the state's file list, so the next up is a change", async () => {
    await s.check("remove a file", `rm -f -- '${REMOTE}/manifests/calico vxlan.yaml'`);
    const r = await provider.read!(`${HOST}-offline-bundle`, { ...inputs, sent: [] });
    assert.deepEqual((r.props!.files as BundleFile[]).map((f) => f.path).sort(), ["debs/placeholder.deb", "images/pause.tar"]);
    assert.equal((await provider.diff!(r.id!, r.props!, inputs)).changes, true);
    assert.deepEqual((await provider.update!(r.id!, r.props!, inputs)).outs!.sent, ["manifests/calico vxlan.yaml"]);
  });

  test("a file corrupted locally is refused, naming the host and the file, and nothing is sent", async () => {
    const before = await remoteIdentity();
    writeFileSync(join(local, "images/pause.tar"), "tampered\n");
    await assert.rejects(provider.create!(inputs), (e: Error) => {
      assert.match(e.message, new RegExp(`^${HOST} \\(${spec!.hosts.find((h) => h.name === HOST)!.address}:\\d+\\): offline bundle: checking the local files before upload: `));
      assert.match(e.message, /images\/pause\.tar: sha256 is [0-9a-f]{64}, bundle\.json says/);
      assert.doesNotMatch(e.message, /placeholder\.deb/);
      return true;
    });
    assert.equal(await remoteIdentity(), before, "something was sent from a corrupted bundle");
  });
});
