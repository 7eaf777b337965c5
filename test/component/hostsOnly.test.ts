// A stack with `layers: hosts` under mocks: hosts are prepared, benchmarked
// and get their kubelet file; nothing of Kubernetes or GitOps is registered.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";

import { registered, settle } from "../support/mocks";
import { loadStackFile } from "../../components/config/load";
import { parseFacts } from "../../components/plan/facts";
import { buildStack } from "../../components/pulumi/stack";

const example = loadStackFile(resolve(__dirname, "../../stacks"), "example");
const spec = { ...example, layers: "hosts" as const };
const labFacts = parseFacts(readFileSync(resolve(__dirname, "../fixtures/facts/lab-nspawn-debian12.txt"), "utf8"));
const { outputs } = buildStack({
  spec,
  facts: Object.fromEntries(spec.hosts.map((h) => [h.name, labFacts])),
});

test("layers: hosts registers preparation, disk gates and kubelet files only", async () => {
  await settle();
  const types = new Set(registered.map((r) => r.type));
  for (const t of ["ironroot:host:Node", "ironroot:host:DiskBenchmark", "ironroot:host:KubeletRollout"]) assert.ok(types.has(t), `${t} registered`);
  const beyond = registered.filter((r) => /k8s|kubeadm|gitops|kubernetes:|command:/i.test(`${r.type} ${r.name}`));
  assert.deepEqual(beyond.map((r) => `${r.type} ${r.name}`), []);
  assert.equal(registered.filter((r) => r.type === "ironroot:host:Node").length, spec.hosts.length);
});

test("layers: hosts has no kubeconfig or sealing key output, and says how far it went", () => {
  assert.equal(outputs.layers, "hosts");
  assert.equal("kubeconfig" in outputs, false);
  assert.equal("sealingKey" in outputs, false);
  assert.deepEqual(outputs.nodes, spec.hosts.map((h) => h.name));
});
