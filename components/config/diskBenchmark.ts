import { z } from "zod";

export const diskBenchmark = z
  .strictObject({
    warnP99Ms: z.number().positive().default(10)
      .describe("fdatasync p99 (ms) above which a disk is reported slow. etcd's guidance is p99 < 10 ms. Default: 10."),
    failP99Ms: z.number().positive().default(20)
      .describe("fdatasync p99 (ms) above which a control plane is refused (about 50 sequential IOPS, etcd's stated floor). Default: 20."),
    runs: z.number().int().min(1).max(10).default(3)
      .describe("Measured runs after one warm-up run; the gate uses the median p99. Default: 3."),
    allowSlowDisk: z.array(z.string()).default([])
      .describe("Host names whose control-plane disk may fail the gate (recorded as an override). Default: none."),
    minFreeMb: z.number().int().min(0).default(1024)
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
