// One node's membership of the cluster as a Pulumi resource, named by the
// node, backed by the SSH executor (its install steps run before, in
// parallel on every node, as a HostPrep resource). Whether the node starts
// the cluster or joins it is decided on the hosts, not by config order: a
// node joins when any other control plane already runs an API server, and
// only the node the plan names as initializer may start a new cluster. Reordering `hosts`
// therefore changes nothing, and the initializer is not an input that diffs.
//
// Removing the resource (the host left the stack) does nothing on the host:
// resetting a node is never a side effect of a config edit. The host keeps
// running as a member until it is taken out of the cluster on purpose.
//
// Join credentials are made on a running control plane at the moment of
// the join and go to the joining node on stdin: they are never an input,
// an output or a log line.
import * as pulumi from "@pulumi/pulumi";
import { KUBELET_KUBECONFIG } from "../plan/facts";
import { ADMIN_CONF } from "../plan/kubeadm/kubeVip";
import { HostError, lastLines, type HostAddress, type HostSession } from "../ssh/types";
import { connect, HostResource, isKnown, reachChanges, sameInput, type ProviderFactory } from "./hostResource";

const API_READY = `kubectl --kubeconfig ${ADMIN_CONF} get --raw /readyz >/dev/null 2>&1`;
/** How long a joining node looks for a running control plane. */
export const JOIN_WAIT_SECONDS = 180;

export interface KubernetesNodeState {
  node: string;
  target: HostAddress;
  isControlPlane: boolean;
  /** `kubeadm init`, on control planes. */
  init?: string;
  /** `kubeadm join`, credentials on stdin. */
  join: string;
  /** Prints fresh join credentials; runs on a control plane that answers. */
  credentials: string;
  /** The other control planes, in the plan's order: where a running cluster is looked for. */
  controlPlanes: HostAddress[];
  /** The node that starts the cluster when no control plane runs one. Not a change when it moves. */
  initializer: string;
  /** Output: how the node became a member ("init", "join") or that it already was ("member"). */
  membership?: "init" | "join" | "member";
}

/** Inputs whose change is a change of the resource (membership itself is never redone). */
const DEFINING_INPUTS = ["node", "isControlPlane", "init", "join", "credentials"] as const;

export function nodeChanges(olds: KubernetesNodeState, news: KubernetesNodeState): string[] {
  return [...DEFINING_INPUTS.filter((k) => !sameInput(olds[k], news[k])), ...reachChanges(olds.target, news.target)];
}

/** Whether a control plane's API server answers on that host; undefined when the host cannot be reached. */
export async function apiAnswers(s: HostSession): Promise<boolean | undefined> {
  try {
    return (await s.run(API_READY, { timeoutSeconds: 30 })).code === 0;
  } catch (e) {
    if (e instanceof HostError && e.what === "connecting") return undefined;
    throw e;
  }
}

/** Whether the node's kubelet has joined a cluster (kubeadm wrote its kubeconfig). */
async function isMember(s: HostSession): Promise<boolean> {
  return (await s.run(`test -f ${KUBELET_KUBECONFIG}`)).code === 0;
}

export const kubernetesNodeProvider: ProviderFactory = (credentials) => {
  const become = async (st: KubernetesNodeState): Promise<KubernetesNodeState["membership"]> => {
    const s = connect(st.target, credentials);
    if (await isMember(s)) return "member";

    // The API server restarts once right after `kubeadm init` (the kubelet
    // picks up its new client certificate), and a control plane may be
    // rebooting: a node that is not the initializer looks for a running one
    // for a while before it gives up.
    const waitSeconds = st.node === st.initializer ? 0 : JOIN_WAIT_SECONDS;
    const deadline = Date.now() + waitSeconds * 1000;
    let tried: string[] = [];
    for (;;) {
      tried = [];
      for (const cp of st.controlPlanes.filter((c) => c.name !== st.node)) {
        const peer = connect(cp, credentials);
        const answers = await apiAnswers(peer);
        tried.push(`${cp.name}: ${answers === undefined ? "unreachable" : answers ? "running" : "no API server"}`);
        if (!answers) continue;
        const made = await peer.run(st.credentials, { timeoutSeconds: 120 });
        if (made.code !== 0) {
          throw new HostError(cp.name, `${cp.address}:${cp.port}`, "making join credentials", `exit status ${made.code}: ${lastLines(made.stderr, 1)}`);
        }
        const joined = await s.run(st.join, { stdin: made.stdout, secrets: [made.stdout], timeoutSeconds: 900, onLine: (l) => pulumi.log.info(`${st.node}: ${l}`) });
        if (joined.code !== 0) {
          throw new HostError(st.node, `${st.target.address}:${st.target.port}`, `kubeadm join through ${cp.name}`, `exit status ${joined.code}: ${lastLines(joined.stderr || joined.stdout)}`);
        }
        return "join";
      }
      if (Date.now() >= deadline) break;
      await new Promise((done) => setTimeout(done, 5000));
    }
    if (st.node !== st.initializer || !st.init) {
      throw new HostError(st.node, `${st.target.address}:${st.target.port}`, "joining the cluster",
        `no control plane answered within ${waitSeconds} s (${tried.join("; ") || "no other control planes"}), and ${st.initializer} is the one that starts a new cluster: fix ${st.initializer} first`);
    }
    const inited = await s.run(st.init, { timeoutSeconds: 900, onLine: (l) => pulumi.log.info(`${st.node}: ${l}`) });
    if (inited.code !== 0) {
      throw new HostError(st.node, `${st.target.address}:${st.target.port}`, "kubeadm init", `exit status ${inited.code}: ${lastLines(inited.stderr || inited.stdout)}`);
    }
    return "init";
  };

  return {
    async diff(_id: pulumi.ID, olds: KubernetesNodeState, news: KubernetesNodeState): Promise<pulumi.dynamic.DiffResult> {
      if (!isKnown(news)) return { changes: true };
      const changed = nodeChanges(olds, news);
      // Another machine under the same name (a replaced host) joins anew.
      const replaces = reachChanges(olds.target, news.target).filter((f) => f === "target.address" || f === "target.hostKey");
      // No membership recorded: refresh found the node out of the cluster.
      return { changes: changed.length > 0 || !olds.membership, replaces, deleteBeforeReplace: true };
    },

    async create(inputs: KubernetesNodeState): Promise<pulumi.dynamic.CreateResult> {
      return { id: inputs.node, outs: { ...inputs, membership: await become(inputs) } };
    },

    async update(_id: pulumi.ID, _olds: KubernetesNodeState, news: KubernetesNodeState): Promise<pulumi.dynamic.UpdateResult> {
      return { outs: { ...news, membership: await become(news) } };
    },

    // A node whose kubelet kubeconfig is gone (reset by hand, disk wiped) is
    // no member any more: refresh shows it, and the next up joins it again.
    async read(id: pulumi.ID, props: KubernetesNodeState): Promise<pulumi.dynamic.ReadResult> {
      const member = await isMember(connect(props.target, credentials));
      // Absent, not undefined: the engine cannot carry an undefined value.
      const { membership: _was, ...rest } = props;
      return { id, props: member ? { ...rest, membership: props.membership ?? "member" } : rest };
    },

    async delete(_id: pulumi.ID, props: KubernetesNodeState): Promise<void> {
      pulumi.log.warn(
        `${props.node} left the stack: nothing was done on the host, which is still a member of the cluster. ` +
          "Drain and remove it from the cluster on purpose (docs/kubernetes.md, node lifecycle).",
      );
    },
  };
};

export interface KubernetesNodeArgs {
  node: pulumi.Input<string>;
  target: pulumi.Input<HostAddress>;
  isControlPlane: pulumi.Input<boolean>;
  init?: pulumi.Input<string>;
  join: pulumi.Input<string>;
  credentials: pulumi.Input<string>;
  controlPlanes: pulumi.Input<HostAddress[]>;
  initializer: pulumi.Input<string>;
}

/** One node's membership of the cluster. Type token: `pulumi-nodejs:dynamic/ironroot:KubernetesNode`. */
export class KubernetesNode extends HostResource {
  declare readonly membership: pulumi.Output<string>;

  constructor(name: string, args: KubernetesNodeArgs, opts?: pulumi.CustomResourceOptions) {
    super("KubernetesNode", name, { ...args, membership: undefined }, opts);
  }
}
