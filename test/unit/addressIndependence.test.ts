// A rebuild on new hosts must produce the same cluster: the plan for the
// same stack on two address sets may differ only by the addresses
// themselves. A name, certificate, endpoint or app derived from an address
// (e.g. "cp-10-0-0-11" or a context "admin@10.0.0.11") would survive the
// swap below and show up as a difference.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { rawConfigFromStackFile } from "../../components/config/load";
import { parseStack } from "../../components/config/schema";
import { buildPlan } from "../../components/plan";
import { renderPlan } from "../../components/render/render";
import { differences, hostSwaps, swapDeep, swapText } from "../support/addresses";

const example = rawConfigFromStackFile(resolve(__dirname, "../../stacks/Pulumi.example.yaml"), "example");

function withAddresses(raw: Record<string, unknown>, addresses: string[], endpoint?: unknown): Record<string, unknown> {
  const hosts = (raw.hosts as Record<string, unknown>[]).map((h, i) => ({ ...h, address: addresses[i] }));
  const cluster = endpoint ? { ...(raw.cluster as object), endpoint } : raw.cluster;
  return { ...raw, hosts, cluster };
}

const OLD = ["203.0.113.11", "203.0.113.12", "203.0.113.13", "203.0.113.21", "203.0.113.22"];
// Chosen to overlap the old set as prefixes and suffixes ("198.51.100.1" is a
// prefix of no old address, "203.0.113.111" extends one) so a sloppy swap shows.
const NEW = ["198.51.100.1", "198.51.100.2", "203.0.113.111", "cp-2.dr.example.net", "198.51.100.22"];

const endpoints: [string, unknown, unknown][] = [
  ["local-lb", undefined, undefined],
  ["vip", { mode: "vip", address: "203.0.113.100" }, { mode: "vip", address: "198.51.100.100" }],
  ["dns", { mode: "dns", host: "api.example.net" }, { mode: "dns", host: "api.example.net" }],
];

for (const [mode, oldEndpoint, newEndpoint] of endpoints) {
  test(`endpoint ${mode}: the plan on new addresses is the old plan with the addresses swapped`, () => {
    const before = parseStack("example", withAddresses(example, OLD, oldEndpoint));
    const after = parseStack("example", withAddresses(example, NEW, newEndpoint));
    const swaps = hostSwaps(before.hosts, after.hosts);
    const vip = (e: unknown) => (e as { address?: string } | undefined)?.address;
    if (vip(oldEndpoint) && vip(oldEndpoint) !== vip(newEndpoint)) swaps.set(vip(oldEndpoint)!, vip(newEndpoint)!);
    assert.equal(swaps.size, OLD.length + (mode === "vip" ? 1 : 0));

    const planBefore = buildPlan(before);
    const planAfter = buildPlan(after);
    assert.deepEqual(differences(swapDeep(planBefore, swaps), planAfter), [], "plan differs beyond the addresses");

    const filesBefore = Object.fromEntries(renderPlan(planBefore));
    const filesAfter = Object.fromEntries(renderPlan(planAfter));
    assert.deepEqual(differences(swapDeep(filesBefore, swaps), filesAfter), [], "rendered files differ beyond the addresses");

    // And the addresses did reach the plan, so the comparison was not vacuous.
    assert.match(JSON.stringify(planBefore), /203\.0\.113\.11/);
  });
}

test("the comparison catches a name derived from an address", () => {
  const swaps = new Map([["10.0.0.11", "10.9.0.11"]]);
  const oldPlan = { context: "admin@10.0.0.11", node: "cp-10-0-0-11" };
  const newPlan = { context: "admin@10.9.0.11", node: "cp-10-9-0-11" };
  assert.deepEqual(differences(swapDeep(oldPlan, swaps), newPlan), [`node: "cp-10-0-0-11" vs "cp-10-9-0-11"`]);
});

test("swapping replaces whole addresses only, all in one pass", () => {
  const swaps = new Map([["10.0.0.1", "10.0.0.2"], ["10.0.0.2", "10.0.0.1"], ["cp.example.net", "cp.dr.example.net"]]);
  assert.equal(
    swapText("10.0.0.1 10.0.0.11 110.0.0.1 10.0.0.1:6443 https://10.0.0.2:2380 10.0.0.1. cp.example.net a-cp.example.net cp.example.network", swaps),
    "10.0.0.2 10.0.0.11 110.0.0.1 10.0.0.2:6443 https://10.0.0.1:2380 10.0.0.2. cp.dr.example.net a-cp.example.net cp.example.network",
  );
  assert.deepEqual(swapDeep({ "10.0.0.1": ["x 10.0.0.2"] }, swaps), { "10.0.0.2": ["x 10.0.0.1"] });
});
