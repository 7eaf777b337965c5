// What the Pulumi program builds once config is validated and host facts are
// in: plan, then the component tree, then the stack outputs. Kept apart from
// stacks/index.ts (which reads config and reaches hosts) so the component
// tier can run it under mocks with facts of its own.
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../config/schema";
import { buildPlan, type Plan, type PlanInputs } from "../plan";
import type { HostFacts } from "../plan/facts";
import { Cluster } from "./Cluster";

export interface StackInputs {
  spec: StackSpec;
  facts: Record<string, HostFacts>;
  deployKey?: pulumi.Input<string>;
  sealingKey?: pulumi.Input<string>;
  /** Extra plan inputs; `kubeadm.bundle` (air-gapped mode) is also what each node's OfflineBundle uploads. Default: none. */
  planInputs?: Omit<PlanInputs, "nodeSizes">;
  /** The plan, when the caller built it already (`stackPlan`). Default: built here. */
  plan?: Plan;
  /** Per node, the prep steps found pending at start-up (`pendingSteps`). Default: each node's preparation probes for itself. */
  pendingPrep?: Record<string, string[]>;
}

/** The plan the stack is built from: the spec, the host facts and the extra inputs. */
export function stackPlan(inputs: Pick<StackInputs, "spec" | "facts" | "planInputs">) {
  return buildPlan(inputs.spec, { ...inputs.planInputs, nodeSizes: inputs.facts });
}

export function buildStack(inputs: StackInputs) {
  const { spec, facts } = inputs;
  const plan = inputs.plan ?? stackPlan(inputs);
  const cluster = new Cluster(spec.cluster.name, {
    spec,
    plan,
    facts,
    deployKey: inputs.deployKey,
    sealingKey: inputs.sealingKey,
    offlineBundle: inputs.planInputs?.kubeadm?.bundle,
    pendingPrep: inputs.pendingPrep,
  });
  return {
    cluster,
    outputs: {
      layers: spec.layers,
      // By name, as every list a reorder of hosts must not change.
      nodes: cluster.kubernetes?.nodes ?? cluster.nodes.map((n) => n.name).sort(),
      ...(cluster.kubernetes && {
        endpoint: cluster.kubernetes.endpoint,
        /** Admin kubeconfig (secret): `pulumi stack output kubeconfig --show-secrets`. */
        kubeconfig: cluster.kubernetes.kubeconfig,
      }),
      /** Per node: which preparation steps the last preview/up found pending. */
      pendingSteps: Object.fromEntries(cluster.nodes.map((n) => [n.name, n.prep.pendingSteps])),
      /** Per node: the etcd disk benchmark (secret-free). */
      diskBenchmarks: Object.fromEntries(cluster.nodes.map((n) => [n.name, n.benchmark.result])),
      /** Per node: why the kubelet reservations are what they are. */
      kubeletReservations: Object.fromEntries(plan.nodes.map((n) => [n.name, n.kubelet.explanation])),
      ...(cluster.gitops && {
        /** The sealed-secrets key (secret): copy it into the disaster-recovery stack. */
        sealingKey: cluster.gitops.sealingKey,
        /** The public sealing certificate, for `kubeseal --cert`. */
        sealingCertificate: cluster.gitops.sealingCertificate,
      }),
    },
  };
}
