// Kubelet drop-in files for all nodes, chained so a change rolls through the
// cluster `parallelism` nodes at a time: node i waits for node i - p. Pulumi
// does not start a resource whose dependency failed, so a failing node stops
// its chain there and the nodes after it stay untouched.
import * as pulumi from "@pulumi/pulumi";
import type { KubeletFields } from "../plan/kubelet/fields";
import { rolloutPredecessors } from "../plan/kubelet/rollout";
import type { HostAddress } from "../plan/targets";
import { KubeletConfig } from "./KubeletConfigProvider";

export interface KubeletRolloutNode {
  /** Node name; also the child resource's name suffix. */
  name: string;
  /** Reservation fields from the plan (may wait on host facts). */
  fields: pulumi.Input<KubeletFields>;
  /** How to reach the node, without credentials. */
  target: pulumi.Input<HostAddress>;
  /** Drop-in path. Default: the plan's KUBELET_DROP_IN. */
  path?: pulumi.Input<string>;
  /** Resources this node's file must wait for (e.g. its host preparation). Default: none. */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface KubeletRolloutArgs {
  /** The nodes in rollout order (the plan's node order). Required. */
  nodes: KubeletRolloutNode[];
  /** `kubelet.rollout` from the stack config: parallelism and timeouts. Default: `{parallelism: 1, drainTimeoutSeconds: 300, readyTimeoutSeconds: 300}`. */
  rollout?: { parallelism: number; drainTimeoutSeconds: number; readyTimeoutSeconds: number };
  /** Control plane that runs kubectl (admin.conf) on a running cluster. Default: none (files are only written). */
  controlPlane?: pulumi.Input<HostAddress>;
}

export class KubeletRollout extends pulumi.ComponentResource {
  /** One per node, in the order given. */
  readonly configs: KubeletConfig[];

  constructor(name: string, args: KubeletRolloutArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:host:KubeletRollout", name, {}, opts);
    const rollout = args.rollout ?? { parallelism: 1, drainTimeoutSeconds: 300, readyTimeoutSeconds: 300 };
    const before = rolloutPredecessors(args.nodes.map((n) => n.name), rollout.parallelism);
    const byName = new Map<string, KubeletConfig>();
    this.configs = args.nodes.map((n, i) => {
      const prev = before[i] === undefined ? undefined : byName.get(before[i]!);
      const config = new KubeletConfig(
        `${name}-${n.name}`,
        {
          node: n.name,
          path: n.path,
          fields: n.fields,
          target: n.target,
          controlPlane: args.controlPlane,
          drainTimeoutSeconds: rollout.drainTimeoutSeconds,
          readyTimeoutSeconds: rollout.readyTimeoutSeconds,
        },
        { parent: this, dependsOn: [...(n.dependsOn ?? []), ...(prev ? [prev] : [])] },
      );
      byName.set(n.name, config);
      return config;
    });
    this.registerOutputs({ nodes: args.nodes.map((n) => n.name) });
  }
}
