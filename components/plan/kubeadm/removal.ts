// Taking a node out of the cluster, as data. Removal is never a side effect
// of a config edit: only a host marked `remove` is taken out, and the plan
// says each step before anything runs, so `pulumi preview` shows it.
//
// A reachable host (`remove: true`) is drained from a surviving control
// plane, reset on itself (kubeadm removes its own etcd member), then
// forgotten by the survivors (Node object, and the etcd member if the reset
// could not remove it). A dead host (`remove: "dead"`) is never contacted:
// the survivors remove its etcd member and its Node.
import type { HostSpec } from "../../config/schema";
import { ADMIN_CONF } from "./kubeVip";
import { clearStalePodNetwork, script } from "./scripts";
import { KUBEADM_ETCD_TLS } from "../etcdSnapshot";
import { shellQuote as q } from "../shell";
import { KUBEADM_DIR } from "./versions";

export interface RemovalPlan {
  name: string;
  /** Position in the stack's `hosts`, for messages. */
  index: number;
  isControlPlane: boolean;
  /** `remove: "dead"`: no SSH to the host at all. */
  dead: boolean;
  /** What happens, in order, in words: what preview shows. */
  steps: string[];
  /** On a surviving control plane, first (absent for a dead host). */
  drain?: string;
  /** On the host itself, after the drain (absent for a dead host). */
  reset?: string;
  /** On a surviving control plane, last: the etcd member (control planes) and the Node object. */
  forget: string;
}

/** Every host marked `remove`, dead ones first (each gives etcd back a healthy majority sooner). */
export function planRemovals(hosts: HostSpec[], drainTimeoutSeconds: number): RemovalPlan[] {
  const marked = hosts.map((h, index) => ({ h, index })).filter(({ h }) => h.remove !== undefined);
  marked.sort((a, b) => Number(b.h.remove === "dead") - Number(a.h.remove === "dead") || a.h.name.localeCompare(b.h.name));
  return marked.map(({ h, index }) => {
    const isControlPlane = h.roles.includes("control-plane");
    const dead = h.remove === "dead";
    const etcd = isControlPlane ? [`remove the etcd member ${h.name} (peer https://${h.address}:2380)${dead ? "" : ", if kubeadm reset did not"}`] : [];
    const steps = dead
      ? [`no SSH to ${h.name}: it is marked dead`, ...etcd, `delete the Node ${h.name}; its pods are recreated elsewhere by their controllers`]
      : [
          `drain ${h.name} (respects PodDisruptionBudgets; at most ${drainTimeoutSeconds} s, then stop with nothing removed)`,
          `kubeadm reset on ${h.name}`,
          ...etcd,
          `delete the Node ${h.name}`,
        ];
    return {
      name: h.name,
      index,
      isControlPlane,
      dead,
      steps,
      ...(dead ? {} : { drain: drainScript(h.name, drainTimeoutSeconds), reset: resetScript(h.name) }),
      forget: forgetScript(h.name, h.address, isControlPlane),
    };
  });
}

const KUBECTL_ENV = `export KUBECONFIG=${ADMIN_CONF}`;

/** Cordon and evict, run on a surviving control plane. A drain that cannot finish stops the removal. */
export function drainScript(node: string, timeoutSeconds: number): string {
  return script(`${node}: drain (runs on a surviving control plane)`, [
    KUBECTL_ENV,
    `if ! kubectl get node ${q(node)} >/dev/null 2>&1; then`,
    `  echo "${node}: not a node of the cluster (already removed)"`,
    "  exit 0",
    "fi",
    `if ! kubectl drain ${q(node)} --ignore-daemonsets --delete-emptydir-data --timeout=${timeoutSeconds}s; then`,
    `  echo "${node}: the drain did not finish in ${timeoutSeconds} s, so nothing was removed: a PodDisruptionBudget or a pod without a controller holds it ` +
      `(kubectl get pods -A --field-selector spec.nodeName=${node}); fix that and run pulumi up again" >&2`,
    "  exit 3",
    "fi",
  ]);
}

/** On the removed host itself: undo kubeadm (a control plane's reset also removes its own etcd member). */
export function resetScript(node: string): string {
  return script(`${node}: kubeadm reset`, [
    "if ! command -v kubeadm >/dev/null; then",
    `  echo "${node}: kubeadm is not installed; nothing to reset"`,
    "  exit 0",
    "fi",
    "kubeadm reset -f",
    // kubeadm reset leaves these by design; a later join would trip over them.
    `rm -rf /etc/cni/net.d ${KUBEADM_DIR}`,
    ...clearStalePodNetwork(node),
    `echo "${node}: reset"`,
  ]);
}

/**
 * The etcd member of `node` (by name, or by its peer URL when it never
 * started) through a running etcd pod on another control plane. Shared by
 * removal and by the join of a replaced control plane, whose old member
 * would otherwise stay behind, dead, and count against quorum.
 */
export function etcdMemberRemoval(node: string, address: string, whenNoEtcd: "fail" | "skip"): string[] {
  const peer = `https://${address}:2380`;
  const { cacert, cert, key } = KUBEADM_ETCD_TLS;
  return [
    `pod=$(kubectl -n kube-system get pods -l component=etcd --field-selector=status.phase=Running,spec.nodeName!=${q(node)} -o jsonpath='{.items[0].metadata.name}' 2>/dev/null || true)`,
    'if [ -z "$pod" ]; then',
    ...(whenNoEtcd === "fail"
      ? [`  echo "${node}: no running etcd on another control plane to remove the member through" >&2`, "  exit 4"]
      : [`  echo "${node}: no etcd pod listed yet; no stale member looked for"`, "  exit 0"]),
    "fi",
    `etcdctl() { kubectl -n kube-system exec "$pod" -- etcdctl --endpoints=https://127.0.0.1:2379 --cacert=${cacert} --cert=${cert} --key=${key} "$@"; }`,
    `ids=$(etcdctl member list | awk -F', ' -v name=${q(node)} -v peer=${q(peer)} '$3 == name || $4 == peer { print $1 }')`,
    'if [ -z "$ids" ]; then',
    `  echo "${node}: no etcd member (already removed)"`,
    "fi",
    'for id in $ids; do',
    '  etcdctl member remove "$id"',
    `  echo "${node}: etcd member $id removed (through $pod)"`,
    "done",
  ];
}

/** On a surviving control plane: the etcd member, then the Node object. */
export function forgetScript(node: string, address: string, isControlPlane: boolean): string {
  return script(`${node}: leave etcd and the Node list (runs on a surviving control plane)`, [
    KUBECTL_ENV,
    ...(isControlPlane ? etcdMemberRemoval(node, address, "fail") : []),
    `kubectl delete node ${q(node)} --ignore-not-found --wait=true`,
    `echo "${node}: removed from the cluster"`,
  ]);
}

/**
 * Before a control plane joins: a member left behind under its name or
 * address (the machine was replaced, or reset by hand) is removed, or the
 * join would add a second member while the dead one still counts.
 */
export function staleMemberScript(node: string, address: string): string {
  return script(`${node}: remove a stale etcd member of this node before it joins (runs on the control plane it joins through)`, [
    KUBECTL_ENV,
    ...etcdMemberRemoval(node, address, "skip"),
  ]);
}

/**
 * etcd changes its membership only while a majority of its members answer.
 * Dead control planes count as members that do not answer until they are
 * removed; the ones being drained answer until their own reset. Returns the
 * refusal with the numbers, or undefined when the removals are safe.
 */
export function quorumProblem(activeControlPlanes: string[], removals: Pick<RemovalPlan, "name" | "isControlPlane" | "dead">[]): string | undefined {
  const leaving = removals.filter((r) => r.isControlPlane);
  if (leaving.length === 0) return undefined;
  const members = activeControlPlanes.length + leaving.length;
  const answering = activeControlPlanes.length + leaving.filter((r) => !r.dead).length;
  const needed = Math.floor(members / 2) + 1;
  if (answering >= needed) return undefined;
  const dead = leaving.filter((r) => r.dead).map((r) => r.name);
  return (
    `removing ${leaving.map((r) => r.name + (r.dead ? " (dead)" : "")).join(", ")}: etcd has ${members} members and ${answering} of them answer ` +
    `(${dead.join(", ")} ${dead.length === 1 ? "is" : "are"} dead), but etcd changes its membership only while ${needed} answer: ` +
    `bring a dead control plane back first, or restore the cluster from an etcd snapshot (docs/kubernetes.md, node lifecycle)`
  );
}

/** What is left after the removals, when it is weaker than an odd number of at least 3. */
export function remainingControlPlaneWarning(activeControlPlanes: string[], removals: Pick<RemovalPlan, "isControlPlane">[]): string | undefined {
  if (!removals.some((r) => r.isControlPlane)) return undefined;
  const n = activeControlPlanes.length;
  if (n >= 3 && n % 2 === 1) return undefined;
  return (
    `${n} control plane${n === 1 ? "" : "s"} left after the removal (${activeControlPlanes.join(", ")}): ` +
    `etcd then survives no control-plane failure; add a replacement to get back to ${n % 2 === 0 ? n + 1 : Math.max(3, n + 2)}`
  );
}
