// Engine tier: a real Kubernetes cluster on the lab's hosts through
// `pulumi up`, air-gapped from the bundle scripts/bundle/build compiled from
// source: 3 control planes (kubeadm init + 2 control-plane joins, stacked
// etcd) and a worker, each node's local load balancer as the API endpoint,
// flannel as the pod network. Then: every node Ready with the planned
// reservations, 3 etcd members, CoreDNS answering, a pod on the worker
// reaching a pod on a control plane, no change on a second run, and the API
// still answering and taking writes with a control plane frozen; a node
// reset by hand is stopped by preflight while its port is taken, and joins
// again once it is freed.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEFAULT_KUBERNETES_VERSION, previousMinorRelease } from "../../components/config/kubernetesReleases";
import { loadStackFile } from "../../components/config/load";
import { kubectl as asAdmin } from "../../components/host/drain";
import { etcdctlInPod } from "../../components/plan/etcdSnapshot";
import { closeAll } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import type { HostSession } from "../../components/ssh/types";
import YAML from "yaml";
import { engineStack } from "../support/engine";
import { clusterShape, lab, RESET_CLUSTER_HOST } from "../support/lab";

const NAME = "lab-cluster";
const BUNDLE = join(process.env.IRONROOT_CACHE ?? "/var/cache/ironroot", "bundle", "out", DEFAULT_KUBERNETES_VERSION);
const theLab = lab();
const labSpec = theLab.spec;
const { controlPlanes, workers, skip: shapeSkip } = clusterShape(labSpec);
const bundleSkip = existsSync(join(BUNDLE, "bundle.json")) ? undefined : `no offline bundle in ${BUNDLE}: run \`scripts/bundle/build\` (compiles Kubernetes ${DEFAULT_KUBERNETES_VERSION} from source, several minutes cold)`;
const { stack, skip: engineSkip } = shapeSkip || bundleSkip || !labSpec
  ? { stack: undefined, skip: undefined }
  : engineStack(NAME, {
    layers: "kubernetes",
    cluster: { ...labSpec.cluster, offlineBundleDir: BUNDLE, cni: "flannel" },
  });
const skip = theLab.skip ?? shapeSkip ?? bundleSkip ?? engineSkip;

/** The lab host's cgroup in the freezer hierarchy (v1) or its unified cgroup (v2), from what `scripts/lab up` recorded. */
function freezer(host: string): { file: string; frozen: string; thawed: string } {
  const subnet = labSpec!.hosts[0].address.split(".").slice(0, 3).join(".");
  const dirs = readFileSync(`${process.env.IRONROOT_LAB_STATE ?? "/var/lib/ironroot-lab"}/${subnet}/hosts/${host}/cgroups`, "utf8").trim().split("\n");
  const v1 = dirs.find((d) => d.includes("/freezer/"));
  if (v1) return { file: `${v1}/freezer.state`, frozen: "FROZEN", thawed: "THAWED" };
  const v2 = dirs.find((d) => existsSync(`${d}/cgroup.freeze`));
  if (!v2) throw new Error(`${host}: no freezer cgroup among ${dirs.join(", ")}`);
  return { file: `${v2}/cgroup.freeze`, frozen: "1", thawed: "0" };
}

/** Runs `attempt` until it exits 0, for at most 30 s (the load balancer's failover window and then some). */
async function retrying(attempt: () => Promise<{ code: number; stdout: string; stderr: string }>): Promise<{ code: number; stdout: string; stderr: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await attempt();
    if (r.code === 0 || Date.now() > deadline) return r;
    await new Promise((done) => setTimeout(done, 2000));
  }
}

/** etcd's own health check of every member, through the etcd pod of control plane `node`. */
const etcdHealth = (node: string) => asAdmin(etcdctlInPod(node, "endpoint health --cluster"));

describe("a Kubernetes cluster on the lab through the engine (3 control planes + worker, air-gapped, built from source)", { skip }, () => {
  const spec = skip ? undefined : loadStackFile(join(stack!.checkout, "stacks"), NAME);
  const sessions = new Map<string, HostSession>();
  const ssh = (host: string) => sessions.get(host)!;
  const kubectl = (host: string, args: string, timeoutSeconds = 120) =>
    ssh(host).run(`kubectl --kubeconfig /etc/kubernetes/${host === workers[0]?.name ? "kubelet.conf" : "admin.conf"} ${args}`, { timeoutSeconds });
  const admin = async (args: string, host = controlPlanes[0].name) => {
    const r = await ssh(host).run(asAdmin(args), { timeoutSeconds: 180 });
    assert.equal(r.code, 0, `kubectl ${args} on ${host}: ${r.stderr}`);
    return r.stdout;
  };
  /** Waits for `condition` on a pod; when it does not come, the failure carries the pod's description and events. */
  const waitFor = async (pod: string, condition: string) => {
    const r = await ssh(controlPlanes[0].name).run(asAdmin(`wait --for=${condition} pod/${pod} --timeout=120s`), { timeoutSeconds: 180 });
    if (r.code === 0) return;
    const why = await ssh(controlPlanes[0].name).run(`${asAdmin(`describe pod ${pod}`)}; ${asAdmin("get pods -A -o wide")}`, { timeoutSeconds: 60 });
    assert.fail(`pod ${pod} not ${condition} within 120 s: ${r.stderr}\n${why.stdout}${why.stderr}`);
  };
  let firstUp = "";

  before(async () => {
    for (const h of spec!.hosts) sessions.set(h.name, session(targetFor(spec!, h)));
    const init = await stack!.pulumi(["stack", "init", "--secrets-provider", "passphrase"]);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    for (const h of labSpec?.hosts ?? []) {
      try {
        const f = freezer(h.name);
        if (readFileSync(f.file, "utf8").trim() !== f.thawed) writeFileSync(f.file, f.thawed);
      } catch {
        // not frozen, or the lab is gone
      }
    }
    // Leave the lab hosts as other tests expect them: no cluster, no bundle.
    await Promise.all((spec?.hosts ?? []).map((h) => ssh(h.name)?.run(
      RESET_CLUSTER_HOST,
      { timeoutSeconds: 180 },
    ).catch(() => undefined)));
    await closeAll();
    stack?.remove();
  });

  test("pulumi up: kubeadm init, two control-plane joins and a worker join, from the bundle", { timeout: 1_200_000 }, async () => {
    const r = await stack!.pulumi(["up", "--yes", "--skip-preview"], { timeoutMs: 1_200_000 });
    firstUp = r.stdout + r.stderr;
    assert.equal(r.code, 0, firstUp.slice(-4000));
    for (const h of spec!.hosts) assert.match(firstUp, new RegExp(`\\+ +pulumi-nodejs:dynamic/ironroot:KubernetesNode ${h.name}-kubernetes created`), h.name);
    assert.match(firstUp, /lab-\d: cluster initialised/);
    const joined = new Set([...firstUp.matchAll(/(\S+): joined the cluster as a control plane/g)].map((m) => m[1]));
    assert.equal(joined.size, 2, `two control planes joined: ${[...joined].join(", ")}`);
  });

  test("every node is Ready, and its allocatable is exactly what the kubelet plan reserved", async () => {
    const outputs = JSON.parse((await stack!.pulumi(["stack", "output", "--json"])).stdout) as {
      kubeletReservations: Record<string, { allocatable: { cpu: string; memory: string } }>;
    };
    const nodes = JSON.parse(await admin("get nodes -o json")) as {
      items: { metadata: { name: string }; status: { allocatable: { cpu: string; memory: string }; conditions: { type: string; status: string }[] } }[];
    };
    assert.deepEqual(nodes.items.map((n) => n.metadata.name).sort(), spec!.hosts.map((h) => h.name).sort());
    for (const n of nodes.items) {
      assert.equal(n.status.conditions.find((c) => c.type === "Ready")?.status, "True", `${n.metadata.name} Ready`);
      const planned = outputs.kubeletReservations[n.metadata.name].allocatable;
      assert.equal(n.status.allocatable.cpu, planned.cpu, `${n.metadata.name}: allocatable cpu`);
      const ki = Number(/^(\d+)Ki$/.exec(n.status.allocatable.memory)?.[1]);
      assert.ok(Math.abs(ki / 1024 - Number.parseFloat(planned.memory)) < 1, `${n.metadata.name}: allocatable memory ${n.status.allocatable.memory} vs planned ${planned.memory}`);
    }
  });

  test("etcd has 3 started members, one per control plane", async () => {
    const out = await admin(etcdctlInPod(controlPlanes[0].name, "member list -w json"));
    const members = (JSON.parse(out) as { members: { name: string; clientURLs?: string[] }[] }).members;
    assert.deepEqual(members.map((m) => m.name).sort(), controlPlanes.map((h) => h.name).sort());
    assert.ok(members.every((m) => (m.clientURLs ?? []).length > 0), "every member started");
  });

  /** An image every node has (the bundle imports it), for test pods. */
  const probeImage = () => `registry.k8s.io/etcd:${(JSON.parse(readFileSync(join(BUNDLE, "bundle.json"), "utf8")) as { builtWith: { etcd: string } }).builtWith.etcd}-0`;

  test("CoreDNS answers, and a pod on the worker reaches a pod on a control plane through a Service name", async () => {
    const server = controlPlanes[1].name;
    const worker = workers[0].name;
    const image = probeImage();
    const manifest = [
      `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"net-probe-server","namespace":"default","labels":{"app":"net-probe"}},` +
        `"spec":{"nodeName":"${server}","tolerations":[{"operator":"Exists"}],"containers":[{"name":"etcd","image":"${image}",` +
        `"command":["/usr/local/bin/etcd","--data-dir=/tmp/probe","--listen-client-urls=http://0.0.0.0:2379","--advertise-client-urls=http://127.0.0.1:2379"]}]}}`,
      `{"apiVersion":"v1","kind":"Service","metadata":{"name":"net-probe","namespace":"default"},"spec":{"selector":{"app":"net-probe"},"ports":[{"port":2379}]}}`,
    ];
    for (const m of manifest) {
      const r = await ssh(controlPlanes[0].name).run(asAdmin("apply -f -"), { stdin: m });
      assert.equal(r.code, 0, r.stderr);
    }
    await waitFor("net-probe-server", "condition=Ready");
    await admin(
      // OnFailure: a Service's rules reach every node a moment after it is
      // created; a client that dialled before is simply run again.
      `run net-probe-client --image=${image} --restart=OnFailure --overrides='{"spec":{"nodeName":"${worker}"}}' --command -- ` +
        "/usr/local/bin/etcdctl --endpoints=http://net-probe.default.svc.cluster.local:2379 --dial-timeout=20s put probe reached",
    );
    await waitFor("net-probe-client", "jsonpath='{.status.phase}'=Succeeded");
    assert.equal((await admin("logs net-probe-client")).trim(), "OK", "the client on the worker wrote through the Service name");
    const placed = await admin("get pods net-probe-server net-probe-client -o jsonpath='{range .items[*]}{.spec.nodeName} {end}'");
    assert.equal(placed.trim(), `${server} ${worker}`);
    await admin("delete pod net-probe-client net-probe-server --wait=false");
    await admin("delete service net-probe --wait=false");
  });

  test("a second preview and up change nothing", { timeout: 600_000 }, async () => {
    const p = await stack!.pulumi(["preview", "--expect-no-changes"]);
    assert.equal(p.code, 0, (p.stdout + p.stderr).slice(-3000));
    const u = await stack!.pulumi(["up", "--yes", "--expect-no-changes"]);
    assert.equal(u.code, 0, (u.stdout + u.stderr).slice(-3000));
  });

  test("an older cluster.kubernetesVersion is refused in preview on every node, naming both versions, before anything changes", { timeout: 300_000 }, async () => {
    // kubeadm never downgrades: refused by what the hosts run (upgrades: kubernetesUpgrade.test.ts).
    const wanted = previousMinorRelease(DEFAULT_KUBERNETES_VERSION)!;
    const before = readFileSync(stackFile(), "utf8");
    try {
      await stack!.pulumi(["config", "set", "--path", "cluster.kubernetesVersion", wanted]);
      const p = await stack!.pulumi(["preview"]);
      const out = p.stdout + p.stderr;
      assert.notEqual(p.code, 0, out.slice(-3000));
      assert.match(out, new RegExp(`preflight: ${spec!.hosts.length} hosts failed, nothing was changed on any host`), out.slice(-3000));
      for (const h of spec!.hosts) {
        assert.match(out, new RegExp(`${h.name}: FAIL\\s*\\n[^\\n]*error: +Kubernetes ${DEFAULT_KUBERNETES_VERSION.replace(/\./g, "\\.")} is installed and cluster\\.kubernetesVersion is ${wanted.replace(/\./g, "\\.")}`), out.slice(-3000));
      }
    } finally {
      writeFileSync(stackFile(), before);
    }
    const again = await stack!.pulumi(["preview", "--expect-no-changes"]);
    assert.equal(again.code, 0, (again.stdout + again.stderr).slice(-3000));
  });

  test("HA: with a control plane frozen, the API answers and takes writes through every other node's local load balancer; thawed, etcd is healthy again", { timeout: 600_000 }, async () => {
    const down = controlPlanes[2].name;
    const f = freezer(down);
    writeFileSync(f.file, f.frozen);
    try {
      for (const h of spec!.hosts.filter((x) => x.name !== down)) {
        // Every node reaches the API at 127.0.0.1:6444, its own haproxy in front of all control planes.
        // haproxy marks the frozen API server down after three failed /readyz checks (2 s apart).
        // A worker's kubelet credentials may read only its own Node object.
        const what = h.roles.includes("control-plane") ? `node/${down}` : `node/${h.name}`;
        const list = await retrying(() => kubectl(h.name, `--server https://127.0.0.1:6444 --request-timeout=5s get ${what} -o name`, 60));
        assert.equal(list.code, 0, `${h.name}: ${list.stderr}`);
        assert.equal(list.stdout.trim(), what);
      }
      for (const h of controlPlanes.filter((x) => x.name !== down)) {
        const w = await retrying(() => ssh(h.name).run(asAdmin(`--server https://127.0.0.1:6444 --request-timeout=5s create configmap ha-write-${h.name} --from-literal=at=${Date.now()}`), { timeoutSeconds: 60 }));
        assert.equal(w.code, 0, `write through ${h.name}: ${w.stderr}`);
      }
    } finally {
      writeFileSync(f.file, f.thawed);
    }
    const health = await ssh(controlPlanes[0].name).run(
      `for i in $(seq 60); do ${etcdHealth(controlPlanes[0].name)} && exit 0; sleep 2; done; exit 1`,
      { timeoutSeconds: 180 },
    );
    assert.equal(health.code, 0, health.stdout + health.stderr);
    assert.equal((health.stdout.match(/is healthy/g) ?? []).length, 3, health.stdout);
    for (const h of controlPlanes.filter((x) => x.name !== down)) await admin(`delete configmap ha-write-${h.name}`);
  });
  test("a node reset by hand with its kubelet port taken: up stops naming the node and the port; freed, up --refresh joins it again", { timeout: 900_000 }, async () => {
    const worker = workers[0].name;
    const reset = await ssh(worker).run("kubeadm reset -f >/dev/null 2>&1; rm -rf /etc/cni/net.d/* ; systemctl stop kubelet; (setsid socat TCP-LISTEN:10250,fork,reuseaddr SYSTEM:true >/dev/null 2>&1 &) ; echo started", { timeoutSeconds: 120 });
    assert.equal(reset.code, 0, reset.stderr);
    await admin(`delete node ${worker}`);
    try {
      const blocked = await stack!.pulumi(["up", "--yes", "--refresh", "--skip-preview"], { timeoutMs: 600_000 });
      const out = blocked.stdout + blocked.stderr;
      assert.notEqual(blocked.code, 0, "up must stop while the port is taken");
      assert.match(out, new RegExp(`${worker}: FAIL[\\s\\S]*port 10250 is already in use by socat`), out.slice(-3000));
      assert.doesNotMatch(out, /^\s+at .*\.ts:\d+/m, "no stack trace");
    } finally {
      await ssh(worker).run("pkill -f 'TCP-LISTEN:10250' || true");
    }
    const again = await stack!.pulumi(["up", "--yes", "--refresh", "--skip-preview"], { timeoutMs: 900_000 });
    const out = again.stdout + again.stderr;
    assert.equal(again.code, 0, out.slice(-4000));
    assert.match(out, new RegExp(`${worker}: joined the cluster as a worker`));
    await admin(`wait --for=condition=Ready node/${worker} --timeout=180s`);
  });

  // Node lifecycle. The stack's hosts are rewritten the way a user edits
  // them; a ConfigMap written first must survive every step.
  type HostEntry = { name: string; address: string; hostKey: string; roles: string[]; remove?: true | "dead" };
  const stackFile = () => join(stack!.checkout, "stacks", `Pulumi.${NAME}.yaml`);
  const setHosts = (hosts: HostEntry[]) => {
    const doc = YAML.parse(readFileSync(stackFile(), "utf8"));
    doc.config["ironroot:hosts"] = hosts;
    writeFileSync(stackFile(), YAML.stringify(doc));
  };
  const entry = (name: string, extra: Partial<HostEntry> = {}): HostEntry => {
    const h = labSpec!.hosts.find((x) => x.name === name)!;
    return { name: h.name, address: h.address, hostKey: h.hostKey, roles: h.roles, ...extra };
  };
  const etcdMembers = async () => {
    const out = await admin(etcdctlInPod(controlPlanes[0].name, "member list"));
    return out.trim().split("\n").map((l) => l.split(", ")).map((f) => ({ status: f[1], name: f[2], peer: f[3] }));
  };
  const nodeNames = async () => (await admin("get nodes -o jsonpath={.items[*].metadata.name}")).trim().split(/\s+/).sort();
  const canaryKept = async () => assert.equal((await admin("get configmap lifecycle-canary -o jsonpath={.data.at}")).trim(), "before");
  const upOk = async (what: string) => {
    const r = await stack!.pulumi(["up", "--yes", "--skip-preview"], { timeoutMs: 900_000 });
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, `${what}: ${out.slice(-4000)}`);
    return out;
  };
  const [cp1, cp2, cp3] = controlPlanes.map((h) => h.name);
  const worker = workers[0]?.name;

  test("lifecycle: reordering hosts changes nothing", { timeout: 300_000 }, async () => {
    await admin("create configmap lifecycle-canary --from-literal=at=before");
    setHosts([entry(worker), entry(cp3), entry(cp1), entry(cp2)]);
    const p = await stack!.pulumi(["preview", "--expect-no-changes"]);
    assert.equal(p.code, 0, (p.stdout + p.stderr).slice(-3000));
  });

  test("lifecycle: a node dropped from hosts without remove is refused, naming it and the flag; nothing changes", { timeout: 300_000 }, async () => {
    setHosts([entry(cp1), entry(cp2), entry(cp3)]);
    const p = await stack!.pulumi(["preview"]);
    const out = p.stdout + p.stderr;
    assert.notEqual(p.code, 0);
    assert.match(out, new RegExp(`the cluster has a node "${worker}" that is not in hosts: .*remove: true`), out.slice(-3000));
    assert.deepEqual(await nodeNames(), [cp1, cp2, cp3, worker].sort());
  });

  test("lifecycle: a worker marked remove is shown in preview, then drained, reset and gone from the Node list", { timeout: 900_000 }, async () => {
    setHosts([entry(cp1), entry(cp2), entry(cp3), entry(worker, { remove: true })]);
    const p = await stack!.pulumi(["preview", "--diff"]);
    const shown = p.stdout + p.stderr;
    assert.equal(p.code, 0, shown.slice(-3000));
    assert.match(shown, new RegExp(`\\+ pulumi-nodejs:dynamic/ironroot:NodeRemoval: \\(create\\)[\\s\\S]*${worker}-removal[\\s\\S]*drain ${worker}[\\s\\S]*kubeadm reset on ${worker}`), shown.slice(-6000));
    const out = await upOk("worker removal");
    assert.match(out, new RegExp(`${worker}: removed from the cluster`));
    assert.deepEqual(await nodeNames(), [cp1, cp2, cp3].sort());
    assert.equal((await ssh(worker).run("test -e /etc/kubernetes/kubelet.conf")).code, 1, "the worker was reset");
    await canaryKept();
  });

  test("lifecycle: a control plane marked remove leaves etcd with 2 healthy members and the API answering", { timeout: 900_000 }, async () => {
    setHosts([entry(cp1), entry(cp2), entry(cp3, { remove: true }), entry(worker, { remove: true })]);
    await upOk("control-plane removal");
    const members = await etcdMembers();
    assert.deepEqual(members.map((m) => `${m.name} ${m.status}`).sort(), [`${cp1} started`, `${cp2} started`]);
    const health = await ssh(cp1).run(etcdHealth(cp1), { timeoutSeconds: 60 });
    assert.equal((health.stdout.match(/is healthy/g) ?? []).length, 2, health.stdout + health.stderr);
    assert.deepEqual(await nodeNames(), [cp1, cp2].sort());
    await admin("get --raw /readyz", cp2);
    await canaryKept();
  });

  test("lifecycle: a replacement under the same name, with a new address and host key, joins as a control plane and runs pods", { timeout: 1_200_000 }, async () => {
    // The worker's machine, wiped by its removal, becomes the new cp-3.
    const machine = entry(worker);
    setHosts([entry(cp1), entry(cp2), { ...entry(cp3), address: machine.address, hostKey: machine.hostKey }]);
    const out = await upOk("replacement");
    assert.match(out, new RegExp(`${cp3}: joined the cluster as a control plane`));
    await admin(`wait --for=condition=Ready node/${cp3} --timeout=180s`);
    const members = await etcdMembers();
    assert.deepEqual(members.map((m) => `${m.name} ${m.status} ${m.peer}`).sort(), [
      `${cp1} started https://${entry(cp1).address}:2380`,
      `${cp2} started https://${entry(cp2).address}:2380`,
      `${cp3} started https://${machine.address}:2380`,
    ]);
    // The machine ran pods as the worker, under another podCIDR: a pod here
    // needs the pod network it had then cleared by the join.
    await admin(`run replacement-probe --image=${probeImage()} --restart=Never --overrides='{"spec":{"nodeName":"${cp3}","tolerations":[{"operator":"Exists"}]}}' --command -- /usr/local/bin/etcd --version`);
    await waitFor("replacement-probe", "jsonpath='{.status.phase}'=Succeeded");
    await admin("delete pod replacement-probe --wait=false");
    await canaryKept();
  });

  test("lifecycle: a control plane stopped for good and marked dead: up finishes without reaching it, and etcd and the Node list no longer show it", { timeout: 900_000 }, async () => {
    // The machine now serving as cp-3 (the worker's) stops answering for good: frozen until the clean-up.
    const machine = entry(worker);
    const f = freezer(worker);
    writeFileSync(f.file, f.frozen);
    setHosts([entry(cp1), entry(cp2), { ...entry(cp3), address: machine.address, hostKey: machine.hostKey, remove: "dead" }]);
    const out = await upOk("dead control plane");
    assert.match(out, new RegExp(`${cp3}: marked dead: removed from the stack without contacting it`));
    assert.match(out, new RegExp(`${cp3}: etcd member [0-9a-f]+ removed`));
    assert.deepEqual((await etcdMembers()).map((m) => m.name).sort(), [cp1, cp2].sort());
    assert.deepEqual(await nodeNames(), [cp1, cp2].sort());
    await canaryKept();
  });
});
