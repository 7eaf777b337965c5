// The Pulumi program: stack config -> schema -> plan -> components.
import * as pulumi from "@pulumi/pulumi";
import { rawConfigFromEngine } from "../components/config/load";
import { parseStack } from "../components/config/schema";
import { buildPlan } from "../components/plan";
import { Cluster } from "../components/pulumi/Cluster";

export = async () => {
  const spec = parseStack(pulumi.getStack(), rawConfigFromEngine(pulumi.runtime.allConfig()));
  const plan = buildPlan(spec);
  const cluster = new Cluster(spec.cluster.name, { plan });
  return {
    nodes: plan.nodes.map((n) => ({ name: n.name, roles: n.roles })),
    joinOrder: plan.cluster.joinOrder,
    clusterUrn: cluster.urn,
  };
};
