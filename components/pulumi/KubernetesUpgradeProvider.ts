// One node's Kubernetes version as a Pulumi resource (`<node>-k8s-upgrade`).
// Its input is the version the node should run, so `pulumi preview` shows
// an upgrade per node as `version: "1.35.4" => "1.36.3"`, in the order the
// resources depend on each other (KubernetesCluster.ts chains them in
// kubeadm's order). An update runs components/host/kubernetesUpgrade.ts;
// a failure leaves the old version in state, so the next `up` shows the
// same update again and goes on from where the node stands.
//
// On a node that is no member yet it does nothing: its install step puts
// the version on. Never a replace, and a delete does nothing on the host.
import * as pulumi from "@pulumi/pulumi";
import type { UpgradeChecks, UpgradeNodePlan } from "../plan/kubeadm/upgrade";
import type { HostAddress } from "../plan/targets";
import { HostError } from "../ssh/types";
import { upgradeNode } from "../host/kubernetesUpgrade";
import { isMember } from "../host/membership";
import { answeringControlPlane } from "./controlPlanes";
import { connect, HostResource, isKnown, reachChanges, type ProviderFactory } from "./hostResource";

export interface KubernetesUpgradeState {
  node: string;
  target: HostAddress;
  /** The version the node runs once this resource is applied. */
  version: string;
  /** The scripts (plan/kubeadm/upgrade.ts). Not part of the diff: the version is. */
  plan: UpgradeNodePlan;
  /** Where kubectl runs: the first of them whose API answers. */
  controlPlanes: HostAddress[];
  /** The first control plane: the cluster checks and snapshot, and every other node (the images go there first). */
  checks?: UpgradeChecks;
  others?: HostAddress[];
  drainTimeoutSeconds: number;
  readyTimeoutSeconds: number;
  /** Output: what the last run found or did ("not-member", "already", "upgraded from 1.35.4"). */
  outcome?: string;
}

/** The inputs whose change is an upgrade to run: the version, or another machine under the name. */
export function upgradeChanges(olds: KubernetesUpgradeState, news: KubernetesUpgradeState): string[] {
  return [...(olds.version !== news.version ? ["version"] : []), ...reachChanges(olds.target, news.target)];
}

export const kubernetesUpgradeProvider: ProviderFactory = (credentials) => {
  const apply = async (st: KubernetesUpgradeState): Promise<KubernetesUpgradeState> => {
    const node = connect(st.target, credentials);
    const tried: string[] = [];
    const log = (l: string) => pulumi.log.info(l);
    // Only a member needs a control plane; a fresh node is left to its install.
    if (!(await isMember(node))) return { ...st, outcome: "not-member" };
    const found = await answeringControlPlane(st.controlPlanes, credentials, tried);
    if (!found) {
      throw new HostError(st.node, `${st.target.address}:${st.target.port}`, `upgrading to ${st.version}`, `no control plane's API answers (${tried.join("; ")}): the upgrade needs a running cluster`);
    }
    const outcome = await upgradeNode({
      plan: st.plan,
      node,
      controlPlane: found.session,
      ...(st.checks ? { cluster: { checks: st.checks, others: (st.others ?? []).map((o) => connect(o, credentials)) } } : {}),
      drainTimeoutSeconds: st.drainTimeoutSeconds,
      readyTimeoutSeconds: st.readyTimeoutSeconds,
      log,
    });
    if (outcome.kind === "upgraded") log(`${st.node}: upgraded ${outcome.from} -> ${st.version}`);
    return { ...st, outcome: outcome.kind === "upgraded" ? `upgraded from ${outcome.from}` : outcome.kind };
  };

  return {
    async diff(_id: pulumi.ID, olds: KubernetesUpgradeState, news: KubernetesUpgradeState): Promise<pulumi.dynamic.DiffResult> {
      if (!isKnown(news)) return { changes: true };
      return { changes: upgradeChanges(olds, news).length > 0, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: KubernetesUpgradeState): Promise<pulumi.dynamic.CreateResult> {
      return { id: `${inputs.node}-k8s-upgrade`, outs: await apply(inputs) };
    },
    async update(_id: pulumi.ID, _olds: KubernetesUpgradeState, news: KubernetesUpgradeState): Promise<pulumi.dynamic.UpdateResult> {
      return { outs: await apply(news) };
    },
    /** Nothing on the host: a node's version is never taken back by a config edit. */
    async delete(): Promise<void> {},
  };
};

export interface KubernetesUpgradeArgs {
  node: pulumi.Input<string>;
  target: pulumi.Input<HostAddress>;
  version: pulumi.Input<string>;
  plan: pulumi.Input<UpgradeNodePlan>;
  controlPlanes: pulumi.Input<HostAddress[]>;
  checks?: pulumi.Input<UpgradeChecks>;
  others?: pulumi.Input<HostAddress[]>;
  drainTimeoutSeconds: pulumi.Input<number>;
  readyTimeoutSeconds: pulumi.Input<number>;
}

/** One node's Kubernetes version. Type token: `pulumi-nodejs:dynamic/ironroot:KubernetesUpgrade`. */
export class KubernetesUpgrade extends HostResource {
  declare readonly outcome: pulumi.Output<string>;

  constructor(name: string, args: KubernetesUpgradeArgs, opts?: pulumi.CustomResourceOptions) {
    super("KubernetesUpgrade", name, { ...args, outcome: undefined }, opts);
  }
}
