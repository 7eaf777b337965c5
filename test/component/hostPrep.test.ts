import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { byType, settle } from "../support/mocks";
import { loadStackFile } from "../../components/config/load";
import { buildPlan } from "../../components/plan";
import { HostPrep } from "../../components/pulumi/HostPrepProvider";
import { keylessTarget } from "../../components/ssh/executor";

test("HostPrep registers the node's steps in plan order, its target, and the private key as a secret", async () => {
  const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
  const node = buildPlan(spec).nodes[0];
  const target = keylessTarget(spec, node.name);
  const parent = new pulumi.ComponentResource("ironroot:host:Node", node.name, {});
  const prep = new HostPrep(`${node.name}-prep`, { node: node.name, target, steps: node.prep, virt: "kvm", privateKey: "KEYTEXT" }, { parent });
  await settle();
  const [r] = byType("pulumi-nodejs:dynamic/host:HostPrep");
  assert.ok(r, "no HostPrep registered");
  assert.equal(r.name, "cp-1-prep");
  assert.deepEqual((r.inputs.steps as { id: string }[]).map((s) => s.id), node.prep.map((s) => s.id));
  assert.equal((r.inputs.target as { hostKey: string }).hostKey, spec.hosts[0].hostKey);
  assert.equal((r.inputs.target as { hostKeyConfigPath: string }).hostKeyConfigPath, "hosts[0].hostKey");
  assert.equal(r.inputs.virt, "kvm");
  assert.equal(await pulumi.isSecret(prep.privateKey as never), true);
  assert.equal(typeof r.inputs.__provider, "string", "the provider travels serialized with the resource");
});
