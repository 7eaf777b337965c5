// Render side of the kubelet plan: per node, the exact drop-in file (when it
// can be computed) and the explanation of its numbers. Render runs without
// hosts, so node sizes come from `--facts <dir>` (`<host>.json`, the gathered
// host facts or just `{cpus, memoryBytes}`); without them a sized node gets
// only its explanation, which says what could not be computed.
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import YAML from "yaml";
import type { KubeletNodePlan, NodeSize } from "../plan/kubelet";
import { nodeSizeFromJson } from "../plan/kubelet/nodeSize";

export function renderKubelet(plan: KubeletNodePlan): Map<string, string> {
  const files = new Map<string, string>();
  const dir = `nodes/${plan.node}/kubelet`;
  if (plan.content !== undefined) files.set(`${dir}/${basename(plan.path)}`, plan.content);
  // Inputs, tiers, result, then the verdict: the order a reader checks them in.
  const { check, ...reasoning } = plan.explanation;
  files.set(`${dir}/explanation.yaml`, YAML.stringify({ path: plan.path, ...reasoning, check }, { lineWidth: 0, sortMapEntries: false }));
  return files;
}

/** `<dir>/<node>.json` for each node that has one; a node without a file has no facts. */
export function readNodeSizes(dir: string, nodes: readonly string[]): Record<string, NodeSize> {
  if (!existsSync(dir)) throw new Error(`--facts ${dir}: no such directory: write one <host>.json per host, e.g. {"cpus": 4, "memoryBytes": 8589934592}`);
  const out: Record<string, NodeSize> = {};
  for (const node of nodes) {
    const file = join(dir, `${node}.json`);
    if (!existsSync(file)) continue;
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
    }
    out[node] = nodeSizeFromJson(value, file);
  }
  return out;
}
