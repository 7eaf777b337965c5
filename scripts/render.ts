// npm run render -- --stack <name> [--out dir]
// Writes the plan of a stack to files, with no hosts and no Pulumi CLI.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../components/config/errors";
import { loadStackFile, rawConfigFromStackFile, stackFilePath } from "../components/config/load";
import type { StackSpec } from "../components/config/schema";
import { buildPlan } from "../components/plan";
import { KubeletPlanError } from "../components/plan/kubelet";
import { FactsError, readNodeSizes } from "../components/render/kubelet";
import { renderPlan, RenderOutError, writeRendered } from "../components/render/render";
import { BundleError, readLocalBundle } from "../components/host/offlineBundle";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { stack: { type: "string" }, out: { type: "string" }, "stacks-dir": { type: "string" }, facts: { type: "string" } },
  });
  if (!values.stack) {
    console.error("usage: npm run render -- --stack <name> [--out <dir>] [--facts <dir of <host>.json>]   (reads stacks/Pulumi.<name>.yaml)");
    return 2;
  }
  const root = resolve(__dirname, "..");
  const stacksDir = resolve(values["stacks-dir"] ?? resolve(root, "stacks"));
  const out = resolve(values.out ?? resolve(root, "out", values.stack));
  try {
    // Config and facts are checked together, so one run lists every problem
    // in both (a facts folder is judged against the hosts the file names,
    // even when the rest of the config is wrong).
    let spec: StackSpec | undefined;
    const problems: string[] = [];
    try {
      spec = loadStackFile(stacksDir, values.stack);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e.message);
    }
    // Host sizes for the kubelet reservations; without them sized nodes are explained, not invented.
    let nodeSizes: ReturnType<typeof readNodeSizes> | undefined;
    if (values.facts) {
      try {
        nodeSizes = readNodeSizes(resolve(values.facts), spec ? spec.hosts.map((h) => h.name) : rawHostNames(stacksDir, values.stack));
      } catch (e) {
        if (!(e instanceof FactsError)) throw e;
        problems.push(e.message);
      }
    }
    if (problems.length > 0 || !spec) {
      console.error(problems.join("\n\n"));
      return 1;
    }
    // Air-gapped mode: the install steps name the bundle's files, so render
    // reads (and checks) the same bundle.json `pulumi up` would upload.
    const bundle = spec.cluster.offlineBundleDir
      ? (await readLocalBundle(spec.cluster.offlineBundleDir, spec.cluster.kubernetesVersion)).manifest
      : undefined;
    const files = renderPlan(buildPlan(spec, { nodeSizes, ...(bundle ? { kubeadm: { bundle } } : {}) }));
    writeRendered(out, files);
    console.log(`rendered ${files.size} files for stack "${values.stack}" to ${out}`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof KubeletPlanError || e instanceof BundleError || e instanceof RenderOutError || e instanceof FactsError) {
      console.error(e.message);
      return 1;
    }
    console.error(`render: unexpected error, a bug in ironroot: please report it with the output below\n${(e as Error).stack ?? String(e)}`);
    return 70;
  }
}

/** Host names as written in the stack file, for checking facts when the config itself has problems. */
function rawHostNames(stacksDir: string, stack: string): string[] {
  try {
    const hosts = rawConfigFromStackFile(stackFilePath(stacksDir, stack), stack).hosts;
    return Array.isArray(hosts) ? hosts.map((h) => (h as { name?: unknown })?.name).filter((n): n is string => typeof n === "string") : [];
  } catch {
    return [];
  }
}

void main().then((code) => {
  process.exitCode = code;
});
