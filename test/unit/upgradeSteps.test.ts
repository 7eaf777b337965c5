// The order of one node's Kubernetes upgrade (kubeadm, its kubeadm upgrade,
// mark, cordon, drain, kubelet, Ready, uncordon: kubeadm's order) and what
// each failure leaves, against scripted sessions that answer kubectl the way a cluster
// would. The real commands run in test/engine/kubernetesUpgrade.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubeadmSnapshotOptions } from "../../components/plan/etcdSnapshot";
import { planUpgrade } from "../../components/plan/kubeadm/upgrade";
import { UPGRADE_CORDON_ANNOTATION, upgradeNode } from "../../components/host/kubernetesUpgrade";
import { HostError } from "../../components/ssh/types";
import { scripted } from "../support/scriptedSession";

const plan = planUpgrade(
  [{ name: "cp-1", isControlPlane: true }, { name: "cp-2", isControlPlane: true }],
  {
    version: "1.36.3",
    snapshot: kubeadmSnapshotOptions({ enabled: true, schedule: "hourly", dir: "/var/backups/etcd", retention: 24 }),
    allowCgroupV1: false,
    drainTimeoutSeconds: 60,
    readyTimeoutSeconds: 30,
  },
).nodes[1];

/** cp-2 as the API shows it: at 1.35.4 until its kubelet step ran, then at 1.36.3. */
function cluster(failing: { drain?: boolean; step?: "kubeadm" | "upgrade" | "kubelet" } = {}) {
  const fail = { ...failing };
  const log: string[] = [];
  let kubelet = "v1.35.4";
  let cordoned = false;
  let marked = false;
  const nodeJson = () => JSON.stringify({
    metadata: { name: "cp-2", annotations: marked ? { [UPGRADE_CORDON_ANNOTATION]: "1.36.3" } : {} },
    spec: { unschedulable: cordoned },
    status: { nodeInfo: { kubeletVersion: kubelet }, conditions: [{ type: "Ready", status: "True" }] },
  });
  const steps: Record<string, string> = { [plan.kubeadm]: "kubeadm", [plan.upgrade]: "upgrade", [plan.kubelet]: "kubelet" };
  const node = scripted("cp-2", log, [[/[\s\S]*/, (cmd) => {
    const step = steps[cmd];
    if (step === fail.step) return { code: 1, stderr: `${step} failed` };
    if (step === "kubelet") kubelet = "v1.36.3";
    return undefined;
  }]]);
  const cp = scripted("cp-1", log, [
    [/get node '?cp-2'? -o json/, () => ({ stdout: nodeJson() })],
    [/annotate --overwrite node/, () => ((marked = true), undefined)],
    [/annotate node '?cp-2'? \S+-$/, () => ((marked = false), undefined)],
    [/ cordon '?cp-2/, () => ((cordoned = true), undefined)],
    [/uncordon '?cp-2/, () => ((cordoned = false), undefined)],
    [/drain '?cp-2/, () => (fail.drain ? { code: 1, stderr: "Cannot evict pod as it would violate the pod's disruption budget." } : undefined)],
  ]);
  const run = () => upgradeNode({ plan, node, controlPlane: cp, drainTimeoutSeconds: 60, readyTimeoutSeconds: 30, log: () => {} });
  // What ran, in order: the plan's scripts by name, kubectl by its verb and node.
  const ran = () => log.map((l) => {
    const [host, ...rest] = l.split(": ");
    const cmd = rest.join(": ");
    if (steps[cmd]) return `${host}: ${steps[cmd]}`;
    return `${host}: ${cmd.replace(/'/g, "").replace(/^kubectl --kubeconfig=\S+ /, "").replace(/^annotate --overwrite node (\S+) ironroot\.dev\/\S+=\S+$/, "mark $1").replace(/^annotate node (\S+) ironroot\.dev\/\S+-$/, "clear the mark of $1").replace(/ --.*$| -o json$/, "")}`;
  });
  return {
    run, ran, fail,
    state: () => ({ kubelet, cordoned, marked }),
    /** The operator's fix: the kubelet runs the new version. */
    fixKubelet: () => void (kubelet = "v1.36.3"),
    clearLog: () => void log.splice(0),
  };
}

test("a member: kubeadm and its kubeadm upgrade, then marked, cordoned and drained, kubelet, Ready at the new version, uncordoned", async () => {
  const c = cluster();
  const r = await c.run();
  assert.deepEqual(r, { kind: "upgraded", from: "1.35.4" });
  assert.deepEqual(c.ran(), [
    "cp-1: get node cp-2",
    "cp-2: kubeadm",
    "cp-2: upgrade",
    "cp-1: get node cp-2",
    "cp-1: mark cp-2",
    "cp-1: cordon cp-2",
    "cp-1: drain cp-2",
    "cp-2: kubelet",
    "cp-1: get node cp-2",
    "cp-1: uncordon cp-2",
    "cp-1: clear the mark of cp-2",
  ]);
  assert.deepEqual(c.state(), { kubelet: "v1.36.3", cordoned: false, marked: false });
});

for (const step of ["kubeadm", "upgrade"] as const) {
  test(`the ${step} step failing: the error names it; the node is not cordoned yet and nothing after it runs`, async () => {
    const c = cluster({ step });
    await assert.rejects(c.run(), (e: Error) => {
      assert.ok(e instanceof HostError);
      assert.match(e.message, new RegExp(`^cp-2 \\(192\\.0\\.2\\.1:22\\): .*: ${step} failed$`));
      return true;
    });
    assert.equal(c.ran().at(-1), `cp-2: ${step}`);
    assert.deepEqual(c.state(), { kubelet: "v1.35.4", cordoned: false, marked: false });
  });
}

test("the kubelet step failing: the error names it and says the node is left cordoned; nothing after it runs", async () => {
  const c = cluster({ step: "kubelet" });
  await assert.rejects(c.run(), /cp-2 \(192\.0\.2\.1:22\): .*: kubelet failed; node cp-2 is left cordoned: fix it and run `pulumi up` again \(the upgrade goes on from here\)$/);
  assert.equal(c.ran().at(-1), "cp-2: kubelet");
  assert.deepEqual(c.state(), { kubelet: "v1.35.4", cordoned: true, marked: true });
});

test("a re-run after a failed kubelet step: the cordon is the upgrade's own (not marked again), the rest runs, the node is uncordoned", async () => {
  const c = cluster({ step: "kubelet" });
  await assert.rejects(c.run());
  c.fail.step = undefined;
  c.clearLog();
  await c.run();
  assert.deepEqual(c.ran().slice(3, 6), ["cp-1: get node cp-2", "cp-1: cordon cp-2", "cp-1: drain cp-2"]);
  assert.deepEqual(c.state(), { kubelet: "v1.36.3", cordoned: false, marked: false });
});

test("a re-run after a failed kubelet step, fixed by hand: the node is only uncordoned and its mark cleared", async () => {
  const c = cluster({ step: "kubelet" });
  await assert.rejects(c.run());
  c.fixKubelet();
  c.clearLog();
  assert.deepEqual(await c.run(), { kind: "already", version: "1.36.3" });
  assert.deepEqual(c.ran(), ["cp-1: get node cp-2", "cp-1: uncordon cp-2", "cp-1: clear the mark of cp-2"]);
  assert.deepEqual(c.state(), { kubelet: "v1.36.3", cordoned: false, marked: false });
});

test("a drain a disruption budget blocks: the kubelet step never runs, the node is uncordoned", async () => {
  const c = cluster({ drain: true });
  await assert.rejects(c.run(), /draining node cp-2 before upgrading its kubelet to 1\.36\.3 \(its kubeadm upgrade done, kubelet untouched, uncordoned\): .*disruption budget/);
  assert.ok(!c.ran().includes("cp-2: kubelet"), c.ran().join("\n"));
  assert.equal(c.state().cordoned, false);
});
