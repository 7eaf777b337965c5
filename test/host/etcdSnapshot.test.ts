// etcd snapshots and restore, for real, on one lab host (lab-3): Debian's
// etcd, a throwaway member on loopback ports in a temp dir, the snapshot
// script and systemd units exactly as the plan generates them (only the
// endpoint, paths and unit name differ from a kubeadm control plane), the
// restore command the runbook uses, and etcd started from the restored dir.
//
// Debian's etcd packages are unpacked into the temp dir (apt-get download +
// dpkg-deb -x) instead of installed: installing etcd-server would start an
// etcd on 2379/2380 and create /var/lib/etcd, which kubeadm's preflight on
// the same shared lab host refuses. Everything is removed afterwards.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { etcdSnapshotSteps, restoreCommand, SNAPSHOT_PREFIX, type SnapshotUnitOptions } from "../../components/plan/etcdSnapshot";
import type { HostStep } from "../../components/plan/step";
import { closeAll } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import type { HostSession } from "../../components/ssh/types";
import { lab } from "../support/lab";

const { spec, skip: noLab } = lab();
const HOST_INDEX = 2; // lab-3: the one host the etcd packages are fetched on
const W = "/var/tmp/ironroot-dr-etcd-test";
const ROOT = `${W}/root`;
const BIN = `${ROOT}/usr/bin`;
const UNIT = "ironroot-drtest-etcd-snapshot";
const ETCD_UNITS = ["ironroot-drtest-etcd", "ironroot-drtest-etcd-restored"];
const CLIENT = "http://127.0.0.1:23790";
const RESTORED_CLIENT = "http://127.0.0.1:23791";

const skip = noLab ?? (spec && spec.hosts.length <= HOST_INDEX ? `the lab has ${spec.hosts.length} hosts; this test runs on the third (lab-3): run \`sudo scripts/lab up 3\`` : undefined);

const options: SnapshotUnitOptions = {
  endpoint: CLIENT,
  dir: `${W}/snapshots`,
  retention: 2,
  etcdctl: `${BIN}/etcdctl`,
  // Far away, so the timer cannot fire by itself during the test.
  schedule: "*-12-31 23:59:00",
  unit: UNIT,
  scriptPath: `${W}/bin/${UNIT}`,
};

async function runStep(s: HostSession, step: HostStep): Promise<"unchanged" | "changed"> {
  if ((await s.run(step.probe)).code === 0) return "unchanged";
  await s.check(`applying ${step.id}`, step.apply);
  await s.check(`probing ${step.id} after applying it`, step.probe);
  return "changed";
}

const etcdctl = (endpoint: string, args: string) => `ETCDCTL_API=3 ${BIN}/etcdctl --endpoints=${endpoint} ${args}`;

/** A throwaway etcd as a transient systemd unit, so stopping it is one command. */
async function startEtcd(s: HostSession, unit: string, name: string, dataDir: string, client: string, peer: string): Promise<void> {
  await s.check(
    `starting throwaway etcd ${unit}`,
    `systemd-run --unit=${unit} --collect --quiet ${BIN}/etcd --name=${name} --data-dir=${dataDir} ` +
      `--listen-client-urls=${client} --advertise-client-urls=${client} ` +
      `--listen-peer-urls=${peer} --initial-advertise-peer-urls=${peer} --initial-cluster=${name}=${peer}`,
  );
  // Bounded: 60 tries, 0.5 s apart.
  await s.check(
    `waiting for ${unit} to be healthy`,
    `for _ in $(seq 1 60); do ${etcdctl(client, "endpoint health")} >/dev/null 2>&1 && exit 0; sleep 0.5; done; ` +
      `journalctl -u ${unit} --no-pager -n 20 >&2; exit 1`,
  );
}

async function snapshots(s: HostSession): Promise<string[]> {
  const out = await s.check("listing snapshots", `find ${options.dir} -maxdepth 1 -name '${SNAPSHOT_PREFIX}*' -printf '%f\\n' | sort`);
  return out.split("\n").filter((l) => l !== "");
}

async function cleanUp(s: HostSession): Promise<void> {
  const [absent] = etcdSnapshotSteps(options, false);
  await s.run(absent.apply);
  for (const u of ETCD_UNITS) await s.run(`systemctl stop ${u} 2>/dev/null; systemctl reset-failed ${u} 2>/dev/null; true`);
  await s.run(`rm -rf ${W}`);
}

describe("etcd snapshot and restore on a lab host", { skip }, () => {
  let s: HostSession;
  before(async () => {
    s = session(targetFor(spec!, spec!.hosts[HOST_INDEX]));
    // A run that crashed may have left its etcd or timer behind.
    await cleanUp(s);
    await s.check(
      "fetching Debian's etcd packages",
      `mkdir -p ${W}/debs ${ROOT} && cd ${W}/debs && ` +
        `{ apt-get download etcd-server etcd-client 2>/dev/null || ` +
        `{ apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null && apt-get download etcd-server etcd-client; }; } && ` +
        `for d in *.deb; do dpkg-deb -x "$d" ${ROOT}; done && ${BIN}/etcd --version`,
      { timeoutSeconds: 600 },
    );
  });
  after(async () => {
    if (s) {
      await cleanUp(s);
      assert.equal((await s.run(`test -e ${W}`)).code, 1, `${W} is left behind`);
      assert.notEqual((await s.run(`systemctl is-active --quiet ${ETCD_UNITS[0]}`)).code, 0, "throwaway etcd still running");
    }
    await closeAll();
  });

  test("the timer's service snapshots with retention, and a restored snapshot holds the keys", async () => {
    await startEtcd(s, ETCD_UNITS[0], "drtest", `${W}/data`, CLIENT, "http://127.0.0.1:23800");
    for (let i = 1; i <= 5; i++) await s.check("putting a key", etcdctl(CLIENT, `put /dr/k${i} v${i}`));

    // The steps as a control plane gets them: a change, then a no-op.
    const steps = etcdSnapshotSteps(options);
    assert.deepEqual(steps.map((st) => st.id), ["etcd-snapshot/etcdctl", "etcd-snapshot/timer"]);
    const first = [];
    for (const st of steps) first.push(await runStep(s, st));
    assert.deepEqual(first, ["unchanged", "changed"]); // etcdctl was unpacked above
    for (const st of steps) assert.equal(await runStep(s, st), "unchanged", `${st.id} changed on the second run`);
    assert.equal((await s.run(`systemctl is-enabled --quiet ${UNIT}.timer && systemctl is-active --quiet ${UNIT}.timer`)).code, 0);
    const verify = await s.run(`systemd-analyze verify /etc/systemd/system/${UNIT}.service /etc/systemd/system/${UNIT}.timer`);
    assert.equal(verify.code, 0, `systemd-analyze verify: ${verify.stderr}`);

    // Three snapshots through the service, the value of k1 changing in between.
    const seen: string[][] = [];
    for (const v of ["a", "b", "c"]) {
      await s.check("changing a key", etcdctl(CLIENT, `put /dr/k1 ${v}`));
      await s.check("running the snapshot service", `systemctl start ${UNIT}.service`);
      seen.push(await snapshots(s));
    }
    assert.equal(seen[0].length, 1);
    assert.equal(seen[1].length, 2);
    // Retention 2: the third snapshot removed the first, the oldest.
    assert.deepEqual(seen[2], [seen[1][1], seen[2][1]].sort());
    assert.ok(!seen[2].includes(seen[0][0]), "the oldest snapshot was kept");
    assert.ok(seen[2].every((f) => /^etcd-snapshot-\d{8}T\d{6}\.\d{9}Z\.db$/.test(f)), seen[2].join(" "));
    const mode = await s.check("reading the snapshot dir's mode", `stat -c %a ${options.dir}; stat -c %a ${options.dir}/${seen[2][1]}`);
    assert.deepEqual(mode.trim().split("\n"), ["700", "600"]);
    const journal = await s.check("reading the service log", `journalctl -u ${UNIT}.service --no-pager -o cat`);
    assert.match(journal, new RegExp(`removed ${options.dir}/${seen[0][0]} \\(retention: 2\\)`));

    // The source is gone: restore the newest snapshot into a new data dir as
    // a member with another name and peer URL (as on a new host).
    await s.check("stopping the source etcd", `systemctl stop ${ETCD_UNITS[0]}`);
    const restoredPeer = "http://127.0.0.1:23801";
    await s.check(
      "restoring the newest snapshot",
      `export PATH=${BIN}:$PATH\n` +
        restoreCommand({
          snapshot: `${options.dir}/${seen[2][1]}`,
          dataDir: `${W}/restored`,
          name: "drtest-new",
          peerUrl: restoredPeer,
          initialCluster: `drtest-new=${restoredPeer}`,
        }),
    );
    await startEtcd(s, ETCD_UNITS[1], "drtest-new", `${W}/restored`, RESTORED_CLIENT, restoredPeer);
    const kv = await s.check("reading the keys back", etcdctl(RESTORED_CLIENT, "get /dr/ --prefix"));
    assert.deepEqual(kv.trim().split("\n"), ["/dr/k1", "c", "/dr/k2", "v2", "/dr/k3", "v3", "/dr/k4", "v4", "/dr/k5", "v5"]);
    const members = await s.check("listing members", etcdctl(RESTORED_CLIENT, "member list"));
    assert.match(members, /, started, drtest-new, http:\/\/127\.0\.0\.1:23801, /);
    assert.doesNotMatch(members, /drtest,/, "the old member survived the restore");

    // Turning snapshots off removes the timer, and is a no-op the second time.
    const [absent] = etcdSnapshotSteps(options, false);
    assert.equal(await runStep(s, absent), "changed");
    assert.equal(await runStep(s, absent), "unchanged");
  });
});
