// One node's Kubernetes upgrade over SSH, in kubeadm's order; the scripts
// come from the plan (components/plan/kubeadm/upgrade.ts). Every step can
// run again: a re-run after a failure looks at where the node stands
// (member? kubelet version? cordoned by us?) and goes on from there.
import type { UpgradeChecks, UpgradeNodePlan } from "../plan/kubeadm/upgrade";
import { nodeStatus, upgradeReadiness } from "../plan/kubeadm/upgradeReadiness";
import { etcdctlInPod } from "../plan/etcdSnapshot";
import { shellQuote } from "../plan/shell";
import { HostError, lastLines, type HostSession } from "../ssh/types";
import { cordonAndDrain, kubectl, kubectlRetrying } from "./drain";

/**
 * Set on a node while its upgrade holds it cordoned: a re-run after a
 * failure knows the cordon is the upgrade's to lift, and a node the
 * operator cordoned stays cordoned.
 */
export const UPGRADE_CORDON_ANNOTATION = "ironroot.dev/cordoned-for-upgrade";

export interface UpgradeNodeOptions {
  plan: UpgradeNodePlan;
  /** The node itself, a cluster member (`isMember`). */
  node: HostSession;
  /** A control plane whose API answers, with admin.conf: kubectl runs there. The first control plane is its own. */
  controlPlane: HostSession;
  /** The first control plane only: the cluster checks and the snapshot, and the other nodes (their images go in first). */
  cluster?: { checks: UpgradeChecks; others: HostSession[] };
  drainTimeoutSeconds: number;
  readyTimeoutSeconds: number;
  log: (line: string) => void;
}

export type UpgradeOutcome =
  | { kind: "already"; version: string }
  | { kind: "upgraded"; from: string; snapshot?: string };

function where(s: HostSession): string {
  return `${s.target.address}:${s.target.port}`;
}

/** A plan script on `s`, its output lines in the log; a failure names the host and `what`. */
function step(s: HostSession, what: string, script: string, log: (l: string) => void, timeoutSeconds = 900): Promise<string> {
  return s.check(what, script, { timeoutSeconds, onLine: (l) => log(`${s.target.name}: ${l}`) });
}

interface NodeView {
  kubelet: string;
  ready: string;
  unschedulable: boolean;
  ours: boolean;
}

async function nodeView(cp: HostSession, name: string): Promise<NodeView> {
  const out = await kubectlRetrying(cp, `reading node ${name} from the API`, `get node ${shellQuote(name)} -o json`);
  const n = JSON.parse(out) as Parameters<typeof nodeStatus>[0] & { spec?: { unschedulable?: boolean }; metadata?: { annotations?: Record<string, string> } };
  const status = nodeStatus(n);
  return {
    kubelet: status.kubelet,
    ready: status.ready,
    unschedulable: n.spec?.unschedulable === true,
    ours: n.metadata?.annotations?.[UPGRADE_CORDON_ANNOTATION] !== undefined,
  };
}

/** Lifts the upgrade's own cordon (never the operator's) and its mark. */
async function release(cp: HostSession, name: string, log: (l: string) => void): Promise<void> {
  await kubectlRetrying(cp, `uncordoning node ${name}`, `uncordon ${shellQuote(name)}`);
  await kubectlRetrying(cp, `clearing the upgrade mark of node ${name}`, `annotate node ${shellQuote(name)} ${UPGRADE_CORDON_ANNOTATION}-`);
  log(`${name}: uncordoned`);
}

/** The cluster checks before the first node moves: nodes Ready, kubelets within skew, etcd healthy and whole. */
async function checkCluster(cp: HostSession, version: string, checks: UpgradeChecks): Promise<void> {
  const nodesJson = await kubectlRetrying(cp, "listing the nodes before the upgrade", "get nodes -o json", 30);
  // etcdctl's answer is JSON even when a member is down.
  const etcd = await cp.run(kubectl(etcdctlInPod(cp.target.name, "endpoint health --cluster -w json")), { timeoutSeconds: 90 });
  const problems = upgradeReadiness({ nodesJson, etcdHealthJson: etcd.stdout || etcd.stderr, etcdMembers: checks.etcdMembers, version });
  if (problems.length > 0) {
    throw new HostError(cp.target.name, where(cp), `checking the cluster before upgrading to ${version} (nothing was changed)`, problems.join("; "));
  }
}

/**
 * Brings one member to the plan's version (a node that is no member yet
 * is left to its install step): nothing but a left-over uncordon when its
 * kubelet already runs it.
 */
export async function upgradeNode(o: UpgradeNodeOptions): Promise<UpgradeOutcome> {
  const { plan: p, node, controlPlane: cp, log } = o;
  const name = p.node;
  const before = await nodeView(cp, name);
  if (before.kubelet === p.version) {
    if (before.ours) await release(cp, name, log);
    return { kind: "already", version: p.version };
  }

  let snapshot: string | undefined;
  if (o.cluster) {
    await checkCluster(cp, p.version, o.cluster.checks);
    const out = await step(node, "taking an etcd snapshot before the upgrade", o.cluster.checks.snapshot, log, 600);
    snapshot = /^saved (\S+)$/m.exec(out)?.[1];
    log(`${name}: etcd snapshot before the upgrade: ${snapshot ?? "(path not reported)"}`);
    if (p.images) {
      // Each control plane's upgrade needs them, and the last one's rolls
      // kube-proxy and CoreDNS out everywhere at once, workers included.
      log(`${name}: the ${p.version} images go into containerd on every node first`);
      const all = [node, ...o.cluster.others];
      await Promise.all(all.map((s) => step(s, `importing the Kubernetes ${p.version} images`, p.images!, () => {}, 900)));
    }
  }

  log(`${name}: kubeadm ${p.version}`);
  await step(node, `installing kubeadm ${p.version}`, p.kubeadm, log);
  await step(node, p.first ? `kubeadm upgrade apply v${p.version}` : "kubeadm upgrade node", p.upgrade, log, 1200);

  // Annotated before the cordon: a failure between the two leaves a mark
  // a re-run can read, never a cordon nobody owns.
  const view = await nodeView(cp, name);
  const mine = view.ours || !view.unschedulable;
  if (mine && !view.ours) await kubectlRetrying(cp, `marking node ${name} for the upgrade`, `annotate --overwrite node ${shellQuote(name)} ${UPGRADE_CORDON_ANNOTATION}=${shellQuote(p.version)}`);
  await cordonAndDrain(cp, { nodeName: name, wasCordoned: !mine, drainTimeoutSeconds: o.drainTimeoutSeconds, purpose: `upgrading its kubelet to ${p.version}`, alreadyDone: "its kubeadm upgrade done, kubelet untouched", log });

  const leftCordoned = `; node ${name} is left cordoned: fix it and run \`pulumi up\` again (the upgrade goes on from here)`;
  try {
    await step(node, `installing kubelet and kubectl ${p.version} and restarting the kubelet`, p.kubelet, log);
  } catch (e) {
    if (e instanceof HostError) throw new HostError(e.host, e.endpoint, e.what, e.cause_ + leftCordoned);
    throw e;
  }
  await waitForVersion(cp, name, p.version, o.readyTimeoutSeconds, leftCordoned);
  if (mine) await release(cp, name, log);
  else log(`${name}: was cordoned before the upgrade: left cordoned`);
  return { kind: "upgraded", from: before.kubelet, ...(snapshot ? { snapshot } : {}) };
}

/** Ready, and reporting the new kubelet version: right after a restart the API may still show the old status. */
async function waitForVersion(cp: HostSession, name: string, version: string, timeoutSeconds: number, suffix: string): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const v = await nodeView(cp, name);
      if (v.kubelet === version && v.ready === "True") return;
      last = `kubelet ${v.kubelet || "?"}, Ready=${v.ready}`;
    } catch (e) {
      last = lastLines((e as Error).message, 1);
    }
    await new Promise((done) => setTimeout(done, 3000));
  }
  throw new HostError(cp.target.name, where(cp), `waiting ${timeoutSeconds}s for node ${name} to be Ready with kubelet ${version}`, `last seen: ${last}${suffix}`);
}
