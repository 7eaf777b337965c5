import assert from "node:assert/strict";
import { shellQuote } from "../../components/plan/shell";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { loadStackFile, rawConfigFromStackFile, stackFilePath } from "../../components/config/load";
import { parseStack } from "../../components/config/schema";
import { buildPlan } from "../../components/plan";
import {
  diskBenchmarkScript,
  etcdFioArgs,
  randomFioArgs,
  splitBenchmarkOutput,
  type DiskBenchmarkPlan,
} from "../../components/plan/diskBenchmark/script";
import { gate, judge, median, summarize, type GateInput } from "../../components/plan/diskBenchmark/gate";
import { FioParseError, parseEtcdRun, parseRandomRun, type EtcdRun } from "../../components/plan/diskBenchmark/fio";
import { renderPlan } from "../../components/render/render";
import { assertGolden } from "../support/golden";
import { shellcheckAll, shellcheckMissing } from "../support/shellcheck";

const STACKS = resolve(__dirname, "../../stacks");
const FIXTURES = resolve(__dirname, "../fixtures/fio");
const fixture = (name: string) => readFileSync(resolve(FIXTURES, name), "utf8");

// The fixtures are fio 3.33's own output on this project's development
// machine: etcd-profile.json and random-profile.json from single runs,
// benchmark-stdout.txt from the whole benchmark script (warm-up, 3 runs,
// random profile). The expected numbers below are read off those files.

describe("fio JSON parser", () => {
  test("etcd profile: fdatasync percentiles (ns -> ms), count, write IOPS, runtime", () => {
    assert.deepEqual(parseEtcdRun(fixture("etcd-profile.json")), {
      fsyncMs: { p50: 0.164864, p90: 0.288768, p99: 3.981312, p999: 21.62688 },
      fsyncCount: 10029,
      writeIops: 1969.173375,
      runtimeMs: 5092,
    });
  });

  test("random 4k profile: read and write IOPS, runtime, O_DIRECT", () => {
    assert.deepEqual(parseRandomRun(fixture("random-profile.json")), {
      readIops: 32660.667866,
      writeIops: 32605.678864,
      runtimeMs: 5000,
      direct: true,
    });
  });

  test("the random profile has no fdatasync latencies, so it is refused as an etcd run", () => {
    assert.throws(() => parseEtcdRun(fixture("random-profile.json")), {
      message: "fio output: jobs[0].sync.lat_ns.percentile is missing: was fio run with --fdatasync=1?",
    });
  });

  const bad: [string, string, string][] = [
    ["not JSON", "fio: engine libaio not loadable", 'fio output: not JSON'],
    ["no jobs", '{"jobs": []}', "fio output: no `jobs` in the JSON"],
    ["job error", '{"jobs": [{"jobname": "mytest", "error": 28}]}', "fio output: job mytest reports error 28"],
    [
      "missing percentile",
      '{"jobs": [{"sync": {"lat_ns": {"N": 1, "percentile": {"50.000000": 1}}}}]}',
      'fio output: jobs[0].sync.lat_ns.percentile["90.000000"] is missing or not a number',
    ],
  ];
  for (const [name, text, message] of bad) {
    test(`bad output: ${name}`, () => {
      assert.throws(() => parseEtcdRun(text), (e: Error) => e instanceof FioParseError && e.message.startsWith(message));
    });
  }
});

describe("the script's framed output", () => {
  test("splits into the disk line and one document per run, with fio's wall time", () => {
    const out = splitBenchmarkOutput(fixture("benchmark-stdout.txt"));
    assert.deepEqual([out.device, out.fstype, out.mount], ["/dev/vda", "ext4", "/"]);
    assert.deepEqual(
      out.outputs.map((o) => [o.profile, o.label, o.wallMs]),
      [["etcd", "warmup", 5086], ["etcd", "1", 5457], ["etcd", "2", 2149], ["etcd", "3", 2313], ["random", "1", 3476]],
    );
  });

  test("output cut short (no end marker) is an error, not a partial result", () => {
    const text = fixture("benchmark-stdout.txt");
    const cut = text.slice(0, text.lastIndexOf("=== ironroot-fio random 1 end"));
    assert.throws(() => splitBenchmarkOutput(cut), { message: "benchmark output: run random 1 has no end marker (output cut short?)" });
  });

  test("judge: median p99 of the measured runs, not the warm-up; the spread shows the noisy run", () => {
    const r = judge(plan({ runs: 3 }), fixture("benchmark-stdout.txt"));
    // Measured p99s are 4.227072, 0.354304 and 0.329728 ms: one run hit a
    // busy moment, and the median keeps it from raising a false alarm.
    assert.deepEqual(r.medianMs, { p50: 0.164864, p90: 0.242688, p99: 0.354304, p999: 3.620864 });
    assert.deepEqual(r.p99SpreadMs, { min: 0.329728, max: 4.227072 });
    assert.equal(r.warmup.fsyncMs.p99, 4.145152);
    assert.equal(r.writeIops, 4930.678466);
    assert.deepEqual(r.random, { readIops: 27714.707329, writeIops: 27555.33694, runtimeMs: 2032, direct: true });
    assert.equal(r.fioRuntimeMs, 4766 + 5154 + 1850 + 2033 + 2032);
    assert.equal(r.fioWallMs, 5086 + 5457 + 2149 + 2313 + 3476);
    assert.deepEqual([r.verdict, r.message, r.device], ["pass", "", "/dev/vda"]);
  });

  test("judge refuses output with fewer measured runs than planned", () => {
    assert.throws(() => judge(plan({ runs: 5 }), fixture("benchmark-stdout.txt")), {
      message: "expected a warm-up and 5 measured etcd-profile runs, got a warm-up and 3",
    });
  });
});

describe("median and summary", () => {
  const cases: [number[], number][] = [[[3], 3], [[5, 1, 3], 3], [[4, 1, 3, 2], 2.5], [[1, 1, 9], 1]];
  for (const [values, want] of cases) {
    test(`median(${values.join(", ")}) = ${want}`, () => assert.equal(median(values), want));
  }
  test("no runs is an error", () => {
    assert.throws(() => summarize([]), { message: "disk benchmark: no measured runs to summarize" });
  });
});

const run = (p99: number): EtcdRun => ({ fsyncMs: { p50: 0.1, p90: 0.2, p99, p999: p99 * 2 }, fsyncCount: 1, writeIops: 100, runtimeMs: 1 });

describe("the gate", () => {
  const base: GateInput = {
    node: "cp-1", configPath: "hosts[0]", isControlPlane: true, etcdDataDir: "/var/lib/etcd",
    warnP99Ms: 10, failP99Ms: 20, allowSlowDisk: false, runs: 3,
  };
  const table: [string, Partial<GateInput>, number[], string][] = [
    ["control plane, fast disk", {}, [1.2, 1.5, 1.3], "pass"],
    ["control plane, exactly at warn", {}, [10, 10, 10], "pass"],
    ["control plane, over warn", {}, [12, 11, 13], "warn"],
    ["control plane, exactly at fail", {}, [20, 20, 20], "warn"],
    ["control plane, over fail", {}, [25, 24, 30], "fail"],
    ["control plane, one slow run among fast ones", {}, [1, 80, 1.1], "pass"],
    ["control plane, over fail, in allowSlowDisk", { allowSlowDisk: true }, [25, 24, 30], "override"],
    ["control plane, over warn, in allowSlowDisk", { allowSlowDisk: true }, [12, 11, 13], "warn"],
    ["worker, fast disk", { isControlPlane: false }, [1, 1, 1], "pass"],
    ["worker, over warn", { isControlPlane: false }, [15, 15, 15], "warn"],
    ["worker, over fail: warns only", { isControlPlane: false }, [25, 24, 30], "warn"],
  ];
  for (const [name, over, p99s, verdict] of table) {
    test(`${name} -> ${verdict}`, () => {
      assert.equal(gate({ ...base, ...over }, summarize(p99s.map(run))).verdict, verdict);
    });
  }

  test("the refusal gives the value, the threshold, the disk and the three ways out", () => {
    const g = gate({ ...base, configPath: "hosts[2]", node: "cp-3" }, summarize([25, 24.5, 30].map(run)), { device: "/dev/vdb1" });
    assert.equal(
      g.message,
      "disk too slow for etcd: fdatasync p99 is 25 ms (median of 3 runs after a warm-up, spread 24.5 ms to 30 ms) " +
        "on /dev/vdb1, the filesystem of /var/lib/etcd, above diskBenchmark.failP99Ms 20 ms " +
        "(etcd needs WAL fsync p99 under 10 ms; this node is a control plane, so Kubernetes is not installed). " +
        "Fix one of: put etcd on a faster disk (mount it and set hosts[2].etcdDataDir to a directory on it); " +
        'use another host for this control plane; or accept the risk by adding "cp-3" to diskBenchmark.allowSlowDisk',
    );
  });

  test("override and worker messages say why they did not stop the deployment", () => {
    const slow = summarize([25, 25, 25].map(run));
    assert.match(gate({ ...base, allowSlowDisk: true }, slow).message, /accepted because diskBenchmark\.allowSlowDisk lists "cp-1"/);
    assert.match(gate({ ...base, isControlPlane: false }, slow).message, /^slow disk \(a worker: it holds no etcd data, so this is a warning only\): fdatasync p99 is 25 ms/);
  });
});

function plan(over: Partial<DiskBenchmarkPlan> = {}): DiskBenchmarkPlan {
  const p = {
    node: "cp-1", configPath: "hosts[0]", isControlPlane: true, etcdDataDir: "/var/lib/etcd", warnP99Ms: 10, failP99Ms: 20,
    runs: 3, allowSlowDisk: false, minFreeMb: 1024, randomIops: true, randomRuntimeSeconds: 5, trigger: "", ...over,
  };
  return { ...p, script: diskBenchmarkScript(p) };
}

describe("the fio commands", () => {
  test("etcd profile is the reference command (seeds, etcd maintainers) unchanged", () => {
    assert.equal(
      ["fio", ...etcdFioArgs("/var/lib/etcd/x")].join(" "),
      "fio --rw=write --ioengine=sync --fdatasync=1 --directory=/var/lib/etcd/x --size=22m --bs=2300 --name=mytest",
    );
  });
  test("random profile is time-bounded with a ramp that is not counted", () => {
    assert.deepEqual(randomFioArgs("/d", 5, 1), [
      "--name=randrw", "--rw=randrw", "--rwmixread=50", "--bs=4k", "--size=64m", "--ioengine=libaio", "--iodepth=16",
      "--direct=1", "--runtime=5", "--time_based", "--ramp_time=1", "--directory=/d",
    ]);
  });
});

describe("the benchmark script", () => {
  test("matches its golden file", () => {
    assertGolden("disk-benchmark/cp-1.sh", plan().script);
  });

  test("passes shellcheck, with and without the random profile", { skip: shellcheckMissing() }, () => {
    const variants = [plan(), plan({ randomIops: false, etcdDataDir: "/srv/etcd's data", runs: 1 })];
    assert.deepEqual(shellcheckAll(variants.map((p, i) => [`variant ${i + 1}`, p.script])), []);
  });

  test("a data dir with a quote in it stays one word", () => {
    assert.equal(shellQuote("/srv/etcd's data"), `'/srv/etcd'\\''s data'`);
    assert.match(plan({ etcdDataDir: "/srv/etcd's data" }).script, /^data_dir='\/srv\/etcd'\\''s data'$/m);
  });

  test("free space is checked before anything is created, and the traps are set before the temp dir", () => {
    const s = plan().script;
    const order = ["df -Pk", "exit 4", "trap cleanup EXIT", "trap 'on_signal 143' TERM", "mkdir -p", "mktemp -d", "fio --output-format=json"];
    const at = order.map((needle) => s.indexOf(needle));
    assert.ok(at.every((i) => i >= 0), `missing: ${order.filter((_, i) => at[i] < 0).join(", ")}`);
    assert.deepEqual([...at].sort((a, b) => a - b), at);
  });

  test("files needed: 22 MiB for the etcd profile plus 64 MiB for the random one", () => {
    assert.match(plan().script, /^files_mb=86$/m);
    assert.match(plan({ randomIops: false }).script, /^files_mb=22$/m);
  });
});

describe("in the plan and in render", () => {
  const spec = loadStackFile(STACKS, "example");

  test("every node gets a benchmark with its role, config path and the stack's thresholds", () => {
    const nodes = buildPlan(spec).nodes;
    assert.deepEqual(
      nodes.map((n) => [n.name, n.diskBenchmark.configPath, n.diskBenchmark.isControlPlane, n.diskBenchmark.failP99Ms]),
      [["cp-1", "hosts[0]", true, 20], ["cp-2", "hosts[1]", true, 20], ["cp-3", "hosts[2]", true, 20], ["worker-1", "hosts[3]", false, 20], ["worker-2", "hosts[4]", false, 20]],
    );
  });

  test("allowSlowDisk and trigger reach the node's plan", () => {
    const raw = { ...rawConfigFromStackFile(stackFilePath(STACKS, "example"), "example"), diskBenchmark: { allowSlowDisk: ["cp-2"], trigger: "disk swapped 2026-01" } };
    const nodes = buildPlan(parseStack("example", raw)).nodes;
    assert.deepEqual(nodes.map((n) => n.diskBenchmark.allowSlowDisk), [false, true, false, false, false]);
    assert.ok(nodes.every((n) => n.diskBenchmark.trigger === "disk swapped 2026-01"));
  });

  test("render writes the script and the settings per node, and keeps them out of node.yaml", () => {
    const files = renderPlan(buildPlan(spec));
    assert.equal(files.get("nodes/cp-1/disk-benchmark.sh"), buildPlan(spec).nodes[0].diskBenchmark.script);
    assert.match(files.get("nodes/cp-1/disk-benchmark.yaml")!, /^failP99Ms: 20$/m);
    assert.doesNotMatch(files.get("nodes/cp-1/disk-benchmark.yaml")!, /script/);
    assert.doesNotMatch(files.get("nodes/cp-1/node.yaml")!, /diskBenchmark|fio/);
  });
});
