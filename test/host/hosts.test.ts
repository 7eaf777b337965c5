// Host tier: the SSH transport, facts, preflight and prep steps against real lab
// hosts (sshd, systemd, apt). Uses the first three hosts of the lab stack.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { buildPlan } from "../../components/plan";
import { fingerprint, parsePinnedKey } from "../../components/ssh/hostKey";
import { closeAll, connectionsOpened, resetConnectionCounts } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import { gatherFacts } from "../../components/host/gatherFacts";
import { runSteps, type StepResult } from "../../components/host/runSteps";
import { preflight, requiredPorts } from "../../components/plan/preflight";
import { HostError } from "../../components/ssh/types";
import { lab } from "../support/lab";

const { spec, skip } = lab();
const opts = { skip: skip ?? false };
const plan = spec ? buildPlan(spec) : undefined;
const nodes = plan ? plan.nodes.slice(0, 3) : [];
const target = (i: number) => targetFor(spec!, nodes[i].name);
const sessionOf = (i: number) => session(target(i));
const statuses = (rs: StepResult[]) => Object.fromEntries(rs.map((r) => [r.id, r.status]));

test.before(() => resetConnectionCounts());
test.after(() => closeAll());

test("commands run as bash with LC_ALL=C; output streams line by line with secrets masked", opts, async () => {
  const lines: string[] = [];
  const r = await sessionOf(0).run('echo "$BASH_VERSION" | cut -c1; echo "$LC_ALL"; echo "token=s3cr3t-value"; echo err >&2', {
    secrets: ["s3cr3t-value"],
    onLine: (l, stream) => lines.push(`${stream}:${l}`),
  });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "5\nC\ntoken=s3cr3t-value\n");
  assert.deepEqual(lines.sort(), ["stderr:err", "stdout:5", "stdout:C", "stdout:token=***"]);
});

test("a command over its timeout is killed on the host and reported", opts, async () => {
  const s = sessionOf(0);
  await assert.rejects(s.run("sleep 30; echo late", { timeoutSeconds: 1 }), (e: Error) => {
    assert.ok(e instanceof HostError);
    assert.match(e.message, /^lab-1 \(10\.77\.0\.11:22\): running `sleep 30; echo late`: timed out after 1s$/);
    return true;
  });
  const left = await s.run("pgrep -fx 'sleep 30' || true");
  assert.equal(left.stdout.trim(), "", "the timed-out command is still running on the host");
});

test("putFile writes atomically with the mode; content travels on stdin", opts, async () => {
  const s = sessionOf(0);
  await s.putFile("/root/ironroot-test-h2/sub/file.txt", "line 1\nsecret\n", 0o600);
  assert.equal(await s.check("reading back", "stat -c %a /root/ironroot-test-h2/sub/file.txt; cat /root/ironroot-test-h2/sub/file.txt"), "600\nline 1\nsecret\n");
  assert.equal((await s.run("ls -A /root/ironroot-test-h2/sub")).stdout, "file.txt\n", "a temp file was left behind");
  await s.check("cleaning up", "rm -rf /root/ironroot-test-h2");
});

test("a dry run reports what would change and changes nothing", opts, async () => {
  const s = sessionOf(0);
  // Make one step pending for sure: remove the file that step owns.
  await s.check("removing the sysctl file", "rm -f /etc/sysctl.d/99-ironroot-k8s.conf");
  const before = await s.run("ls /etc/sysctl.d/; dpkg -l | wc -l; md5sum /etc/containerd/config.toml /etc/fstab");
  const dry = await runSteps(s, nodes[0].prep, { dryRun: true });
  assert.equal(statuses(dry)["prep/sysctl-persisted"], "would-change");
  assert.ok(!dry.some((r) => r.status === "changed"));
  const after = await s.run("ls /etc/sysctl.d/; dpkg -l | wc -l; md5sum /etc/containerd/config.toml /etc/fstab");
  assert.equal(after.stdout, before.stdout);
});

test("every prep step applies on 3 hosts; the second run changes nothing", opts, async () => {
  const first = await Promise.all(nodes.map((_, i) => runSteps(sessionOf(i), nodes[i].prep)));
  for (const [i, rs] of first.entries()) {
    assert.deepEqual(rs.map((r) => r.id), nodes[i].prep.map((s) => s.id));
    assert.ok(rs.every((r) => r.status !== "would-change"), nodes[i].name);
  }
  assert.equal(statuses(first[0])["prep/sysctl-persisted"], "changed");
  const second = await Promise.all(nodes.map((_, i) => runSteps(sessionOf(i), nodes[i].prep)));
  for (const rs of second) {
    assert.deepEqual(rs.filter((r) => r.status === "changed"), []);
    // The lab hosts are systemd-nspawn containers: the kernel module and
    // time-sync steps are reported, not failed, unless the machine already did them.
    for (const r of rs.filter((x) => x.status === "unsupported")) assert.match(r.reason!, /container/);
  }
  const s = sessionOf(0);
  assert.equal(await s.check("reading containerd config", "grep -c '^ *SystemdCgroup = true' /etc/containerd/config.toml"), "1\n");
  assert.equal(await s.check("containerd", "systemctl is-active containerd"), "active\n");
  assert.equal((await s.run("dpkg-query -W -f='${db:Status-Status}' socat conntrack")).stdout, "installedinstalled");
});

test("a runtime setting changed by hand is put back (sysctl applied in the container's network namespace)", opts, async () => {
  const s = sessionOf(2);
  await s.check("turning ip_forward off", "sysctl -q -w net.ipv4.ip_forward=0");
  const rs = await runSteps(s, nodes[2].prep);
  assert.equal(statuses(rs)["prep/sysctl-applied"], "changed");
  assert.equal(await s.check("reading ip_forward", "sysctl -n net.ipv4.ip_forward"), "1\n");
});

test("facts of the lab hosts pass preflight; a port taken by another program is a hard failure", opts, async () => {
  const observed = Object.fromEntries(
    await Promise.all(nodes.map(async (n, i) => [n.name, await gatherFacts(sessionOf(i), n.etcdDataDir, requiredPorts(spec!, n))] as const)),
  );
  const sub = { ...spec!, hosts: spec!.hosts.slice(0, 3) };
  const ok = preflight(sub, observed);
  assert.deepEqual(ok.map((r) => r.errors), [[], [], []]);
  assert.match(ok[0].warnings.join("\n"), /not kvm/);

  // socat was installed by prep: hold 10250 for a few seconds, like a stray kubelet.
  const s = sessionOf(2);
  await s.check("starting a listener", "(timeout 20 socat TCP-LISTEN:10250,reuseaddr,fork /dev/null >/dev/null 2>&1 &) ; sleep 1");
  try {
    const held = await gatherFacts(s, nodes[2].etcdDataDir, requiredPorts(spec!, nodes[2]));
    const r = preflight(sub, { ...observed, [nodes[2].name]: held });
    assert.deepEqual(r[2].errors, ["port 10250 is already in use by socat: a control-plane needs it for the kubelet; stop that service or use another host"]);
  } finally {
    await s.run("pkill -x socat || true");
  }
});

test("a changed host key is refused with both fingerprints", opts, async () => {
  const wrong = { ...target(0), name: "lab-1-wrong-pin", hostKey: spec!.hosts[1].hostKey };
  await assert.rejects(session(wrong).run("true"), (e: Error) => {
    assert.ok(e instanceof HostError);
    assert.ok(e.message.startsWith("lab-1-wrong-pin (10.77.0.11:22): connecting: host key mismatch: "), e.message);
    assert.ok(e.message.includes(fingerprint(parsePinnedKey(spec!.hosts[1].hostKey).blob)), "expected fingerprint missing");
    assert.ok(e.message.includes(fingerprint(parsePinnedKey(spec!.hosts[0].hostKey).blob)), "actual fingerprint missing");
    assert.match(e.message, /update hosts\[0\]\.hostKey/);
    return true;
  });
  assert.equal(connectionsOpened()["lab-1-wrong-pin"], undefined);
});

test("an unreachable address fails within its bound with a clear error", opts, async () => {
  const base = { ...target(0), connectTimeoutSeconds: 2, connectRetries: 1 };
  const bound = (2 * 2 + 0.5 + 3) * 1000; // timeout x attempts + backoff + slack
  for (const [name, address, port, cause] of [
    ["nobody", "10.77.0.250", 22, /no SSH handshake within 2s|EHOSTUNREACH|ETIMEDOUT/],
    ["closed", "127.0.0.1", 1, /ECONNREFUSED/],
  ] as const) {
    const started = Date.now();
    await assert.rejects(session({ ...base, name, address, port }).run("true"), (e: Error) => {
      assert.ok(e.message.startsWith(`${name} (${address}:${port}): connecting: `), e.message);
      assert.match(e.message, cause);
      assert.match(e.message, /\(2 attempts\)$/);
      return true;
    });
    assert.ok(Date.now() - started < bound, `${name}: took longer than connectTimeoutSeconds x attempts + backoff`);
  }
});

test("a non-root user with passwordless sudo works; sudo is used by default", opts, async () => {
  const s = session({ ...target(0), name: "lab-1-as-ironroot", user: "ironroot" });
  assert.equal(await s.check("whoami", "id -un"), "root\n");
  assert.equal(await s.check("whoami without sudo", "id -un", { sudo: false }), "ironroot\n");
  const dry = await runSteps(s, nodes[0].prep, { dryRun: true });
  assert.deepEqual(dry.filter((r) => r.status === "would-change"), []);
});

test("a user whose sudo needs a password gets a clear error", opts, async () => {
  const s = session({ ...target(0), name: "lab-1-as-needpw", user: "needpw" });
  assert.equal(await s.check("whoami without sudo", "id -un", { sudo: false }), "needpw\n");
  await assert.rejects(s.run("true"), (e: Error) => {
    assert.equal(
      e.message,
      'lab-1-as-needpw (10.77.0.11:22): checking sudo: user needpw needs a password for sudo, and ironroot runs sudo non-interactively (sudo -n): ' +
        'give needpw passwordless sudo, e.g. /etc/sudoers.d/needpw containing "needpw ALL=(ALL) NOPASSWD:ALL", or connect as root',
    );
    return true;
  });
  // The fix the message names (a rule read after the host's own, as sudo
  // applies the last match), made while the connection stays open: the
  // next command on the same session asks sudo again and works.
  const root = session(target(0));
  await root.check("grant needpw sudo", "printf 'needpw ALL=(ALL) NOPASSWD:ALL\\n' > /etc/sudoers.d/zz-ironroot-test-needpw && chmod 0440 /etc/sudoers.d/zz-ironroot-test-needpw");
  try {
    assert.equal(await s.check("whoami with sudo", "id -un"), "root\n");
  } finally {
    await root.check("revoke needpw sudo", "rm -f /etc/sudoers.d/zz-ironroot-test-needpw");
  }
});

test("one SSH connection per host for everything above", opts, () => {
  const counts = connectionsOpened();
  for (const n of nodes) assert.equal(counts[n.name], 1, n.name);
  assert.equal(counts["lab-1-as-ironroot"], 1);
});

test("every lab host runs in a cgroup of its own in every hierarchy (scripts/lab checks it at up; this reads /proc again)", opts, () => {
  const subnet = spec!.hosts[0].address.split(".").slice(0, 3).join(".");
  const state = JSON.parse(readFileSync(`${process.env.IRONROOT_LAB_STATE ?? "/var/lib/ironroot-lab"}/${subnet}/state.json`, "utf8")) as {
    hosts: { name: string; nspawnPid: number }[];
  };
  for (const h of state.hosts) {
    const own = `/ironroot-lab/${subnet}/${h.name}`;
    for (const line of readFileSync(`/proc/${h.nspawnPid}/cgroup`, "utf8").trim().split("\n")) {
      const path = line.split(":").slice(2).join(":");
      assert.ok(path.endsWith(own) || path.includes(`${own}/`), `${h.name}: ${line} is outside ${own}`);
    }
  }
});

test("this machine leaves every lab host 128 inotify instances of its own, as its own kernel would (scripts/lab up raises the shared limit)", opts, () => {
  const root = process.env.IRONROOT_LAB_STATE ?? "/var/lib/ironroot-lab";
  const hosts = readdirSync(root).filter((d) => existsSync(join(root, d, "hosts"))).flatMap((d) => readdirSync(join(root, d, "hosts")));
  const machine = Number(readFileSync(join(root, "inotify_instances.orig"), "utf8"));
  const limit = Number(readFileSync("/proc/sys/fs/inotify/max_user_instances", "utf8"));
  assert.ok(hosts.length >= nodes.length, `lab hosts found under ${root}: ${hosts.join(", ")}`);
  assert.ok(limit >= machine + 128 * hosts.length, `fs.inotify.max_user_instances is ${limit}: want at least ${machine} + 128 x ${hosts.length} lab hosts`);
});
