// Engine tier: a Kubernetes upgrade through `pulumi up` on the lab, from
// two bundles scripts/bundle/build compiled from source. A cluster of 3
// control planes and a worker installed at the minor before the default
// goes to the default node by node
// in kubeadm's order, while a Deployment with a PodDisruptionBudget is
// polled for available replicas. The worker's kubelet is made to fail on
// the way: the rollout stops there, naming the node and the step, and the
// next `up` after the fix finishes it. Then every node runs the new
// version, etcd is healthy, and a second `up` changes nothing.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DEFAULT_KUBERNETES_VERSION, KUBERNETES_RELEASES, previousMinorRelease } from "../../components/config/kubernetesReleases";
import { loadStackFile } from "../../components/config/load";
import { kubectl } from "../../components/host/drain";
import { etcdctlInPod } from "../../components/plan/etcdSnapshot";
import { closeAll } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import type { HostSession } from "../../components/ssh/types";
import { engineStack } from "../support/engine";
import { clusterShape, lab, RESET_CLUSTER_HOST } from "../support/lab";

const NAME = "lab-upgrade";
// The default release, from the newest patch of the minor before it.
const TO = DEFAULT_KUBERNETES_VERSION;
const FROM = previousMinorRelease(TO)!;
const bundleOf = (v: string) => join(process.env.IRONROOT_CACHE ?? "/var/cache/ironroot", "bundle", "out", v);
const theLab = lab();
const labSpec = theLab.spec;
const { controlPlanes, workers, skip: shapeSkip } = clusterShape(labSpec);
const missing = [FROM, TO].filter((v) => !existsSync(join(bundleOf(v), "bundle.json")));
const bundleSkip = missing.length
  ? `no offline bundle for ${missing.join(" and ")} in ${bundleOf("")}: run ${missing.map((v) => `\`scripts/bundle/build --kubernetes ${v}\``).join(" and ")} (compiles Kubernetes from source, several minutes each cold)`
  : undefined;
const { stack, skip: engineSkip } = shapeSkip || bundleSkip || !labSpec
  ? { stack: undefined, skip: undefined }
  : engineStack(NAME, {
    layers: "kubernetes",
    cluster: { ...labSpec.cluster, kubernetesVersion: FROM, offlineBundleDir: bundleOf(FROM), cni: "flannel" },
  });
const skip = theLab.skip ?? shapeSkip ?? bundleSkip ?? engineSkip;

/** An engine run's errors, then its last lines: the whole output is too long for a test message, and its end is the outputs diff. */
function whyFailed(out: string): string {
  return [...out.split("\n").filter((l) => /\berror: /.test(l)), "", out.slice(-3000)].join("\n");
}

/** A failing kubelet: the unit's start is refused, so `systemctl restart kubelet` fails at once. */
const BROKEN_KUBELET = "/etc/systemd/system/kubelet.service.d/99-ironroot-test-broken.conf";

describe(`a Kubernetes upgrade ${FROM} -> ${TO} on the lab through the engine, one node at a time, a PodDisruptionBudget kept`, { skip }, () => {
  const spec = skip ? undefined : loadStackFile(join(stack!.checkout, "stacks"), NAME);
  const sessions = new Map<string, HostSession>();
  const ssh = (host: string) => sessions.get(host)!;
  const worker = workers[0]?.name;
  const admin = async (args: string, host = controlPlanes[0].name) => {
    const r = await ssh(host).run(kubectl(args), { timeoutSeconds: 180 });
    assert.equal(r.code, 0, `kubectl ${args} on ${host}: ${r.stderr}`);
    return r.stdout;
  };
  const kubeletVersions = async () =>
    Object.fromEntries((await admin("get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion}{\"\\n\"}{end}'"))
      .trim().split("\n").map((l) => l.split("=")));

  /**
   * Polls the Deployment's available replicas every 2 s through any control
   * plane that answers, until stopped. Below 2, it also notes where the pods
   * are and which nodes are Ready, so a failure says what took them away.
   */
  const pollAvailability = () => {
    const seen: number[] = [];
    const notes: string[] = [];
    const started = Date.now();
    let stop = false;
    const done = (async () => {
      while (!stop) {
        for (const cp of controlPlanes) {
          const r = await ssh(cp.name).run(kubectl("get deploy pdb-probe -o jsonpath='{.status.availableReplicas}'"), { timeoutSeconds: 20 }).catch(() => undefined);
          if (r?.code === 0) {
            const available = Number(r.stdout.trim() || "0");
            seen.push(available);
            if (available < 2 && notes.length < 20) {
              const why = await ssh(cp.name).run(`${kubectl("get pods -l app=pdb-probe -o wide --no-headers")}; ${kubectl("get nodes --no-headers")}`, { timeoutSeconds: 20 }).catch((e: Error) => ({ stdout: e.message }));
              notes.push(`${Math.round((Date.now() - started) / 1000)} s, ${available} available (through ${cp.name}):\n${why.stdout.trim()}`);
            }
            break;
          }
        }
        await new Promise((res) => setTimeout(res, 2000));
      }
    })();
    return { seen, notes, stop: async () => { stop = true; await done; } };
  };

  before(async () => {
    for (const h of spec!.hosts) sessions.set(h.name, session(targetFor(spec!, h)));
    const init = await stack!.pulumi(["stack", "init", "--secrets-provider", "passphrase"]);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    await Promise.all((spec?.hosts ?? []).map((h) => ssh(h.name)?.run(
      `rm -f ${BROKEN_KUBELET}; ${RESET_CLUSTER_HOST}`,
      { timeoutSeconds: 180 },
    ).catch(() => undefined)));
    await closeAll();
    stack?.remove();
  });

  test(`pulumi up installs ${FROM} on every node`, { timeout: 1_200_000 }, async () => {
    const r = await stack!.pulumi(["up", "--yes", "--skip-preview"], { timeoutMs: 1_200_000 });
    assert.equal(r.code, 0, whyFailed(r.stdout + r.stderr));
    const versions = await kubeletVersions();
    for (const h of spec!.hosts) assert.equal(versions[h.name], `v${FROM}`, h.name);
  });

  test("a Deployment with a PodDisruptionBudget runs on two nodes", { timeout: 300_000 }, async () => {
    const image = `registry.k8s.io/pause:${KUBERNETES_RELEASES.find((x) => `${x.minor}.${x.latestPatch}` === FROM)!.pauseVersion}`;
    const manifest = [
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: pdb-probe}\nspec:",
      "  replicas: 2\n  selector: {matchLabels: {app: pdb-probe}}\n  template:",
      "    metadata: {labels: {app: pdb-probe}}\n    spec:",
      "      tolerations: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]",
      "      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: pdb-probe}}}]",
      `      containers: [{name: pause, image: "${image}", imagePullPolicy: Never}]`,
      "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: pdb-probe}\nspec: {minAvailable: 1, selector: {matchLabels: {app: pdb-probe}}}",
    ].join("\n");
    const r = await ssh(controlPlanes[0].name).run(`${kubectl("apply -f -")} && ${kubectl("rollout status deploy/pdb-probe --timeout=180s")}`, { stdin: manifest, timeoutSeconds: 240 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test(`preview with ${TO} pinned: every node in kubeadm's order, from and to, and each node's upgrade as a version change`, { timeout: 600_000 }, async () => {
    await stack!.pulumi(["config", "set", "--path", "cluster.kubernetesVersion", TO]);
    await stack!.pulumi(["config", "set", "--path", "cluster.offlineBundleDir", bundleOf(TO)]);
    const p = await stack!.pulumi(["preview", "--diff"], { timeoutMs: 600_000 });
    const out = p.stdout + p.stderr;
    assert.equal(p.code, 0, out.slice(-4000));
    const order = [...out.matchAll(/^\s+\d\. (\S+) \((first control plane|control plane|worker)\): (\S+) -> (\S+) /gm)];
    assert.equal(order.length, 4, out.slice(-4000));
    assert.equal(order[0][2], "first control plane");
    assert.equal(order[3][1], worker, "the worker goes last");
    for (const m of order) assert.deepEqual([m[3], m[4]], [FROM, TO], m[1]);
    for (const h of spec!.hosts) {
      assert.match(out, new RegExp(`~ pulumi-nodejs:dynamic/ironroot:KubernetesUpgrade: \\(update\\)[\\s\\S]*?\\[urn=[^\\]]*::${h.name}-k8s-upgrade\\][\\s\\S]*?~ version\\s*: "${FROM.replace(/\./g, "\\.")}" => "${TO.replace(/\./g, "\\.")}"`), h.name);
    }
    // A new version is a new question for the disk gate: control planes are measured again, workers not.
    for (const cp of controlPlanes) assert.match(out, new RegExp(`DiskBenchmarkRun: \\(update\\)\\s*\\n\\s*\\[id=[^\\]]*\\]\\s*\\n\\s*\\[urn=[^\\]]*::${cp.name}-disk-run\\]`), cp.name);
    assert.doesNotMatch(out, new RegExp(`::${worker}-disk-run\\]`), "the worker's disk is not measured again");
    assert.doesNotMatch(out, /KubernetesNode: \(update\)|: \((delete|replace|create-replacement|delete-replaced)\)/, "no membership changes, nothing deleted or replaced");
  });

  test("up with the worker's kubelet failing: the control planes are upgraded, the rollout stops at the worker naming the node and the step; the PodDisruptionBudget held", { timeout: 2_400_000 }, async () => {
    const broken = await ssh(worker).run(`mkdir -p ${BROKEN_KUBELET.replace(/\/[^/]+$/, "")} && printf '[Service]\\nExecStartPre=/bin/false\\n' >${BROKEN_KUBELET} && systemctl daemon-reload`);
    assert.equal(broken.code, 0, broken.stderr);
    const poll = pollAvailability();
    const r = await stack!.pulumi(["up", "--yes", "--skip-preview"], { timeoutMs: 2_400_000 });
    await poll.stop();
    const out = r.stdout + r.stderr;
    assert.notEqual(r.code, 0, out.slice(-3000));
    assert.match(out, new RegExp(`${worker} \\([^)]*\\): installing kubelet and kubectl ${TO.replace(/\./g, "\\.")} and restarting the kubelet: .*left cordoned`), whyFailed(out));
    assert.match(out, /etcd snapshot before the upgrade: \/var\/backups\/etcd\/etcd-snapshot-\S+\.db/);
    const versions = await kubeletVersions();
    for (const cp of controlPlanes) assert.equal(versions[cp.name], `v${TO}`, `${cp.name} upgraded before the worker`);
    assert.ok(poll.seen.length > 20, `polled ${poll.seen.length} times`);
    assert.ok(poll.seen.every((n) => n >= 1), `available replicas at every poll: ${poll.seen.join(",")}\n\n${poll.notes.join("\n\n")}\n\n${out.slice(-6000)}`);
  });

  test("fixed, the next up finishes the worker: every node at the new version and uncordoned, etcd healthy, the budget held", { timeout: 1_200_000 }, async () => {
    const fixed = await ssh(worker).run(`rm -f ${BROKEN_KUBELET} && systemctl daemon-reload`);
    assert.equal(fixed.code, 0, fixed.stderr);
    const poll = pollAvailability();
    const r = await stack!.pulumi(["up", "--yes", "--skip-preview"], { timeoutMs: 1_200_000 });
    await poll.stop();
    assert.equal(r.code, 0, whyFailed(r.stdout + r.stderr));
    const versions = await kubeletVersions();
    for (const h of spec!.hosts) assert.equal(versions[h.name], `v${TO}`, h.name);
    assert.equal((await admin("get nodes -o jsonpath='{.items[*].spec.unschedulable}'")).trim(), "", "no node left cordoned");
    for (const cp of controlPlanes) {
      assert.match(await admin(`-n kube-system get pod kube-apiserver-${cp.name} -o jsonpath='{.spec.containers[0].image}'`), new RegExp(`:v${TO.replace(/\./g, "\\.")}$`), cp.name);
    }
    const health = JSON.parse(await admin(etcdctlInPod(controlPlanes[0].name, "endpoint health --cluster -w json"))) as { health: boolean }[];
    assert.equal(health.length, 3);
    assert.ok(health.every((m) => m.health), JSON.stringify(health));
    assert.ok(poll.seen.every((n) => n >= 1), `available replicas at every poll: ${poll.seen.join(",")}\n\n${poll.notes.join("\n\n")}\n\n${(r.stdout + r.stderr).slice(-6000)}`);
  });

  test("a second preview and up change nothing", { timeout: 600_000 }, async () => {
    const p = await stack!.pulumi(["preview", "--expect-no-changes"], { timeoutMs: 600_000 });
    assert.equal(p.code, 0, whyFailed(p.stdout + p.stderr));
    const u = await stack!.pulumi(["up", "--yes", "--expect-no-changes"], { timeoutMs: 600_000 });
    assert.equal(u.code, 0, whyFailed(u.stdout + u.stderr));
  });
});
