// The install path on a real lab host, as far as this machine allows:
// pkgs.k8s.io is unreachable here, so the online package step must fail
// clearly and leave apt working; the offline bundle's upload and checksum
// check run for real.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createHash } from "node:crypto";
import { remoteBundleDir } from "../../components/plan/kubeadm/bundle";
import { onlinePackagesStep, SOURCE_LIST } from "../../components/plan/kubeadm/packages";
import { aptRepoUrl } from "../../components/plan/kubeadm/versions";
import { stepScript } from "../../components/plan/step";
import { closeAll } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import { readLocalBundle, uploadBundle, verifyUploadedBundle } from "../../components/host/offlineBundle";
import type { HostSession } from "../../components/ssh/types";
import { lab } from "../support/lab";

const HOST_INDEX = 1; // lab-2
const { spec, skip: noLab } = lab();
const skip = noLab ?? (spec && spec.hosts.length <= HOST_INDEX ? `the lab has ${spec.hosts.length} host(s); this test uses the second: run \`sudo scripts/lab up 3\`` : undefined);

describe("kubeadm install on a lab host", { skip }, () => {
  let s: HostSession;
  let host: string;
  const version = spec?.cluster.kubernetesVersion ?? "1.34.2";
  const local = mkdtempSync(join(tmpdir(), "ironroot-bundle-"));

  before(() => {
    host = spec!.hosts[HOST_INDEX].name;
    s = session(targetFor(spec!, spec!.hosts[HOST_INDEX]));
  });
  after(async () => {
    await s?.run(`rm -rf '${remoteBundleDir(version)}'`);
    rmSync(local, { recursive: true, force: true });
    await closeAll();
  });

  test("unreachable package repository: named in the error, apt left working, second run the same", async () => {
    const script = stepScript(onlinePackagesStep(host, version));
    const runs = [];
    for (let i = 0; i < 2; i++) runs.push(await s.run(script, { timeoutSeconds: 240 }));
    for (const r of runs) {
      assert.notEqual(r.code, 0, "the package step cannot succeed without the repository");
      assert.match(r.stderr, new RegExp(`^${host}: (cannot reach|apt cannot read) the Kubernetes package repository ${aptRepoUrl(version).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"));
      assert.match(r.stderr, /cluster\.offlineBundleDir/, "the error points at the air-gapped mode");
    }
    assert.equal(runs[0].code, runs[1].code, "the second attempt behaves like the first");
    assert.equal((await s.run(`test -e ${SOURCE_LIST}`)).code, 1, "no half-written apt source is left behind");
    assert.equal((await s.run("apt-get check >/dev/null")).code, 0, "apt still works");
  });

  test("offline bundle: uploaded, checked by sha256 on the host, a corrupted file refused by name", async () => {
    const files: Record<string, string> = {
      "debs/placeholder.txt": "not a real package: the test checks transfer and checksums only\n",
      "images/pause.tar": "image bytes\n".repeat(1000),
      "manifests/calico-vxlan.yaml": "kind: List\nitems: []\n",
    };
    const kinds: Record<string, string> = { debs: "binary", images: "image", manifests: "cni-manifest" };
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(dirname(join(local, p)), { recursive: true });
      writeFileSync(join(local, p), c);
    }
    writeFileSync(join(local, "bundle.json"), JSON.stringify({
      kubernetesVersion: version,
      files: Object.entries(files).map(([path, c]) => ({ path, sha256: createHash("sha256").update(c).digest("hex"), kind: kinds[path.split("/")[0]] })),
    }));
    const bundle = await readLocalBundle(local, version);
    await uploadBundle(s, bundle);
    const listed = await s.check("list the bundle", `cd '${remoteBundleDir(version)}' && find . -type f | sort`);
    assert.deepEqual(listed.trim().split("\n"), ["./debs/placeholder.txt", "./images/pause.tar", "./manifests/calico-vxlan.yaml"]);

    // Corrupt one file on the host: the check must refuse it by name.
    await s.check("corrupt a file", `printf 'x' >>'${remoteBundleDir(version)}/images/pause.tar'`);
    await assert.rejects(verifyUploadedBundle(s, bundle.manifest), (e: Error) => {
      assert.match(e.message, new RegExp(`^${host} \\(.*\\): offline bundle: checking the uploaded files: offline bundle in ${remoteBundleDir(version)}: files missing or not matching bundle.json`));
      assert.match(e.message, /images\/pause\.tar: FAILED/);
      assert.doesNotMatch(e.message, /placeholder\.txt/);
      return true;
    });

    // And locally, before anything is sent.
    writeFileSync(join(local, "manifests/calico-vxlan.yaml"), "tampered\n");
    await assert.rejects(readLocalBundle(local, version), /manifests\/calico-vxlan\.yaml: sha256 is [0-9a-f]{64}, bundle\.json says/);
  });
});
