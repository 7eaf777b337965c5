// Reading fio's JSON output (`--output-format=json`, fio 3.x). Pure: text in,
// numbers out. Latencies leave here in milliseconds, the unit of the gate.

/** fdatasync latency percentiles of one run, in ms. */
export interface SyncLatency {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** One run of the etcd profile (sequential 2300-byte writes, fdatasync after each). */
export interface EtcdRun {
  /** fdatasync latency percentiles. */
  fsyncMs: SyncLatency;
  /** How many fdatasync calls the percentiles are over. */
  fsyncCount: number;
  writeIops: number;
  /** fio's own job runtime, ms. */
  runtimeMs: number;
}

/** One run of the random 4k read/write profile. */
export interface RandomRun {
  readIops: number;
  writeIops: number;
  runtimeMs: number;
  /** Whether the run bypassed the page cache (O_DIRECT); without it reads are cache hits. */
  direct: boolean;
}

interface FioJob {
  jobname?: string;
  error?: number;
  job_runtime?: number;
  "job options"?: Record<string, string>;
  read?: { iops?: number };
  write?: { iops?: number };
  sync?: { lat_ns?: { N?: number; percentile?: Record<string, number> } };
}

// fio writes percentile keys with six decimals ("99.900000"); the etcd
// profile's latencies are in `sync.lat_ns` because fdatasync is a separate
// operation from the write that precedes it.
const PERCENTILES: Record<keyof SyncLatency, string> = {
  p50: "50.000000",
  p90: "90.000000",
  p99: "99.000000",
  p999: "99.900000",
};

export class FioParseError extends Error {
  constructor(what: string) {
    super(`fio output: ${what}`);
    this.name = "FioParseError";
  }
}

function firstJob(text: string): FioJob {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // fio prints warnings before the JSON on some versions; say what came back.
    throw new FioParseError(`not JSON (${(e as Error).message}); it begins: ${JSON.stringify(text.slice(0, 120))}`);
  }
  const jobs = (doc as { jobs?: FioJob[] } | null)?.jobs;
  if (!Array.isArray(jobs) || jobs.length === 0) throw new FioParseError("no `jobs` in the JSON");
  const job = jobs[0];
  if (job.error) throw new FioParseError(`job ${job.jobname ?? "?"} reports error ${job.error}`);
  return job;
}

function num(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new FioParseError(`${path} is missing or not a number`);
  return v;
}

const nsToMs = (ns: number) => ns / 1e6;

export function parseEtcdRun(text: string): EtcdRun {
  const job = firstJob(text);
  const lat = job.sync?.lat_ns;
  const pct = lat?.percentile;
  if (!pct) throw new FioParseError("jobs[0].sync.lat_ns.percentile is missing: was fio run with --fdatasync=1?");
  const fsyncMs = Object.fromEntries(
    Object.entries(PERCENTILES).map(([k, key]) => [k, nsToMs(num(pct[key], `jobs[0].sync.lat_ns.percentile["${key}"]`))]),
  ) as unknown as SyncLatency;
  return {
    fsyncMs,
    fsyncCount: num(lat?.N, "jobs[0].sync.lat_ns.N"),
    writeIops: num(job.write?.iops, "jobs[0].write.iops"),
    runtimeMs: num(job.job_runtime, "jobs[0].job_runtime"),
  };
}

export function parseRandomRun(text: string): RandomRun {
  const job = firstJob(text);
  return {
    readIops: num(job.read?.iops, "jobs[0].read.iops"),
    writeIops: num(job.write?.iops, "jobs[0].write.iops"),
    runtimeMs: num(job.job_runtime, "jobs[0].job_runtime"),
    direct: job["job options"]?.direct === "1",
  };
}
