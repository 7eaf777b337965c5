// npm run render -- --stack <name> [--out dir]
// Writes the plan of a stack to files, with no hosts and no Pulumi CLI.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../components/config/errors";
import { loadStackFile } from "../components/config/load";
import { buildPlan } from "../components/plan";
import { KubeletPlanError } from "../components/plan/kubelet";
import { FactsError, readNodeSizes } from "../components/render/kubelet";
import { renderPlan, RenderOutError, writeRendered } from "../components/render/render";
import { BundleError, readLocalBundle } from "../components/ssh/offlineBundle";

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
    const spec = loadStackFile(stacksDir, values.stack);
    // Host sizes for the kubelet reservations; without them sized nodes are explained, not invented.
    const nodeSizes = values.facts ? readNodeSizes(resolve(values.facts), spec.hosts.map((h) => h.name)) : undefined;
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

void main().then((code) => {
  process.exitCode = code;
});
