// Per-node kubelet plan: sizing + the exact drop-in file. Pure.
import type { StackSpec } from "../../config/schema";
import type { KubeletFields } from "./fields";
import { configDirProblem, KUBELET_DROP_IN, renderKubeletDropIn } from "./dropIn";
import { sizeNode, type Explanation, type NodeSize } from "./sizing";

export type { KubeletFields } from "./fields";
export type { NodeSize } from "./sizing";

export interface KubeletNodePlan {
  node: string;
  /** Absolute path of the drop-in file on the host. */
  path: string;
  /** Absent when the sized policy has no host facts to size from. */
  fields?: KubeletFields;
  /** Exact file content, absent exactly when `fields` is. */
  content?: string;
  explanation: Explanation;
}

/** Every reason the kubelet plan refuses a stack, all at once. */
export class KubeletPlanError extends Error {
  constructor(readonly problems: string[]) {
    super(`kubelet reservations: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "KubeletPlanError";
  }
}

/**
 * The kubelet plan of each node, in the order given. `facts` maps node name
 * to its size; a node without facts is planned as far as its policy allows
 * (static: file yes, capacity check no; sized: nothing, with the reason).
 */
export function kubeletPlans(
  spec: StackSpec,
  nodes: readonly { name: string; group: string }[],
  facts: Readonly<Record<string, NodeSize>> = {},
): KubeletNodePlan[] {
  const problems: string[] = [];
  const version = configDirProblem(spec.cluster.kubernetesVersion);
  if (version) problems.push(version);
  const plans = nodes.map((n) => {
    const s = sizeNode({ node: n.name, group: n.group, kubelet: spec.kubelet, size: facts[n.name] });
    if (s.problem) problems.push(s.problem);
    const plan: KubeletNodePlan = { node: n.name, path: KUBELET_DROP_IN, explanation: s.explanation };
    if (s.fields) {
      plan.fields = s.fields;
      plan.content = renderKubeletDropIn(s.fields, { node: n.name });
    }
    return plan;
  });
  if (problems.length > 0) throw new KubeletPlanError(problems);
  return plans;
}

/**
 * What the Kubernetes install writes before the kubelet first starts: per
 * node, the drop-in path and exact content (only for nodes whose content is
 * known). Enable the directory with CONFIG_DIR_ENABLEMENT from ./render.
 */
export function kubeletDropIns(plans: readonly KubeletNodePlan[]): { node: string; path: string; content: string }[] {
  return plans.filter((p) => p.content !== undefined).map((p) => ({ node: p.node, path: p.path, content: p.content! }));
}
