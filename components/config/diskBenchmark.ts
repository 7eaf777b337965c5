import { z } from "zod";
import { atMost } from "./fields";

// etcd's heartbeat interval is 100 ms: a disk slower than that at p99 misses
// heartbeats, so a threshold above it no longer protects anything.
const GATE_MAX_MS = 100;
const gateWhy = "etcd's heartbeat interval is 100 ms, so a higher threshold turns the gate off; to accept one slow disk on purpose, name its host in diskBenchmark.allowSlowDisk";

export const diskBenchmark = z
  .strictObject({
    warnP99Ms: z.number().positive().max(GATE_MAX_MS, atMost(GATE_MAX_MS, gateWhy)).default(10)
      .describe("fdatasync p99 (ms) above which a disk is reported slow. etcd's guidance is p99 < 10 ms. Default: 10."),
    failP99Ms: z.number().positive().max(GATE_MAX_MS, atMost(GATE_MAX_MS, gateWhy)).default(20)
      .describe("fdatasync p99 (ms) above which a control plane is refused (about 50 sequential IOPS, etcd's stated floor). Default: 20."),
    runs: z.number().int().min(1).max(10).default(3)
      .describe("Measured runs after one warm-up run; the gate uses the median p99. Default: 3."),
    allowSlowDisk: z.array(z.string()).default([])
      .describe("Host names whose control-plane disk may fail the gate (recorded as an override). Default: none."),
    minFreeMb: z.number().int().min(0).max(1_048_576, atMost(1_048_576, "that is 1 TiB (the value is in MiB): a larger one refuses every host")).default(1024)
      .describe("Free space (MiB) that must remain on the etcd data dir's filesystem beside the benchmark's own files; the benchmark refuses to start otherwise. Default: 1024."),
    randomIops: z.boolean().default(true)
      .describe("Also measure random 4k read/write IOPS (what Argo CD's repo server and Redis feel); reported, never gating. Default: true."),
    randomRuntimeSeconds: z.number().int().min(1).max(120).default(5)
      .describe("How long the random 4k profile runs, after a 1 s ramp-up. Default: 5."),
    trigger: z.string().default("")
      .describe("Change this value to re-run every benchmark on the next `pulumi up`. Default: empty."),
  })
  .prefault({})
  .describe("The etcd disk benchmark (fio, fdatasync latency) and its gate.");

export type DiskBenchmarkConfig = z.output<typeof diskBenchmark>;
