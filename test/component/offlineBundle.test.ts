// Air-gapped mode under mocks: the example stack with cluster.offlineBundleDir
// set gets one OfflineBundle per node, after the node's preparation and
// before its Kubernetes packages step; the same stack online gets none.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { dependsOnTransitively, registrations } from "../support/monitorSpy";
import { byType, settle } from "../support/mocks";
import { loadStackFile } from "../../components/config/load";
import type { StackSpec } from "../../components/config/schema";
import { parseFacts } from "../../components/plan/facts";
import type { BundleManifest } from "../../components/plan/kubeadm/bundle";
import { buildStack } from "../../components/pulumi/stack";

const TYPE = "pulumi-nodejs:dynamic/ironroot:OfflineBundle";
const example = loadStackFile(resolve(__dirname, "../../stacks"), "example");
const labFacts = parseFacts(readFileSync(resolve(__dirname, "../fixtures/facts/lab-nspawn-debian12.txt"), "utf8"));
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

const manifest: BundleManifest = {
  kubernetesVersion: example.cluster.kubernetesVersion,
  files: [
    { path: "debs/kubeadm.deb", sha256: sha("kubeadm"), kind: "deb" },
    { path: "images/pause.tar", sha256: sha("pause"), kind: "image" },
    { path: "manifests/calico.yaml", sha256: sha("calico"), kind: "cni-manifest" },
  ],
};

/** The example stack under another cluster name and host names, so two stacks fit in one mock run. */
function variant(prefix: string, offlineBundleDir?: string): StackSpec {
  return {
    ...example,
    hosts: example.hosts.map((h) => ({ ...h, name: `${prefix}${h.name}` })),
    cluster: { ...example.cluster, name: `${prefix}example`, ...(offlineBundleDir ? { offlineBundleDir } : {}) },
  };
}

function build(spec: StackSpec, bundle?: BundleManifest) {
  return buildStack({
    spec,
    facts: Object.fromEntries(spec.hosts.map((h) => [h.name, labFacts])),
    deployKey: pulumi.secret("deploy-key-not-real"),
    planInputs: bundle ? { kubeadm: { bundle } } : {},
  });
}

const offline = variant("", "/srv/ironroot-bundle");
const NODES = offline.hosts.map((h) => h.name);
const { cluster } = build(offline, manifest);

function reg(name: string) {
  const r = registrations.get(name);
  assert.ok(r, `no resource named ${name}; registered: ${[...registrations.keys()].join(", ")}`);
  return r;
}

test("offline: every node gets its OfflineBundle with the bundle folder, version and file list", async () => {
  await settle();
  const bundles = byType(TYPE);
  assert.deepEqual(bundles.map((b) => b.name).sort(), NODES.map((n) => `${n}-offline-bundle`).sort());
  for (const n of NODES) {
    const b = bundles.find((r) => r.name === `${n}-offline-bundle`)!;
    assert.equal(b.inputs.node, n);
    assert.equal(b.inputs.bundleDir, "/srv/ironroot-bundle");
    assert.equal(b.inputs.kubernetesVersion, example.cluster.kubernetesVersion);
    assert.deepEqual(b.inputs.files, manifest.files);
    const target = b.inputs.target as { name: string; address: string; hostKey: string; privateKey?: string };
    assert.equal(target.name, n);
    assert.equal(target.address, offline.hosts.find((h) => h.name === n)!.address);
    assert.equal("privateKey" in target, false, "the key travels apart from the target");
    assert.equal(typeof b.inputs.__provider, "string", "the provider travels serialized with the resource");
    assert.equal(reg(`${n}-offline-bundle`).provider !== undefined, true);
  }
  assert.deepEqual(Object.keys(cluster.offlineBundles), NODES);
});

test("offline: the bundle goes on after the node's prep and before Kubernetes goes on the node", async () => {
  await settle();
  for (const n of NODES) {
    assert.ok(reg(`${n}-offline-bundle`).dependsOn.includes(`${n}-prep`), `${n}: bundle after prep: ${reg(`${n}-offline-bundle`).dependsOn.join(", ")}`);
    const member = reg(`${n}-kubernetes`).dependsOn;
    assert.ok(member.includes(`${n}-offline-bundle`), `${n}: the packages step waits for the bundle: ${member.join(", ")}`);
    assert.ok(!dependsOnTransitively(`${n}-offline-bundle`).has(`${n}-kubernetes`), `${n}: no cycle`);
  }
  // Each node's bundle gates its own install, not only the cluster as a whole.
  assert.ok(!reg("cp-2-offline-bundle").dependsOn.includes("cp-1-prep"));
});

test("offline: no credential of any kind is an input (providers read it from the stack config)", async () => {
  await settle();
  for (const n of NODES) {
    const inputs = byType(TYPE).find((r) => r.name === `${n}-offline-bundle`)!.inputs;
    const { __provider: _stored, ...rest } = inputs as Record<string, unknown>;
    assert.doesNotMatch(JSON.stringify(rest), /privateKey|agent|BEGIN/, n);
  }
});

test("online: the same stack without offlineBundleDir creates no OfflineBundle", async () => {
  await settle();
  const before = byType(TYPE).length;
  const online = build(variant("on-"));
  await settle();
  assert.ok(registrations.has("on-cp-1-kubernetes"), "the online stack was built");
  assert.equal(byType(TYPE).length, before);
  assert.deepEqual(online.cluster.offlineBundles, {});
  assert.ok(!reg("on-cp-1-kubernetes").dependsOn.some((d) => d.endsWith("offline-bundle")));

});

test("offlineBundleDir without the manifest read is refused, naming the config path", () => {
  assert.throws(() => build(variant("x-", "/srv/ironroot-bundle")), /^Error: cluster\.offlineBundleDir: the bundle manifest was not read/);
});
