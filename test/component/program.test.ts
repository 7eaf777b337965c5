import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { byType, registered, settle } from "../support/mocks";
import { loadStackFile } from "../../components/config/load";
import { buildPlan } from "../../components/plan";
import { Cluster } from "../../components/pulumi/Cluster";

test("the example stack (3 control planes + 2 workers) builds one Node component per host under the Cluster", async () => {
  const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
  const cluster = new Cluster("example", { plan: buildPlan(spec) });
  await settle();
  assert.equal(byType("ironroot:cluster:Cluster").length, 1);
  assert.deepEqual(
    byType("ironroot:host:Node").map((r) => r.name),
    ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2"],
  );
  assert.deepEqual(cluster.nodes.map((n) => n.roles), [
    ["control-plane"], ["control-plane"], ["control-plane"], ["worker"], ["worker"],
  ]);
  assert.ok(registered.length >= 6);
});
