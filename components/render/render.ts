// `render`: the plan written to files for review in a pull request or a CI
// diff. Byte-identical on re-run (stable order, no timestamps) and free of
// secret values: secrets appear only as `<secret:NAME>`.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Plan } from "../plan";
import { stepScript } from "../plan/step";
import { renderKubeadm } from "./kubeadm";
import { renderGitops } from "./gitops";
import { renderKubelet } from "./kubelet";
import { toYaml } from "./yaml";

export type RenderedFiles = Map<string, string>;

export function renderPlan(plan: Plan): RenderedFiles {
  const files: RenderedFiles = new Map();
  for (const node of plan.nodes) {
    const { prep, diskBenchmark, kubelet, etcdSnapshot, ...inventory } = node;
    for (const [rel, content] of renderKubelet(kubelet)) files.set(rel, content);
    const { script: benchmarkScript, ...benchmarkSettings } = diskBenchmark;
    files.set(`nodes/${node.name}/disk-benchmark.sh`, benchmarkScript);
    files.set(`nodes/${node.name}/disk-benchmark.yaml`, toYaml(benchmarkSettings));
    files.set(`nodes/${node.name}/node.yaml`, toYaml(inventory));
    prep.forEach((step, i) => {
      files.set(`nodes/${node.name}/prep/${String(i + 1).padStart(2, "0")}-${step.id.replace(/\//g, "-")}.sh`, stepScript(step));
    });
    etcdSnapshot.forEach((step, i) => {
      files.set(`nodes/${node.name}/etcd-snapshot/${String(i + 1).padStart(2, "0")}-${step.id.replace(/\//g, "-")}.sh`, stepScript(step));
    });
  }
  files.set("cluster/join-order.yaml", toYaml({ joinOrder: plan.cluster.joinOrder }));
  files.set("cluster/layers.yaml", toYaml({ layers: plan.cluster.layers }));
  if (plan.cluster.rootApp) files.set("cluster/root-app.yaml", toYaml(plan.cluster.rootApp));
  if (plan.cluster.gitops) for (const [rel, content] of renderGitops(plan.cluster.gitops)) files.set(rel, content);
  for (const [rel, content] of renderKubeadm(plan.cluster.kubeadm)) files.set(rel, content);
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** The file that marks a folder as one render made, and so may replace. */
export const RENDER_MARKER = ".ironroot-render";

/** `--out` names a folder render must not touch. */
export class RenderOutError extends Error {}

/**
 * Replace the output folder with exactly these files (stale files would
 * mislead a diff). Only a folder render made itself (it holds RENDER_MARKER),
 * an empty folder or a new one is written: anything else is refused, so a
 * mistyped `--out .` cannot delete a repository.
 */
export function writeRendered(outDir: string, files: RenderedFiles): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new RenderOutError(`--out ${outDir}: is a file, not a folder: name a new folder, e.g. out/<stack>`);
    const entries = readdirSync(outDir);
    if (entries.length > 0 && !entries.includes(RENDER_MARKER)) {
      throw new RenderOutError(
        `--out ${outDir}: the folder is not empty and was not made by render (no ${RENDER_MARKER} in it), so render will not replace it: name a new folder, e.g. out/<stack>`,
      );
    }
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, RENDER_MARKER), "Made by `npm run render`: the next render replaces this folder whole.\n");
  for (const [rel, content] of files) {
    const path = join(outDir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { mode: rel.endsWith(".sh") ? 0o755 : 0o644 });
  }
}
