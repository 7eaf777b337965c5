import assert from "node:assert/strict";
import { test } from "node:test";
import { versionChange, versionChangeProblem } from "../../components/plan/kubeadm/versionChange";

test("a version change is none, an upgrade (a patch, or the next minor), a downgrade, or a skip through the minors between", () => {
  const cases: [string, string, ReturnType<typeof versionChange>][] = [
    ["1.36.3", "1.36.3", { kind: "none" }],
    ["1.36.1", "1.36.3", { kind: "upgrade" }],
    ["1.36.3", "1.37.0", { kind: "upgrade" }],
    ["1.36.3", "1.36.1", { kind: "downgrade" }],
    ["1.37.0", "1.36.3", { kind: "downgrade" }],
    ["2.0.0", "1.36.3", { kind: "downgrade" }],
    ["1.35.4", "1.37.2", { kind: "skip", through: ["1.36"] }],
    ["1.34.0", "1.37.2", { kind: "skip", through: ["1.35", "1.36"] }],
  ];
  for (const [installed, wanted, want] of cases) assert.deepEqual(versionChange(installed, wanted), want, `${installed} -> ${wanted}`);
  assert.throws(() => versionChange("1.36", "1.36.3"), /not a Kubernetes version: "1\.36"/);
});

test("a downgrade or a skipped minor is refused with both versions, the way through and the pin to go back to; an upgrade is allowed", () => {
  assert.equal(versionChangeProblem("1.36.3", "1.36.3"), undefined);
  assert.equal(
    versionChangeProblem("1.37.0", "1.36.3"),
    'Kubernetes 1.37.0 is installed and cluster.kubernetesVersion is 1.36.3, which is older: kubeadm cannot downgrade a cluster: pin cluster.kubernetesVersion back to "1.37.0"',
  );
  assert.equal(
    versionChangeProblem("1.35.4", "1.37.2"),
    "Kubernetes 1.35.4 is installed and cluster.kubernetesVersion is 1.37.2, which skips 1.36: kubeadm upgrades one minor at a time: " +
      'pin each minor in turn and run `pulumi up` for each (1.35.4 -> 1.36.x -> 1.37.2), or pin cluster.kubernetesVersion back to "1.35.4"',
  );
  assert.equal(versionChangeProblem("1.36.3", "1.37.0"), undefined, "the next minor");
  assert.equal(versionChangeProblem("1.36.1", "1.36.3"), undefined, "a newer patch");
});
