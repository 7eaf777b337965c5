import * as pulumi from "@pulumi/pulumi";
import type { NodePlan } from "../plan";
import { DiskBenchmark } from "./DiskBenchmark";
import type { HostAddress } from "../plan/targets";
import { HostPrep } from "./HostPrepProvider";

export interface NodeArgs {
  /** This node's slice of the plan. Required. */
  plan: NodePlan;
  /** How to reach the host, without credentials. Required. */
  target: HostAddress;
  /** `systemd-detect-virt` from the host's facts, so steps a container cannot take are reported, not failed. Default: asked on the host. */
  virt?: string;
  /** The prep steps found pending at start-up (`pendingSteps` in host/startup.ts). Default: probed by the resource's `check`. */
  pendingSteps?: string[];
}

/**
 * One host: its preparation, then the etcd disk benchmark (fio is one of the
 * packages preparation installs). Kubelet configuration and Kubernetes are
 * cluster-wide rollouts that depend on these.
 */
export class Node extends pulumi.ComponentResource {
  readonly name: string;
  readonly roles: string[];
  readonly prep: HostPrep;
  readonly benchmark: DiskBenchmark;

  constructor(name: string, args: NodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:host:Node", name, {}, opts);
    this.name = args.plan.name;
    this.roles = args.plan.roles;
    this.prep = new HostPrep(`${name}-prep`, { node: name, target: args.target, steps: args.plan.prep, virt: args.virt, pendingSteps: args.pendingSteps }, { parent: this });
    this.benchmark = new DiskBenchmark(
      `${name}-disk`,
      { plan: args.plan.diskBenchmark, connection: args.target },
      { parent: this, dependsOn: [this.prep] },
    );
    this.registerOutputs({ name: this.name, roles: this.roles, pendingSteps: this.prep.pendingSteps, disk: this.benchmark.result });
  }
}
