// Reordering `hosts` changes nothing: the whole program is built under mocks
// for the example stack in its order and in reverse, and every ironroot
// resource of the first build is diffed against its namesake in the second
// by the resource's own provider, as the engine would on `pulumi preview`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { registered, settle, type Registered } from "../support/mocks";
import { loadStackFile } from "../../components/config/load";
import type { StackSpec } from "../../components/config/schema";
import { parseFacts } from "../../components/plan/facts";
import { rerunSettings, type DiskBenchmarkInputs } from "../../components/pulumi/DiskBenchmarkProvider";
import { buildStack } from "../../components/pulumi/stack";
import { call } from "../../components/pulumi/providers";
import type { ProviderKind } from "../../components/pulumi/hostResource";

const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
const reversed: StackSpec = { ...spec, hosts: [...spec.hosts].reverse() };
const labFacts = parseFacts(readFileSync(resolve(__dirname, "../fixtures/facts/lab-nspawn-debian12.txt"), "utf8"));
// A running cluster: every host reports itself a member.
const facts = Object.fromEntries(spec.hosts.map((h) => [h.name, { ...labFacts, kubernetesMember: true }]));

async function build(s: StackSpec): Promise<Map<string, Registered>> {
  const from = registered.length;
  buildStack({ spec: s, facts, deployKey: pulumi.secret("deploy-key-not-real") });
  await settle();
  await new Promise((r) => setTimeout(r, 200));
  await settle();
  return new Map(registered.slice(from).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/ironroot:")).map((r) => [r.name, r]));
}

/** What a created resource's state holds besides its inputs, where a provider's diff looks at it. */
function asCreated(r: Registered): Record<string, unknown> {
  const { __provider: _stub, ...inputs } = r.inputs;
  if (r.type.endsWith(":KubernetesNode")) return { ...inputs, membership: "member" };
  if (r.type.endsWith(":DiskBenchmarkRun")) return { ...inputs, settings: rerunSettings(inputs as unknown as DiskBenchmarkInputs) };
  return inputs;
}

test("the example stack with its hosts reversed: every resource has the same name, and no provider's diff sees a change", async () => {
  const a = await build(spec);
  const b = await build(reversed);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  assert.ok(a.size > 20, `only ${a.size} resources built`);
  const changed: string[] = [];
  for (const [name, ra] of a) {
    const rb = b.get(name)!;
    const { __provider: _stub, ...inputs } = rb.inputs;
    // The hosts are as their steps want them (no probe over SSH here).
    const news = ra.type.endsWith(":HostPrep") ? { ...inputs, pendingSteps: [] } : inputs;
    const kind = ra.type.split(":").pop() as ProviderKind;
    const d = (await call(kind, "diff", [`${name}-id`, asCreated(ra), news])) as pulumi.dynamic.DiffResult;
    if (d.changes || (d.replaces ?? []).length > 0) changed.push(`${name}: ${JSON.stringify(d)}`);
  }
  assert.deepEqual(changed, []);
});
