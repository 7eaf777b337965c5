// Taking a node's pods elsewhere before its kubelet restarts, the one way
// every rollout does it: cordon, then drain through the Eviction API, so
// PodDisruptionBudgets hold. No --force: a pod without a controller would
// be lost for good, so drain refuses it and the rollout stops there.
import { ADMIN_CONF } from "../plan/kubeadm/kubeVip";
import { shellQuote } from "../plan/shell";
import { HostError, failedWith, lastLines, type HostSession } from "../ssh/types";

export function kubectl(args: string): string {
  return `kubectl --kubeconfig=${ADMIN_CONF} ${args}`;
}

/**
 * kubectl through `cp`, retried for a while. A kubelet restarted at a new
 * version restarts its static pods, the API server among them; a restart
 * shorter than the local load balancer's health-check window goes unseen,
 * and the new API server takes requests before its RBAC informers are
 * synced, answering even an admin with Forbidden for a few seconds.
 */
export async function kubectlRetrying(cp: HostSession, what: string, args: string, seconds = 90): Promise<string> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = await cp.run(kubectl(args), { timeoutSeconds: 60 });
    if (r.code === 0) return r.stdout;
    if (Date.now() >= deadline) throw new HostError(cp.target.name, `${cp.target.address}:${cp.target.port}`, what, `${failedWith(r)} (retried for ${seconds} s)`);
    await new Promise((done) => setTimeout(done, 3000));
  }
}

export interface DrainOptions {
  nodeName: string;
  /** The node was cordoned before: a failed drain leaves it so. */
  wasCordoned: boolean;
  drainTimeoutSeconds: number;
  /** What the drain is for, in the error ("changing its kubelet configuration"). */
  purpose: string;
  /** What already changed on the node, for the error. Default: nothing ("node untouched"). */
  alreadyDone?: string;
  log: (line: string) => void;
}

/**
 * Cordon and drain through `cp` (a control plane with admin.conf). A drain
 * that fails (a budget that never allows the eviction, a bare pod) gives
 * the node its pods back and throws: what `purpose` names has not run.
 */
export async function cordonAndDrain(cp: HostSession, o: DrainOptions): Promise<void> {
  const name = shellQuote(o.nodeName);
  o.log(`${o.nodeName}: cordon`);
  await kubectlRetrying(cp, `cordoning node ${o.nodeName}`, `cordon ${name}`);
  o.log(`${o.nodeName}: drain (timeout ${o.drainTimeoutSeconds}s, PodDisruptionBudgets respected)`);
  // A blocked eviction is retried by kubectl until the timeout.
  const drained = await cp.run(
    kubectl(`drain ${name} --ignore-daemonsets --delete-emptydir-data --timeout=${o.drainTimeoutSeconds}s`),
    { timeoutSeconds: o.drainTimeoutSeconds + 60 },
  );
  if (drained.code === 0) return;
  if (!o.wasCordoned) await cp.run(kubectl(`uncordon ${name}`));
  throw new HostError(cp.target.name, `${cp.target.address}:${cp.target.port}`,
    `draining node ${o.nodeName} before ${o.purpose} (${o.alreadyDone ?? "node untouched"}${o.wasCordoned ? "" : ", uncordoned"})`, lastLines(drained.stderr));
}
