import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../components/config/errors";
import { parseStack } from "../../components/config/schema";
import {
  etcdSnapshotPlan,
  etcdSnapshotSteps,
  kubeadmSnapshotOptions,
  restoreCommand,
  snapshotScript,
  snapshotService,
  snapshotTimer,
} from "../../components/plan/etcdSnapshot";
import { stepScript } from "../../components/plan/step";
import { assertGolden } from "../support/golden";
import { shellcheckAll } from "../support/shellcheck";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE";
const WORKER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0YoMFknvSwp1YhOYTWEMp2u4d629TZXVhlQsjRCXSW";

function raw(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ssh: { privateKeyPath: "/home/op/.ssh/id_ed25519" },
    hosts: [{ name: "cp-1", address: "10.0.0.11", hostKey: KEY, roles: ["control-plane"] }],
    gitops: { repoUrl: "https://git.example.net/org/cluster.git" },
    ...extra,
  };
}

function problems(r: Record<string, unknown>): string[] {
  try {
    parseStack("t", r);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  assert.fail("config was accepted");
}

test("etcdSnapshots defaults: hourly, 24 kept, in /var/backups/etcd", () => {
  assert.deepEqual(parseStack("t", raw()).etcdSnapshots, {
    enabled: true,
    schedule: "hourly",
    dir: "/var/backups/etcd",
    retention: 24,
  });
});

test("etcdSnapshots: bad values are named with their path and fix", () => {
  const table: [Record<string, unknown>, string][] = [
    [{ schedule: "hourly\nExecStart=/bin/sh" }, `etcdSnapshots.schedule: "hourly\\nExecStart=/bin/sh" is not a systemd calendar expression: use e.g. "hourly", "daily" or "*-*-* 00/6:00:00" (check it with \`systemd-analyze calendar '<expr>'\`)`],
    [{ schedule: "daily; rm -rf /" }, `etcdSnapshots.schedule: "daily; rm -rf /" is not a systemd calendar expression: use e.g. "hourly", "daily" or "*-*-* 00/6:00:00" (check it with \`systemd-analyze calendar '<expr>'\`)`],
    [{ dir: "backups" }, `etcdSnapshots.dir: "backups" is not an absolute path: start it with "/"`],
    [{ retention: 0 }, "etcdSnapshots.retention: 0 is too small: use at least 1"],
    [{ dir: "/var/lib/etcd/snapshots" }, `etcdSnapshots.dir: "/var/lib/etcd/snapshots" overlaps hosts[0].etcdDataDir "/var/lib/etcd" (cp-1): keep snapshots outside etcd's data dir, e.g. the default /var/backups/etcd`],
    [{ dir: "/var/lib" }, `etcdSnapshots.dir: "/var/lib" overlaps hosts[0].etcdDataDir "/var/lib/etcd" (cp-1): keep snapshots outside etcd's data dir, e.g. the default /var/backups/etcd`],
  ];
  for (const [section, message] of table) {
    assert.deepEqual(problems(raw({ etcdSnapshots: section })), [message], JSON.stringify(section));
  }
  // A sibling folder whose name merely starts the same is not an overlap.
  assert.equal(parseStack("t", raw({ etcdSnapshots: { dir: "/var/lib/etcd-backups" } })).etcdSnapshots.dir, "/var/lib/etcd-backups");
});

const options = kubeadmSnapshotOptions({ enabled: true, schedule: "*-*-* 00/6:00:00", dir: "/srv/etcd backups", retention: 7 });

test("the snapshot uses kubeadm's etcd certificates and the local member", () => {
  const script = snapshotScript(options);
  assert.match(script, /--endpoints=https:\/\/127\.0\.0\.1:2379 /);
  assert.match(script, /--cacert=\/etc\/kubernetes\/pki\/etcd\/ca\.crt --cert=\/etc\/kubernetes\/pki\/etcd\/server\.crt --key=\/etc\/kubernetes\/pki\/etcd\/server\.key/);
  assert.match(script, /^dir='\/srv\/etcd backups'$/m);
  assert.match(script, /^keep=7$/m);
  assert.match(snapshotTimer(options), /^OnCalendar=\*-\*-\* 00\/6:00:00$/m);
  assert.match(snapshotService(options), /^ExecStart=\/usr\/local\/sbin\/ironroot-etcd-snapshot$/m);
});

test("snapshot script, units and steps match their golden files", () => {
  assertGolden("etcd-snapshot/ironroot-etcd-snapshot", snapshotScript(options));
  assertGolden("etcd-snapshot/ironroot-etcd-snapshot.service", snapshotService(options));
  assertGolden("etcd-snapshot/ironroot-etcd-snapshot.timer", snapshotTimer(options));
  for (const step of [...etcdSnapshotSteps(options), ...etcdSnapshotSteps(options, false)]) {
    assertGolden(`etcd-snapshot/steps/${step.id.replace(/\//g, "-")}.sh`, stepScript(step));
  }
  assertGolden("etcd-snapshot/restore.sh", restoreCommand({
    snapshot: "/var/backups/etcd/etcd-snapshot-20260101T000000.000000000Z.db",
    dataDir: "/var/lib/etcd-restored",
    name: "cp-1",
    peerUrl: "https://10.0.0.11:2380",
    initialCluster: "cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380",
  }));
});

test("the steps write exactly the files whose hashes the probe checks", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-etcd-steps-"));
  try {
    // Run the file-writing part of the apply with every path moved into a
    // temp dir, then the hash part of the probe against it.
    const local = { ...options, scriptPath: `${dir}/script`, unit: "x" };
    const [, timerStep] = etcdSnapshotSteps(local);
    const rebase = (s: string) => s.replaceAll("/etc/systemd/system/", `${dir}/`);
    const write = rebase(timerStep.apply).split("\n").filter((l) => !l.startsWith("systemctl")).join("\n");
    const hashes = rebase(timerStep.probe).split(" &&\n").filter((l) => !l.startsWith("systemctl")).join(" && ");
    const probeBefore = spawnSync("bash", ["-c", hashes]);
    assert.notEqual(probeBefore.status, 0, "the probe passed before the files were written");
    const applied = spawnSync("bash", ["-euo", "pipefail", "-c", write], { encoding: "utf8" });
    assert.equal(applied.status, 0, applied.stderr);
    const probeAfter = spawnSync("bash", ["-c", hashes], { encoding: "utf8" });
    assert.equal(probeAfter.status, 0, `probe failed after apply: ${probeAfter.stderr}`);
    writeFileSync(`${dir}/x.timer`, "[Timer]\nOnCalendar=daily\n");
    assert.notEqual(spawnSync("bash", ["-c", hashes]).status, 0, "the probe missed a hand-edited timer");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("generated scripts pass shellcheck", (t) => {
  if (spawnSync("shellcheck", ["--version"]).status !== 0) {
    t.skip("shellcheck is not installed (apt-get install shellcheck)");
    return;
  }
  const scripts = [
    snapshotScript(options),
    ...[...etcdSnapshotSteps(options), ...etcdSnapshotSteps(options, false)].map(stepScript),
    `#!/usr/bin/env bash\n${restoreCommand({ snapshot: "/a b", dataDir: "/d", name: "n", peerUrl: "http://127.0.0.1:2380", initialCluster: "n=http://127.0.0.1:2380" })}\n`,
  ];
  assert.deepEqual(shellcheckAll(scripts.map((s, i) => [`script ${i + 1}:\n${s}`, s])), []);
});

test("the default schedule is a calendar expression systemd accepts", (t) => {
  if (spawnSync("systemd-analyze", ["--version"]).status !== 0) {
    t.skip("systemd-analyze is not installed (part of systemd)");
    return;
  }
  for (const expr of ["hourly", "*-*-* 00/6:00:00", parseStack("t", raw()).etcdSnapshots.schedule]) {
    const r = spawnSync("systemd-analyze", ["calendar", expr], { encoding: "utf8" });
    assert.equal(r.status, 0, `${expr}: ${r.stderr}`);
  }
});

test("control planes get the snapshot timer, workers nothing, and disabling removes it", () => {
  const spec = parseStack("t", raw({
    hosts: [
      { name: "cp-1", address: "10.0.0.11", hostKey: KEY, roles: ["control-plane"] },
      { name: "w-1", address: "10.0.0.21", hostKey: WORKER_KEY },
    ],
  }));
  assert.deepEqual(etcdSnapshotPlan(spec, { isControlPlane: true }).map((s) => s.id), ["etcd-snapshot/etcdctl", "etcd-snapshot/timer"]);
  assert.deepEqual(etcdSnapshotPlan(spec, { isControlPlane: false }), []);
  const off = parseStack("t", raw({ etcdSnapshots: { enabled: false } }));
  assert.deepEqual(etcdSnapshotPlan(off, { isControlPlane: true }).map((s) => s.id), ["etcd-snapshot/absent"]);
  // The defaults reach the script.
  assert.match(etcdSnapshotPlan(spec, { isControlPlane: true })[1].apply, /'keep=24' \\\n {2}'mkdir -p "\$dir"'/);
});
