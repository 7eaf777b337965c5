import * as pulumi from "@pulumi/pulumi";
import type { NodePlan } from "../plan";

export interface NodeArgs {
  /** This node's slice of the plan. Required. */
  plan: NodePlan;
}

/** One host of the cluster: everything ironroot does on it hangs below this. */
export class Node extends pulumi.ComponentResource {
  readonly name: string;
  readonly roles: string[];

  constructor(name: string, args: NodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:host:Node", name, {}, opts);
    this.name = args.plan.name;
    this.roles = args.plan.roles;
    this.registerOutputs({ name: this.name, roles: this.roles });
  }
}
