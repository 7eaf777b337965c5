// The disk benchmark on real lab hosts: real fio, real fdatasync, real signals.
// Each test measures a data dir of its own under /var/tmp, so nothing of
// another test (or of etcd) is ever touched, and checks it is gone afterwards.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildPlan } from "../../components/plan";
import { diskBenchmarkScript, type DiskBenchmarkPlan } from "../../components/plan/diskBenchmark/script";
import { closeAll } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import { enforceDiskGate, runDiskBenchmark } from "../../components/host/diskBenchmark";
import { HostError, type HostSession } from "../../components/ssh/types";
import { diskBenchmarkProvider } from "../../components/pulumi/DiskBenchmarkProvider";
import { lab, labCredentials } from "../support/lab";

const { spec, skip } = lab();
const ROOT = "/var/tmp/ironroot-disk-benchmark-test";

function setup(): { hosts: { s: HostSession; plan: DiskBenchmarkPlan }[] } {
  const plan = buildPlan(spec!);
  return {
    hosts: plan.nodes.map((n) => ({ s: session(targetFor(spec!, n.name)), plan: n.diskBenchmark })),
  };
}

/** The node's plan with other settings; the script is rebuilt from them, as the plan does. */
function variant(p: DiskBenchmarkPlan, over: Partial<DiskBenchmarkPlan>): DiskBenchmarkPlan {
  const q = { ...p, ...over };
  return { ...q, script: diskBenchmarkScript(q) };
}

async function exists(s: HostSession, path: string): Promise<boolean> {
  return (await s.run(`test -e '${path}'`)).code === 0;
}

describe("disk benchmark on lab hosts", { skip }, () => {
  // A host stopped hard mid-run (SIGKILL, lab restart) cannot clean up after
  // itself; start from a clean slate so the "nothing left" checks mean this run.
  before(async () => {
    await Promise.all(setup().hosts.map(({ s }) => s.check("clearing earlier test data", `rm -rf -- '${ROOT}'`)));
  });
  after(() => closeAll());

  test("all hosts in parallel: plausible numbers, progress reported, no files left", async () => {
    const { hosts } = setup();
    const results = await Promise.all(
      hosts.map(async ({ s, plan }) => {
        const dir = `${ROOT}/parallel-${plan.node}/etcd`;
        const progress: string[] = [];
        const r = await runDiskBenchmark(s, variant(plan, { etcdDataDir: dir, randomRuntimeSeconds: 1, minFreeMb: 64 }), {
          onProgress: (l) => progress.push(l),
        });
        return { s, plan, r, progress, dir };
      }),
    );
    for (const { s, plan, r, progress } of results) {
      assert.equal(r.node, plan.node);
      assert.equal(r.runs.length, plan.runs);
      assert.ok(r.medianMs.p99 > 0 && r.medianMs.p50 > 0, `${plan.node}: p99 ${r.medianMs.p99}`);
      assert.ok(r.medianMs.p50 <= r.medianMs.p99 && r.medianMs.p99 <= r.medianMs.p999);
      assert.ok(r.p99SpreadMs.min <= r.medianMs.p99 && r.medianMs.p99 <= r.p99SpreadMs.max);
      assert.ok(r.writeIops > 0, `${plan.node}: write IOPS ${r.writeIops}`);
      assert.ok(r.random && r.random.readIops > 0 && r.random.writeIops > 0, `${plan.node}: random ${JSON.stringify(r.random)}`);
      // 22 MiB in whole 2300-byte writes, each followed by fdatasync.
      assert.equal(r.runs[0].fsyncCount, Math.floor((22 * 1024 * 1024) / 2300));
      assert.ok(["pass", "warn", "override", "fail"].includes(r.verdict));
      assert.ok(r.device !== "" && r.mount.startsWith("/"), `${plan.node}: disk ${r.device} at ${r.mount}`);
      assert.deepEqual(
        progress.filter((l) => l.startsWith("etcd profile")),
        ["etcd profile: warm-up run (not counted)", ...Array.from({ length: plan.runs }, (_, i) => `etcd profile: run ${i + 1} of ${plan.runs}`)],
      );
      // The data dir did not exist, so the benchmark made it and removed it again.
      assert.equal(await exists(s, ROOT), false, `${plan.node}: ${ROOT} is left behind`);
    }
  });

  test("a fail threshold below the measured value stops with the value, threshold, disk and the ways out", async () => {
    const { s, plan } = setup().hosts[0];
    const dir = `${ROOT}/gate/etcd`;
    const r = await runDiskBenchmark(s, variant(plan, { etcdDataDir: dir, runs: 1, randomIops: false, warnP99Ms: 0.0005, failP99Ms: 0.001, minFreeMb: 64 }));
    assert.equal(r.verdict, "fail");
    assert.throws(
      () => enforceDiskGate(s, r),
      (e: Error) => {
        assert.ok(e instanceof HostError);
        const t = s.target;
        assert.ok(e.message.startsWith(`${t.name} (${t.address}:${t.port}): disk benchmark gate: disk too slow for etcd: fdatasync p99 is `), e.message);
        assert.match(e.message, /above diskBenchmark\.failP99Ms 0\.001 ms/);
        assert.ok(e.message.includes(`the filesystem of ${dir}`), e.message);
        assert.ok(e.message.includes(`set ${plan.configPath}.etcdDataDir`), e.message);
        assert.ok(e.message.includes(`adding "${plan.node}" to diskBenchmark.allowSlowDisk`), e.message);
        return true;
      },
    );
    // The same numbers on a host listed in allowSlowDisk pass as an override.
    const allowed = await runDiskBenchmark(s, variant(plan, { etcdDataDir: dir, runs: 1, randomIops: false, warnP99Ms: 0.0005, failP99Ms: 0.001, minFreeMb: 64, allowSlowDisk: true }));
    assert.equal(allowed.verdict, "override");
    enforceDiskGate(s, allowed);
    assert.equal(await exists(s, ROOT), false);
  });

  test("the provider's create stores a secret-free result, and throws the gate's refusal (what stops the deployment)", async () => {
    const { s, plan } = setup().hosts[0];
    const { privateKey: _k, privateKeyPath: _p, agent: _a, ...connection } = s.target;
    const provider = diskBenchmarkProvider(labCredentials(spec!));
    const ok = variant(plan, { etcdDataDir: `${ROOT}/provider/etcd`, runs: 1, randomIops: false, minFreeMb: 64 });
    const created = await provider.create!({ connection, plan: ok });
    assert.equal(created.id, `${plan.node}-disk-benchmark`);
    assert.equal(created.outs!.settings.failP99Ms, ok.failP99Ms);
    assert.ok(created.outs!.result.medianMs.p99 > 0);
    assert.doesNotMatch(JSON.stringify(created.outs), /PRIVATE KEY|privateKey/);
    await assert.rejects(provider.create!({ connection, plan: { ...ok, warnP99Ms: 0.0005, failP99Ms: 0.001 } }), (e: Error) => {
      assert.match(e.message, new RegExp(`^${plan.node} \\([^)]+\\): disk benchmark gate: disk too slow for etcd: `));
      return true;
    });
    assert.equal(await exists(s, ROOT), false);
  });

  test("interrupted mid-run (the script gets SIGTERM): fio stops and no file is left behind", async () => {
    const { hosts } = setup();
    const { s, plan } = hosts[1];
    // An existing data dir, as on a host that already has one: it must survive, empty.
    const dir = `${ROOT}/interrupt/etcd`;
    await s.check("making the test data dir", `mkdir -p '${dir}'`);
    const killer = hosts[1].s;
    let killed: Promise<unknown> | undefined;
    let pid = "";
    let work = "";
    const run = runDiskBenchmark(s, variant(plan, { etcdDataDir: dir, runs: 3, minFreeMb: 64 }), {
      onProgress: (line) => {
        const m = /^started: pid (\d+), files in (\S+)$/.exec(line);
        if (m) [pid, work] = [m[1], m[2]];
        // Kill during the first measured run, while fio is writing.
        if (line === "etcd profile: run 1 of 3" && !killed) killed = killer.run(`sleep 0.3; kill -TERM ${pid}`);
      },
    });
    await assert.rejects(run, (e: Error) => {
      assert.ok(e instanceof HostError, e.message);
      assert.match(e.message, /exit status 143/);
      return true;
    });
    await killed;
    assert.notEqual(work, "");
    assert.equal(await exists(s, work), false, `${work} is left behind`);
    assert.equal((await s.check("listing the data dir", `ls -A '${dir}'`)).trim(), "", "the data dir is not empty");
    assert.equal((await s.run(`pgrep -f -- '[-]-directory=${work}'`)).code, 1, "a fio process of the benchmark is still running");
    await s.check("removing the test data dir", `rm -rf -- '${ROOT}'`);
  });

  test("files of an earlier run cut off before its clean-up are removed and said; a run still going keeps its files", async () => {
    const { s, plan } = setup().hosts[0];
    const dir = `${ROOT}/stale/etcd`;
    const [dead, live] = [`${dir}/.ironroot-disk-benchmark.dead01`, `${dir}/.ironroot-disk-benchmark.live01`];
    await s.check("making an earlier run's files", [
      `mkdir -p '${dead}' '${live}'`,
      // A pid that has ended, and one that still runs.
      `sh -c 'echo $$' >'${dead}/pid'`,
      `(setsid sleep 120 </dev/null >/dev/null 2>&1 & echo $! >'${live}/pid')`,
    ].join("\n"));
    try {
      const progress: string[] = [];
      await runDiskBenchmark(s, variant(plan, { etcdDataDir: dir, runs: 1, randomIops: false, minFreeMb: 64 }), { onProgress: (l) => progress.push(l) });
      assert.ok(progress.includes(`removed the files of an earlier run that was cut off: ${dead}`), progress.join("\n"));
      assert.equal(await exists(s, dead), false);
      assert.equal(await exists(s, live), true, "the files of a run that still goes were removed");
    } finally {
      await s.run(`kill "$(cat '${live}/pid')" 2>/dev/null; rm -rf -- '${ROOT}'`);
    }
  });

  test("not enough free space: refused before anything is written", async () => {
    const { s, plan } = setup().hosts[2];
    const dir = `${ROOT}/space/etcd`;
    await assert.rejects(
      runDiskBenchmark(s, variant(plan, { etcdDataDir: dir, minFreeMb: 1_000_000_000 })),
      (e: Error) => {
        assert.ok(e instanceof HostError);
        const t = s.target;
        assert.match(
          e.message,
          new RegExp(
            `^${t.name} \\(${t.address.replace(/\./g, "\\.")}:${t.port}\\): disk benchmark of ${dir}: not enough free space on the filesystem of ${dir}: \\d+ MiB free, ` +
              `the benchmark needs 86 MiB for its files plus diskBenchmark\\.minFreeMb 1000000000 MiB; nothing was written$`,
          ),
        );
        return true;
      },
    );
    assert.equal(await exists(s, ROOT), false, "the refused benchmark created directories");
  });
});
