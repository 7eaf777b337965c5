// Render side of the kubelet plan: per node, the exact drop-in file (when it
// can be computed) and the explanation of its numbers. Render runs without
// hosts, so node sizes come from `--facts <dir>` (`<host>.json`, the gathered
// host facts or just `{cpus, memoryBytes}`); without them a sized node gets
// only its explanation, which says what could not be computed.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
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

/** A problem with the `--facts` folder: every one of them, in one message. */
export class FactsError extends Error {}

/**
 * `<dir>/<node>.json` for each node that has one; a node without a file has
 * no facts. Every problem in the folder is reported at once: a bad file, a
 * file for a host the stack does not have, a folder with no facts at all.
 */
export function readNodeSizes(dir: string, nodes: readonly string[]): Record<string, NodeSize> {
  const example = `write one <host>.json per host, e.g. {"cpus": 4, "memoryBytes": 8589934592}`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new FactsError(`--facts ${dir}: no such directory: ${example}`);
  const problems: string[] = [];
  const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  if (files.length === 0) problems.push(`--facts ${dir}: no <host>.json in it: ${example}`);
  for (const f of files) {
    const host = f.slice(0, -".json".length);
    if (!nodes.includes(host)) problems.push(`${join(dir, f)}: no host named "${host}" in the stack: name the file after one of ${nodes.join(", ")}, or remove it`);
  }
  const out: Record<string, NodeSize> = {};
  for (const node of nodes) {
    const file = join(dir, `${node}.json`);
    if (!existsSync(file)) continue;
    try {
      let value: unknown;
      try {
        value = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
      }
      out[node] = nodeSizeFromJson(value, file);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length > 0) throw new FactsError(problems.length === 1 ? problems[0] : `${problems.length} problems in --facts ${dir}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return out;
}
