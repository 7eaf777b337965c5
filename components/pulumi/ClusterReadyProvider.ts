// The cluster-wide end of the install, as one Pulumi resource: the pod
// network applied, every node Ready, and the admin kubeconfig read back.
// Runs on the first control plane in the plan's order whose API server
// answers, so a control plane that is down does not block it.
import * as pulumi from "@pulumi/pulumi";
import { HostError, failedWith } from "../ssh/types";
import { type HostAddress } from "../plan/targets";
import { answeringControlPlane } from "./controlPlanes";
import { HostResource, sameInput, type ProviderFactory } from "./hostResource";

export interface ClusterReadyState {
  controlPlanes: HostAddress[];
  /** Installs the pod network (idempotent). */
  cni: string;
  /** Waits until every node is Ready; names the ones that are not. */
  waitReady: string;
  /** Prints the admin kubeconfig with the external server. */
  adminKubeconfig: string;
  /** The nodes it waited for: a node added or removed runs it again. */
  nodes: string[];
  /** Output, secret: the admin kubeconfig. */
  kubeconfig?: string;
  /** Output: the control plane it ran on. */
  ranOn?: string;
}

const DEFINING_INPUTS = ["cni", "waitReady", "adminKubeconfig", "nodes"] as const;

export const clusterReadyProvider: ProviderFactory = (credentials) => {
  const run = async (st: ClusterReadyState): Promise<ClusterReadyState> => {
    const tried: string[] = [];
    const found = await answeringControlPlane(st.controlPlanes, credentials, tried);
    if (!found) throw new Error(`the cluster's API server answers on no control plane (${tried.join("; ")}): the pod network and readiness cannot be checked`);
    const { cp, session: s } = found;
    const where = `${cp.address}:${cp.port}`;
    for (const [what, script] of [["pod network", st.cni], ["nodes Ready", st.waitReady]] as const) {
      const r = await s.run(script, { timeoutSeconds: 1800, onLine: (l) => pulumi.log.info(`${cp.name}: ${l}`) });
      if (r.code !== 0) throw new HostError(cp.name, where, what, failedWith(r));
    }
    const kc = await s.run(st.adminKubeconfig, { timeoutSeconds: 60 });
    if (kc.code !== 0) throw new HostError(cp.name, where, "reading the admin kubeconfig", `exit status ${kc.code}`);
    return { ...st, kubeconfig: kc.stdout, ranOn: cp.name };
  };
  return {
    async diff(_id: pulumi.ID, olds: ClusterReadyState, news: ClusterReadyState): Promise<pulumi.dynamic.DiffResult> {
      return { changes: DEFINING_INPUTS.some((k) => !sameInput(olds[k], news[k])) };
    },
    async create(inputs: ClusterReadyState): Promise<pulumi.dynamic.CreateResult> {
      return { id: "cluster-ready", outs: await run(inputs) };
    },
    async update(_id: pulumi.ID, _olds: ClusterReadyState, news: ClusterReadyState): Promise<pulumi.dynamic.UpdateResult> {
      return { outs: await run(news) };
    },
    // The network stays when the stack stops managing it: deleting it would
    // cut every pod off.
    async delete(): Promise<void> {},
  };
};

export interface ClusterReadyArgs {
  controlPlanes: pulumi.Input<HostAddress[]>;
  cni: pulumi.Input<string>;
  waitReady: pulumi.Input<string>;
  adminKubeconfig: pulumi.Input<string>;
  nodes: pulumi.Input<string[]>;
}

/** Pod network, readiness, admin kubeconfig. Type token: `pulumi-nodejs:dynamic/ironroot:ClusterReady`. */
export class ClusterReady extends HostResource {
  declare readonly kubeconfig: pulumi.Output<string>;
  declare readonly ranOn: pulumi.Output<string>;

  constructor(name: string, args: ClusterReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super("ClusterReady", name, { ...args, kubeconfig: undefined, ranOn: undefined }, { ...opts, additionalSecretOutputs: ["kubeconfig"] });
  }
}
