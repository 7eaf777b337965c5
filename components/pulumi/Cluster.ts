import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan";
import { Node } from "./Node";

export interface ClusterArgs {
  /** The plan built from the validated stack config. Required. */
  plan: Plan;
}

/** The whole stack: nodes, Kubernetes, and the GitOps layer on top. */
export class Cluster extends pulumi.ComponentResource {
  readonly nodes: Node[];

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:cluster:Cluster", name, {}, opts);
    this.nodes = args.plan.nodes.map((n) => new Node(n.name, { plan: n }, { parent: this }));
    this.registerOutputs({ nodes: this.nodes.map((n) => n.name) });
  }
}
