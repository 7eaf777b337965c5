// One node's membership of the cluster as a Pulumi resource, named by the
// node, run over SSH (its install steps run before, in
// parallel on every node, as a HostPrep resource). Whether the node starts
// the cluster or joins it is decided on the hosts, not by config order: a
// node joins when any other control plane already runs an API server, and
// only the node the plan names as initializer may start a new cluster. Reordering `hosts`
// therefore changes nothing, and the initializer is not an input that diffs.
//
// Removing the resource (the host left the stack) does nothing on the host:
// resetting a node is never a side effect of a config edit. The host keeps
// running as a member until it is taken out of the cluster on purpose, by
// marking it `remove` (NodeRemovalProvider.ts).
//
// Join credentials are made on a running control plane at the moment of
// the join and go to the joining node on stdin: they are never an input,
// an output or a log line.
import * as pulumi from "@pulumi/pulumi";
import { isMember } from "../host/membership";
import { HostError, failedWith, lastLines } from "../ssh/types";
import { type HostAddress } from "../plan/targets";
import { answeringControlPlane } from "./controlPlanes";
import { connect, HostResource, isKnown, reachChanges, sameInput, type ProviderFactory } from "./hostResource";

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
  /** Control planes: removes an etcd member left behind under this node's name or address; runs where the node joins through. */
  staleMember?: string;
  /** Prints fresh join credentials; runs on a control plane that answers. */
  credentials: string;
  /** The other control planes, in the plan's order: where a running cluster is looked for. */
  controlPlanes: HostAddress[];
  /** The node that starts the cluster when no control plane runs one. Not a change when it moves. */
  initializer: string;
  /** Output: how the node became a member ("init", "join") or that it already was ("member"). */
  membership?: "init" | "join" | "member";
}

/** Only used to become a member. */
const MEMBERSHIP_SCRIPTS: string[] = ["init", "join", "credentials", "staleMember"];

/** Inputs whose change is a change of the resource (membership itself is never redone). */
const DEFINING_INPUTS = ["node", "isControlPlane", "init", "join", "credentials", "staleMember"] as const;

export function nodeChanges(olds: KubernetesNodeState, news: KubernetesNodeState): string[] {
  return [...DEFINING_INPUTS.filter((k) => !sameInput(olds[k], news[k])), ...reachChanges(olds.target, news.target)];
}

export const kubernetesNodeProvider: ProviderFactory = (credentials, removing) => {
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
      const found = await answeringControlPlane(st.controlPlanes, credentials, tried, st.node);
      if (found) {
        const { cp, session: peer } = found;
        const on = `${cp.address}:${cp.port}`;
        // A replaced control plane's old etcd member would stay behind, dead.
        if (st.staleMember) {
          const cleared = await peer.run(st.staleMember, { timeoutSeconds: 120, onLine: (l) => pulumi.log.info(`${cp.name}: ${l}`) });
          if (cleared.code !== 0) throw new HostError(cp.name, on, `removing a stale etcd member of ${st.node}`, failedWith(cleared));
        }
        const made = await peer.run(st.credentials, { timeoutSeconds: 120 });
        if (made.code !== 0) {
          throw new HostError(cp.name, on, "making join credentials", `exit status ${made.code}: ${lastLines(made.stderr, 1)}`);
        }
        const joined = await s.run(st.join, { stdin: made.stdout, secrets: [made.stdout], timeoutSeconds: 900, onLine: (l) => pulumi.log.info(`${st.node}: ${l}`) });
        if (joined.code !== 0) {
          throw new HostError(st.node, `${st.target.address}:${st.target.port}`, `kubeadm join through ${cp.name}`, failedWith(joined));
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
      throw new HostError(st.node, `${st.target.address}:${st.target.port}`, "kubeadm init", failedWith(inited));
    }
    return "init";
  };

  return {
    async diff(_id: pulumi.ID, olds: KubernetesNodeState, news: KubernetesNodeState): Promise<pulumi.dynamic.DiffResult> {
      if (!isKnown(news)) return { changes: true };
      // For a member, the init and join scripts are history: another control
      // plane's address in them (one added or removed) changes nothing here.
      const changed = olds.membership ? nodeChanges(olds, news).filter((k) => !MEMBERSHIP_SCRIPTS.includes(k)) : nodeChanges(olds, news);
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
      if (removing?.has(props.node)) {
        pulumi.log.info(`${props.node}: marked remove: taken out of the cluster by ${props.node}-removal`);
        return;
      }
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
  staleMember?: pulumi.Input<string>;
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
