// Taking one host marked `remove` out of the cluster, as a Pulumi resource
// (`<node>-removal`). Its inputs carry the planned steps in words, so
// `pulumi preview --diff` shows exactly what will happen before it does.
//
// Order: drain from a surviving control plane, `kubeadm reset` on the host,
// then the survivors forget it (etcd member, Node). A dead host is never
// contacted. Every step is idempotent, so a removal that stopped half-way
// (a drain blocked by a PodDisruptionBudget, a lost connection) finishes on
// the next `up`. Deleting the resource (the entry left the config once the
// removal ran) does nothing.
import * as pulumi from "@pulumi/pulumi";
import { HostError, failedWith, type HostSession } from "../ssh/types";
import { type HostAddress } from "../plan/targets";
import { answeringControlPlane } from "./controlPlanes";
import { connect, HostResource, isKnown, sameInput, type ProviderFactory } from "./hostResource";

export interface NodeRemovalState {
  node: string;
  isControlPlane: boolean;
  dead: boolean;
  /** What happens, in words (the plan's `steps`). */
  steps: string[];
  /** The host itself; absent when it is dead. */
  target?: HostAddress;
  /** The control planes that stay, in the plan's order: where kubectl runs. */
  controlPlanes: HostAddress[];
  drain?: string;
  reset?: string;
  forget: string;
  /** Output: the control plane the removal ran through. */
  ranOn?: string;
}

/** A change of these is another removal; the survivors' list is only where it runs. */
const DEFINING_INPUTS = ["node", "isControlPlane", "dead", "drain", "reset", "forget"] as const;

async function step(s: HostSession, host: HostAddress, what: string, script: string): Promise<void> {
  const r = await s.run(script, { timeoutSeconds: 1800, onLine: (l) => pulumi.log.info(`${host.name}: ${l}`) });
  if (r.code !== 0) throw new HostError(host.name, `${host.address}:${host.port}`, what, failedWith(r));
}

export const nodeRemovalProvider: ProviderFactory = (credentials) => {
  const remove = async (st: NodeRemovalState): Promise<NodeRemovalState> => {
    const tried: string[] = [];
    const found = await answeringControlPlane(st.controlPlanes, credentials, tried, st.node);
    if (!found) {
      throw new Error(`${st.node}: removal: no surviving control plane answers (${tried.join("; ")}), so nothing was done: bring one back, then run pulumi up again`);
    }
    const { cp, session: survivor } = found;
    let host: HostSession | undefined;
    if (!st.dead) {
      if (!st.target || !st.drain || !st.reset) throw new Error(`${st.node}: removal: a reachable host needs its target, drain and reset; this is a bug in ironroot`);
      host = connect(st.target, credentials);
      // Reach the host before the drain, so an unreachable one stops the
      // removal before anything in the cluster changed.
      try {
        await host.run("true", { timeoutSeconds: 30 });
      } catch (e) {
        if (!(e instanceof HostError && e.what === "connecting")) throw e;
        throw new HostError(st.node, `${st.target.address}:${st.target.port}`, "removal",
          `${e.cause_}: nothing was done. If the machine is gone for good, mark it \`remove: dead\` instead: its etcd member and Node are then removed from ${cp.name} without SSH to it`);
      }
      await step(survivor, cp, `draining ${st.node}`, st.drain);
      await step(host, st.target, "kubeadm reset", st.reset);
    }
    await step(survivor, cp, `removing ${st.node} from etcd and the Node list`, st.forget);
    return { ...st, ranOn: cp.name };
  };

  return {
    async diff(_id: pulumi.ID, olds: NodeRemovalState, news: NodeRemovalState): Promise<pulumi.dynamic.DiffResult> {
      if (!isKnown(news)) return { changes: true };
      return { changes: DEFINING_INPUTS.some((k) => !sameInput(olds[k], news[k])) };
    },
    async create(inputs: NodeRemovalState): Promise<pulumi.dynamic.CreateResult> {
      return { id: `${inputs.node}-removal`, outs: await remove(inputs) };
    },
    async update(_id: pulumi.ID, _olds: NodeRemovalState, news: NodeRemovalState): Promise<pulumi.dynamic.UpdateResult> {
      return { outs: await remove(news) };
    },
    // The removal ran; its entry leaving the config undoes nothing.
    async delete(): Promise<void> {},
  };
};

export interface NodeRemovalArgs {
  node: pulumi.Input<string>;
  isControlPlane: pulumi.Input<boolean>;
  dead: pulumi.Input<boolean>;
  steps: pulumi.Input<string[]>;
  target?: pulumi.Input<HostAddress>;
  controlPlanes: pulumi.Input<HostAddress[]>;
  drain?: pulumi.Input<string>;
  reset?: pulumi.Input<string>;
  forget: pulumi.Input<string>;
}

/** One host taken out of the cluster. Type token: `pulumi-nodejs:dynamic/ironroot:NodeRemoval`. */
export class NodeRemoval extends HostResource {
  declare readonly ranOn: pulumi.Output<string>;

  constructor(name: string, args: NodeRemovalArgs, opts?: pulumi.CustomResourceOptions) {
    super("NodeRemoval", name, { ...args, ranOn: undefined }, opts);
  }
}
