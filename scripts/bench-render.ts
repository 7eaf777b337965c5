// Prints how long config validation, planning and rendering take for a
// 100-node stack (goal: under 2 s). A benchmark, not a test: it prints figures.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import YAML from "yaml";
import { loadStackFile } from "../components/config/load";
import { buildPlan } from "../components/plan";
import { renderPlan, writeRendered } from "../components/render/render";

const NODES = Number(process.argv[2] ?? 100);
/** A well-formed ssh-ed25519 host key of its own for host i (not a real key: nothing is contacted). */
function hostKeyFor(i: number): string {
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const point = createHash("sha256").update(`host-${i}`).digest();
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(point)]).toString("base64")}`;
}

const dir = mkdtempSync(join(tmpdir(), "ironroot-bench-render-"));
// Addresses from the benchmarking range 198.18.0.0/15; nothing is contacted.
const hosts = Array.from({ length: NODES }, (_, i) => ({
  name: `node-${i + 1}`,
  address: `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  hostKey: hostKeyFor(i),
  roles: i < 5 ? ["control-plane"] : ["worker"],
}));
writeFileSync(
  join(dir, "Pulumi.bench.yaml"),
  YAML.stringify({
    config: {
      "ironroot:ssh": { privateKeyPath: "/dev/null" },
      "ironroot:hosts": hosts,
      "ironroot:gitops": { repoUrl: "https://git.example.net/org/cluster.git" },
    },
  }),
);

const runs: number[] = [];
let files = 0;
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const rendered = renderPlan(buildPlan(loadStackFile(dir, "bench")));
  writeRendered(join(dir, "out"), rendered);
  runs.push(performance.now() - t0);
  files = rendered.size;
}
rmSync(dir, { recursive: true, force: true });
const sorted = [...runs].sort((a, b) => a - b);
console.log(`render of a ${NODES}-node stack (${files} files), 5 runs in one process:`);
console.log(`  first run (cold): ${runs[0].toFixed(0)} ms`);
console.log(`  median:           ${sorted[2].toFixed(0)} ms`);
console.log(`  goal:             < 2000 ms`);
