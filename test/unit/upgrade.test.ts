import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import type { BundleManifest } from "../../components/plan/kubeadm/bundle";
import { kubeadmSnapshotOptions } from "../../components/plan/etcdSnapshot";
import { planUpgrade, rolloutSummary, type UpgradeOptions } from "../../components/plan/kubeadm/upgrade";
import { upgradeReadiness } from "../../components/plan/kubeadm/upgradeReadiness";
import { shellcheckAll, shellcheckMissing } from "../support/shellcheck";

const sha = (c: string) => c.repeat(64);
const bundle: BundleManifest = {
  kubernetesVersion: "1.36.3",
  files: [
    { path: "bin/kubeadm", sha256: sha("a"), kind: "binary" },
    { path: "bin/kubelet", sha256: sha("b"), kind: "binary" },
    { path: "images/kube-apiserver.tar", sha256: sha("c"), kind: "image" },
    { path: "images/kube-proxy.tar", sha256: sha("d"), kind: "image" },
  ],
};
const options = (o: Partial<UpgradeOptions> = {}): UpgradeOptions => ({
  version: "1.36.3",
  snapshot: kubeadmSnapshotOptions({ enabled: true, schedule: "hourly", dir: "/var/backups/etcd", retention: 24 }),
  allowCgroupV1: false,
  drainTimeoutSeconds: 300,
  readyTimeoutSeconds: 300,
  ...o,
});
const order = [
  { name: "cp-1", isControlPlane: true },
  { name: "cp-2", isControlPlane: true },
  { name: "w-1", isControlPlane: false },
];

test("air-gapped: kubeadm alone goes on first, the images once on their own, kubelet and kubectl after the drain; nothing refuses a member", () => {
  const p = planUpgrade(order, options({ bundle }));
  const [first, , worker] = p.nodes;
  assert.equal(first.first, true);
  assert.match(first.kubeadm, /sha256sum --check --strict[\s\S]*\ninstall -m 0755 'bin\/kubeadm' '\/usr\/local\/bin\/kubeadm'\n$/);
  assert.doesNotMatch(first.kubeadm, /install .*kubelet|ctr /, "the kubelet stays as it is until the node is drained");
  // Pinned: they wait unused on most nodes, and the kubelet's image GC skips only pinned images.
  assert.deepEqual(first.images!.match(/ctr -n k8s\.io images import .*\S+(?= >)/g), [
    "ctr -n k8s.io images import --label io.cri-containerd.pinned=pinned 'images/kube-apiserver.tar'",
    "ctr -n k8s.io images import --label io.cri-containerd.pinned=pinned 'images/kube-proxy.tar'",
  ]);
  assert.match(worker.kubelet, /install -D -m 0755 'bin\/kubelet' '\/usr\/local\/bin\/kubelet'[\s\S]*systemctl daemon-reload\nsystemctl restart kubelet/);
  // The images went in on every node before apply: the kubelet step does not import them again.
  for (const n of p.nodes) assert.doesNotMatch(n.kubelet, /ctr /, n.node);
  // The install's guard stops a member at another version; the upgrade is what moves it.
  for (const n of p.nodes) for (const s of [n.kubeadm, n.upgrade, n.kubelet]) assert.doesNotMatch(s, /is upgraded by/, n.node);
});

test("online: kubeadm from the target minor's repository first, then kubelet and kubectl", () => {
  const [first] = planUpgrade(order, options()).nodes;
  assert.match(first.kubeadm, /pkgs\.k8s\.io\/core:\/stable:\/v1\.36\/deb\//);
  assert.match(first.kubeadm, /install -y --allow-downgrades --allow-change-held-packages kubeadm=1\.36\.3-1\.1$/m);
  assert.match(first.kubelet, /kubeadm=1\.36\.3-1\.1 kubelet=1\.36\.3-1\.1 kubectl=1\.36\.3-1\.1$/m);
  assert.equal(first.images, undefined, "online, the kubelet pulls them");
});

test("kubelet.allowCgroupV1: every kubeadm upgrade command skips SystemVerification, as init and join do", () => {
  const p = planUpgrade(order, options({ allowCgroupV1: true }));
  assert.match(p.nodes[0].upgrade, /^kubeadm upgrade plan v1\.36\.3 --ignore-preflight-errors=SystemVerification 2>&1\nkubeadm upgrade apply v1\.36\.3 --yes --ignore-preflight-errors=SystemVerification 2>&1$/m);
  assert.match(p.nodes[1].upgrade, /^kubeadm upgrade node --ignore-preflight-errors=SystemVerification 2>&1$/m);
  assert.doesNotMatch(planUpgrade(order, options()).nodes[0].upgrade, /ignore-preflight-errors/);
});

test("the rollout starts with a control plane; the snapshot prints the path it saved", () => {
  assert.throws(() => planUpgrade([order[2], order[0]], options()), /the rollout must start with a control plane, not w-1/);
  const p = planUpgrade(order, options());
  assert.equal(p.etcdMembers, 2);
  assert.match(p.snapshot, /echo "saved \$dir\/etcd-snapshot-\$stamp\.db"/);
});

test("every upgrade script passes shellcheck -s bash", { skip: shellcheckMissing() }, () => {
  const scripts: [string, string][] = [];
  for (const o of [options(), options({ bundle })]) {
    const p = planUpgrade(order, o);
    scripts.push([`snapshot-${o.bundle ? "offline" : "online"}.sh`, p.snapshot]);
    for (const n of p.nodes) for (const k of ["kubeadm", "upgrade", "kubelet", "images"] as const) if (n[k]) scripts.push([`${n.node}-${k}.sh`, n[k]!]);
  }
  assert.deepEqual(shellcheckAll(scripts), []);
});

test("the offline kubeadm script installs nothing when a file differs from bundle.json", () => {
  const [first] = planUpgrade(order, options({ bundle })).nodes;
  const r = spawnSync("bash", ["-c", first.kubeadm.replace(/cd '\/var\/lib\/ironroot\/bundle\/1\.36\.3'/, "cd /tmp")], { encoding: "utf8" });
  assert.equal(r.status, 4);
  assert.match(r.stderr, /offline bundle in \/var\/lib\/ironroot\/bundle\/1\.36\.3: files missing or not matching bundle\.json/);
});

test("preview: nothing printed when no member changes version; a node without Kubernetes is installed, not upgraded", () => {
  const p = planUpgrade(order, options());
  assert.equal(rolloutSummary(p, { "cp-1": "1.36.3", "cp-2": "1.36.3" }), undefined);
  assert.equal(rolloutSummary(p, {}), undefined);
  assert.match(rolloutSummary(p, { "cp-1": "1.35.4", "cp-2": "1.36.3" })!, /^ {2}3\. w-1 \(worker\): not installed yet: installed at the new version$/m);
});

const nodes = (...n: [string, string, string][]) =>
  JSON.stringify({ items: n.map(([name, ready, kubelet]) => ({ metadata: { name }, status: { conditions: [{ type: "Ready", status: ready }], nodeInfo: { kubeletVersion: kubelet } } })) });
const healthy = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ endpoint: `https://10.0.0.${i + 1}:2379`, health: true })));

test("readiness: a healthy cluster one minor behind may start", () => {
  assert.deepEqual(upgradeReadiness({ nodesJson: nodes(["cp-1", "True", "v1.35.4"], ["w-1", "True", "v1.36.3"]), etcdHealthJson: healthy(3), etcdMembers: 3, version: "1.36.3" }), []);
});

test("readiness: each problem is named, with what to do", () => {
  const problems = upgradeReadiness({
    nodesJson: nodes(["cp-1", "False", "v1.35.4"], ["cp-2", "True", "v1.37.0"], ["w-1", "True", "v1.34.2"]),
    etcdHealthJson: JSON.stringify([{ endpoint: "https://10.0.0.1:2379", health: true }, { endpoint: "https://10.0.0.2:2379", health: false, error: "context deadline exceeded" }]),
    etcdMembers: 3,
    version: "1.36.3",
  });
  assert.deepEqual(problems, [
    "node cp-1 is not Ready (Ready=False): fix it first, or take it out of the cluster first (mark it remove and run up with the old version pinned)",
    "node cp-2 runs kubelet 1.37.0, newer than 1.36.3: kubeadm cannot downgrade",
    "node w-1 runs kubelet 1.34.2, more than one minor behind 1.36.3: upgrade it one minor at a time first",
    "etcd member https://10.0.0.2:2379 is unhealthy: context deadline exceeded",
    "etcd has 2 member(s) answering where the cluster has 3 control planes: bring the missing member back first, or take its host out of the cluster first (mark it remove and run up with the old version pinned)",
  ]);
  assert.deepEqual(upgradeReadiness({ nodesJson: nodes(), etcdHealthJson: "Error: context deadline exceeded\n", etcdMembers: 1, version: "1.36.3" }), [
    "etcd did not say whether it is healthy: Error: context deadline exceeded",
  ]);
});
