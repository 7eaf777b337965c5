// Fault tier: faults injected for real on lab hosts, each bounded in time
// and undone by the test itself. For each: the message, how long it took to
// fail, the host's state afterwards, and that a plain re-run converges.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { test } from "node:test";
import { kubelet } from "../../components/config/kubelet";
import { renderKubeletDropIn } from "../../components/plan/kubelet/dropIn";
import { sizeNode } from "../../components/plan/kubelet/sizing";
import { buildPlan } from "../../components/plan";
import { CONTAINERD_CONFIG, MODULES_FILE, SYSCTL_FILE } from "../../components/plan/prep";
import { preflight, requiredPorts } from "../../components/plan/preflight";
import type { HostStep } from "../../components/plan/step";
import { closeAll, onDebug } from "../../components/ssh/pool";
import { CONNECTION_LOST, session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import { gatherFacts } from "../../components/host/gatherFacts";
import { applyKubeletDropIn } from "../../components/host/kubeletRollout";
import { runSteps } from "../../components/host/runSteps";
import { STEP_LOCK } from "../../components/plan/step";
import { HostError, type HostSession } from "../../components/ssh/types";
import { lab } from "../support/lab";

const { spec, skip } = lab();
const opts = { skip: skip ?? false, timeout: 180_000 };
const plan = spec ? buildPlan(spec) : undefined;
const nodes = plan ? plan.nodes.slice(0, 3) : [];
/** A session on its own connection: closeAll() between tests gives each test fresh ones. */
const sessionOf = (i: number): HostSession => session(targetFor(spec!, nodes[i].name));
const WORK = "/root/ironroot-fault";
const run = promisify(execFile);

/** The lab's own ssh client config (written by `scripts/lab up`), for a connection apart from ironroot's pool. */
function labSshConfig(): string {
  const subnet = nodes[0].address.split(".").slice(0, 3).join(".");
  return join(__dirname, "../../.lab", subnet, "ssh_config");
}

test.afterEach(() => closeAll());

/** The files host preparation writes. */
const PREP_FILES = [MODULES_FILE, SYSCTL_FILE, CONTAINERD_CONFIG];

/**
 * What a converged host is, for comparing a re-run after a fault with a
 * clean run: every package's version and dpkg state, what `dpkg --audit`
 * says, and the checksum of each file host preparation manages.
 */
async function hostState(s: HostSession): Promise<{ packages: string; audit: string; files: string }> {
  const packages = await s.check("listing package states", "dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' | sort");
  const audit = (await s.run("dpkg --audit")).stdout;
  const files = await s.check("checksumming the managed files", `sha256sum ${PREP_FILES.join(" ")}`);
  return { packages, audit, files };
}
test.after(() => closeAll());

/** Kills the sshd process serving the connection that runs the command whose pid is in `pidFile`: the connection drops, the command goes on. */
function cutConnectionOf(pidFile: string): string {
  return [
    `pid=$(cat ${pidFile})`,
    'while [ "$pid" -gt 1 ] && [ "$(cat /proc/$pid/comm)" != sshd ]; do pid=$(awk \'{print $4}\' /proc/$pid/stat); done',
    '[ "$pid" -gt 1 ] && kill -KILL "$pid" && echo "killed sshd $pid"',
  ].join("\n");
}

test("connection lost mid-step: the error says so and that the step may still run; the re-run waits for it once, then finds it done", opts, async () => {
  const setup = sessionOf(0);
  await setup.check("preparing", `rm -rf ${WORK}; mkdir -p ${WORK}`);
  // Silent while it runs: a command that writes to the dead connection dies of SIGPIPE.
  const step: HostStep = {
    id: "fault/lost-connection",
    title: "a step that takes 8 s",
    probe: `test -f ${WORK}/done`,
    apply: `echo $$ >${WORK}/pid\nsleep 8\ntouch ${WORK}/done`,
  };
  const started = Date.now();
  const first = runSteps(sessionOf(0), [step]).then(() => undefined, (e: unknown) => e);
  // The cut comes over a connection of its own (ironroot's sessions to one
  // host share one): the lab's ssh client config, with its pinned keys.
  // Asynchronously: the step must go on running meanwhile.
  const killer = await run("ssh", ["-F", labSshConfig(), nodes[0].name, `for i in $(seq 100); do [ -s ${WORK}/pid ] && break; sleep 0.1; done\n${cutConnectionOf(`${WORK}/pid`)}`], { encoding: "utf8", timeout: 30_000 });
  assert.match(killer.stdout, /^killed sshd \d+$/m);
  const e = await first;
  assert.ok(e instanceof HostError, `the step did not fail: ${String(e)}`);
  assert.equal(e.message, `${nodes[0].name} (${nodes[0].address}:22): step fault/lost-connection (a step that takes 8 s): ${CONNECTION_LOST}`);
  const failedAfterMs = Date.now() - started;
  assert.ok(failedAfterMs < 6000, `the lost connection took ${failedAfterMs} ms to be reported`);
  await closeAll();

  const lines: string[] = [];
  const again = await runSteps(sessionOf(0), [step], { onLine: (l) => lines.push(l) });
  assert.deepEqual(again.map((r) => r.status), ["changed"]);
  const waits = lines.filter((l) => l.includes("waiting for an earlier ironroot step that still runs on this host"));
  assert.equal(waits.length, 1, lines.join("\n"));
  assert.match(waits[0], /fault\/lost-connection \(pid \d+, since \d{4}-\d\d-\d\dT/);
  assert.ok(lines.some((l) => l.endsWith("fault/lost-connection: done by the earlier run meanwhile")), lines.join("\n"));
  const state = await sessionOf(0).run(`test -f ${WORK}/done && pgrep -fx 'sleep 8' || true`);
  assert.equal(state.stdout.trim(), "", "the step from the lost connection is done and gone");
  const third = await runSteps(sessionOf(0), [step]);
  assert.deepEqual(third.map((r) => r.status), ["ok"], "a third run finds nothing to do");
  await sessionOf(0).check("cleaning up", `rm -rf ${WORK}`);
});

test("a directory where ironroot writes a file: moved aside with a note, the file written, a re-run changes nothing", opts, async (t) => {
  const s = sessionOf(1);
  if ((await s.run("systemctl is-active --quiet kubelet.service")).code === 0) {
    t.skip(`a kubelet runs on ${nodes[1].name}: this test must not restart it`);
    return;
  }
  // The drop-in's own name, in a folder of the test's (the kubelet's real one is left alone).
  const path = `${WORK}/kubelet.conf.d/50-ironroot-reservations.conf`;
  const fields = sizeNode({ node: nodes[1].name, group: "default", kubelet: kubelet.parse({}), size: { cpus: 2, memoryBytes: 8 * 1024 ** 3 } }).fields!;
  const content = renderKubeletDropIn(fields, { node: nodes[1].name });
  const apply = (log?: (l: string) => void) => applyKubeletDropIn(s, { nodeName: nodes[1].name, path, content, fields, drainTimeoutSeconds: 60, readyTimeoutSeconds: 60, log });
  await runSteps(s, plan!.nodes[1].prep);
  const clean = await hostState(s);
  await s.check("putting directories in the way", `rm -rf ${WORK} ${MODULES_FILE}; mkdir -p ${path} ${MODULES_FILE}; echo keep >${path}/note`);
  try {
    const logs: string[] = [];
    const r = await apply((l) => logs.push(l));
    assert.equal(r.changed, true);
    const note = logs.find((l) => l.includes("moved aside:"));
    assert.match(note ?? "", new RegExp(`^${nodes[1].name}: moved aside: ${path}: it was a directory, not a file; moved aside to ${path}\\.ironroot-moved-\\d{8}T\\d{6}Z \\(ironroot writes this path\\)$`), logs.join("\n"));
    const state = await s.check("reading the host", `test -f ${path} && cat ${path}.ironroot-moved-*/note`);
    assert.equal(state, "keep\n", "the directory was kept, with its content, beside the file");
    assert.equal((await apply()).changed, false);

    // The same for a host step's file: the re-run ends where a clean run does.
    const modules = plan!.nodes[1].prep.find((p) => p.id === "prep/modules-on-boot")!;
    const lines: string[] = [];
    assert.deepEqual((await runSteps(s, [modules], { onLine: (l) => lines.push(l) })).map((x) => x.status), ["changed"]);
    assert.ok(lines.some((l) => l.includes(`moved aside: ${MODULES_FILE}: it was a directory`)), lines.join("\n"));
    assert.deepEqual((await runSteps(s, [modules])).map((x) => x.status), ["ok"]);
    assert.deepEqual(await hostState(s), clean, "the host is as the clean run left it");
  } finally {
    await s.run(`rm -rf ${WORK} ${MODULES_FILE}.ironroot-moved-*`);
  }
});

test("a clock 2.3 s ahead is refused against a 2 s limit, with an error bar of the short round trip", opts, async () => {
  // The lab hosts share this machine's kernel clock, so the skew is put into
  // what the host reports: a `date` ahead of the real one, first on PATH.
  const s = sessionOf(2);
  const fake = "/usr/local/bin/date";
  await s.putFile(fake, "#!/bin/sh\nnow=$(/bin/date +%s%3N)\nt=$((now + 2300))\nexec /bin/date -d \"@$((t / 1000)).$(printf %03d $((t % 1000)))\" \"$@\"\n", 0o755);
  try {
    const observed = Object.fromEntries(await Promise.all(nodes.map(async (n, i) => [n.name, await gatherFacts(sessionOf(i), n.etcdDataDir, requiredPorts(spec!, n))] as const)));
    const reports = preflight({ ...spec!, hosts: spec!.hosts.slice(0, 3) }, observed);
    const skewed = reports.find((r) => r.host === nodes[2].name)!;
    const m = /^clock is (\d+\.\d)s ahead of the other hosts \(±(\d+) ms, read over a (\d+) ms round trip\); at most 2\.0s is allowed/.exec(skewed.errors.find((e) => e.startsWith("clock")) ?? "");
    assert.ok(m, skewed.errors.join("\n"));
    assert.ok(Math.abs(Number(m[1]) - 2.3) <= 0.1, `measured ${m[1]} s`);
    assert.ok(Number(m[2]) < 100, `error bar ${m[2]} ms`);
    for (const r of reports.filter((x) => x.host !== nodes[2].name)) assert.deepEqual(r.errors.filter((e) => e.startsWith("clock")), [], r.host);
  } finally {
    await s.run(`rm -f ${fake}`);
  }
});

test("a held dpkg lock: reported once with its holder, then once when free, not once a second", opts, async () => {
  const s = sessionOf(1);
  await s.check("preparing", `rm -rf ${WORK}; mkdir -p ${WORK}`);
  await s.putFile(`${WORK}/hold.pl`, [
    "use Fcntl;",
    'open(my $f, ">>", "/var/lib/dpkg/lock-frontend") or die "open: $!";',
    // struct flock on x86_64; fcntl writes back into it, so it is a variable.
    'my $lock = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0);',
    'fcntl($f, F_SETLK, $lock) or die "lock: $!";',
    // Says when the lock is held, so apt starts behind it and not before it.
    `open(my $held, ">", "${WORK}/held") and close($held);`,
    "sleep $ARGV[0];",
    "",
  ].join("\n"), 0o644);
  try {
    await s.check("holding the dpkg lock for 6 s", `(setsid perl ${WORK}/hold.pl 6 </dev/null >${WORK}/hold.log 2>&1 &); for i in $(seq 100); do [ -e ${WORK}/held ] && exit 0; sleep 0.1; done; cat ${WORK}/hold.log; exit 1`);
    const step: HostStep = {
      id: "fault/apt-behind-a-lock",
      title: "apt waits for the lock",
      probe: `test -f ${WORK}/apt-done`,
      // fio is in the lab image: apt has nothing to download, only the lock to wait for.
      apply: `apt-get -o DPkg::Lock::Timeout=60 -q install -y fio\ntouch ${WORK}/apt-done`,
    };
    const lines: string[] = [];
    assert.deepEqual((await runSteps(s, [step], { onLine: (l) => lines.push(l) })).map((r) => r.status), ["changed"]);
    const waits = lines.filter((l) => l.includes("package manager's lock"));
    assert.equal(waits.length, 2, `apt's output was:\n${lines.join("\n")}`);
    assert.match(waits[0], /waiting for the package manager's lock: Could not get lock \/var\/lib\/dpkg\/lock-frontend\. It is held by process \d+ \(perl\) \(reported once/);
    assert.match(waits[1], /the package manager's lock was free after [4-7] s$/);
  } finally {
    await s.run(`pkill -f ${WORK}/hold.pl; rm -rf ${WORK}`);
  }
});

test("power lost while dpkg configures a package: apt refuses until repaired; host preparation repairs it, says what, and converges", { ...opts, timeout: 400_000 }, async () => {
  const i = 2;
  const s = () => sessionOf(i);
  const pkg = "ironroot-fault-slow";
  const once = `/var/tmp/${pkg}.once`;
  // What an earlier run cut off before its own clean-up may have left.
  await s().check("removing an earlier run's test package", `dpkg -P ${pkg} >/dev/null 2>&1 || true; rm -rf ${WORK} ${once}`);
  // A clean run first: the state every run after the fault must come back to.
  await runSteps(s(), plan!.nodes[i].prep);
  const clean = await hostState(s());
  // A package whose configure step runs long the first time: the window for the power cut.
  await s().check("building a slow package", [
    `rm -rf ${WORK} ${once}; mkdir -p ${WORK}/pkg/DEBIAN`,
    `printf 'Package: ${pkg}\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: ironroot tests <tests@ironroot.invalid>\\nDescription: configures slowly once\\n' >${WORK}/pkg/DEBIAN/control`,
    `printf '#!/bin/sh\\nset -e\\nif [ "$1" = configure ] && [ ! -e ${once} ]; then touch ${once}; sleep 300; fi\\n' >${WORK}/pkg/DEBIAN/postinst`,
    `chmod 0755 ${WORK}/pkg/DEBIAN/postinst`,
    `dpkg-deb --build ${WORK}/pkg ${WORK}/${pkg}.deb >/dev/null`,
    `(setsid dpkg -i ${WORK}/${pkg}.deb </dev/null >${WORK}/dpkg.log 2>&1 &)`,
    `for t in $(seq 300); do [ -e ${once} ] && exit 0; sleep 0.1; done; echo "postinst never started" >&2; exit 1`,
  ].join("\n"));
  await closeAll();
  const subnet = nodes[i].address.split(".").slice(0, 3).join(".");
  const lab = await run(join(__dirname, "../../scripts/lab"), ["power-cycle", String(i + 1), "--subnet", subnet], { encoding: "utf8", timeout: 180_000 });
  assert.match(lab.stderr, new RegExp(`lab-${i + 1}: up again`));

  const audit = await s().run("dpkg --audit");
  assert.match(audit.stdout, new RegExp(pkg), "dpkg knows the package was left half-configured");
  const refused = await s().run("DEBIAN_FRONTEND=noninteractive apt-get -q install -y socat");
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /dpkg was interrupted, you must manually run 'dpkg --configure -a'/);

  const lines: string[] = [];
  const started = Date.now();
  const first = await runSteps(s(), plan!.nodes[i].prep, { onLine: (l) => lines.push(l) });
  assert.equal(first.find((r) => r.id === "prep/dpkg-consistent")!.status, "changed");
  assert.ok(lines.some((l) => l.includes("an earlier package run was interrupted")), lines.join("\n"));
  assert.ok(lines.some((l) => l.includes(pkg)), "what dpkg --audit reported is said");
  assert.ok(Date.now() - started < 120_000, "the repair took longer than 2 minutes");

  assert.equal((await s().run("dpkg --audit")).stdout, "");
  assert.equal((await s().check("package state", `dpkg-query -W -f='\${Status}' ${pkg}`)).trim(), "install ok installed");
  const again = await runSteps(s(), plan!.nodes[i].prep);
  assert.deepEqual(again.filter((r) => r.status === "changed" || r.status === "would-change").map((r) => r.id), [], "a second run changes nothing");
  await s().check("removing the test package", `dpkg -P ${pkg} >/dev/null; rm -rf ${WORK} ${once}`);
  assert.deepEqual(await hostState(s()), clean, "the host is as the clean run left it: packages, dpkg's audit, the managed files");
});

/**
 * Starts the interruptible client, waits until it has said `said` and
 * `ready` holds on the host, sends SIGINT; resolves with its output, exit
 * code and how long it took to end.
 */
async function interrupt(mode: "step" | "fio" | "slow-fio", i: number, said: RegExp, ready: string): Promise<{ out: string; code: number | null; endedMs: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "../support/interruptible.ts"), mode, String(i), WORK], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d));
  child.stderr.on("data", (d: Buffer) => (out += d));
  const ended = new Promise<number | null>((done) => child.on("close", done));
  const probe = sessionOf(i);
  const deadline = Date.now() + 60_000;
  while (!said.test(out) || (await probe.run(ready)).code !== 0) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`never ready (${ready}): ${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const sent = Date.now();
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await ended;
  clearTimeout(timer);
  return { out, code, endedMs: Date.now() - sent };
}

/** Runs `check` on host i every 0.5 s until it prints nothing; after 10 s, fails with what it still prints. */
async function goneWithin10s(i: number, what: string, check: string): Promise<void> {
  let host = await sessionOf(i).run(check);
  for (let t = 0; t < 20 && host.stdout !== ""; t++) {
    await new Promise((done) => setTimeout(done, 500));
    host = await sessionOf(i).run(check);
  }
  assert.equal(host.stdout, "", `${what} outlived the interrupt by 10 s`);
}

test("Ctrl-C mid-step: the client says per host what it interrupted, the command stops on the host and its clean-up runs; the step is left to apply afresh", opts, async () => {
  const i = 0;
  await sessionOf(i).check("preparing", `rm -rf ${WORK}`);
  const r = await interrupt("step", i, /fault\/interrupted: applying/, `test -f ${WORK}/running`);
  assert.equal(r.code, 130, r.out);
  assert.match(r.out, new RegExp(`^${nodes[i].name}: interrupted by SIGINT: step fault/interrupted \\(a step that runs for a minute\\): stopped on the host$`, "m"), r.out);
  assert.ok(r.endedMs < 10_000, `ended ${r.endedMs} ms after the signal`);
  const host = await sessionOf(i).run(`ls ${WORK}; pgrep -fx 'sleep 60' || true`);
  assert.equal(host.stdout, "", "the clean-up trap ran and nothing is left running");
  assert.equal((await sessionOf(i).run(`flock -n ${STEP_LOCK} true`)).code, 0, "the host's step lock is free");
  await sessionOf(i).check("cleaning up", `rm -rf ${WORK}`);
});

test("Ctrl-C mid-fio: the benchmark's own clean-up removes its files and fio stops", opts, async () => {
  const i = 1;
  const dir = nodes[i].etcdDataDir;
  await sessionOf(i).run(`pkill -x fio; rm -rf ${dir}/.ironroot-disk-benchmark.*`);
  const r = await interrupt("fio", i, /etcd profile: run 1 of/, `pgrep -x fio >/dev/null && ls -d ${dir}/.ironroot-disk-benchmark.* >/dev/null 2>&1`);
  assert.equal(r.code, 130, r.out);
  assert.match(r.out, new RegExp(`^${nodes[i].name}: interrupted by SIGINT: disk benchmark of ${dir}: stopped on the host$`, "m"), r.out);
  // The benchmark's trap removes its files, then says so; the client has
  // ended by then, so the words may not reach it, but the host shows it ran.
  await goneWithin10s(i, "fio or the benchmark's files", `pgrep -x fio; ls -d ${dir}/.ironroot-disk-benchmark.* 2>/dev/null; true`);
});

test("Ctrl-C mid-fio, with a fio slow to stop (its I/O in flight on a busy disk): the files go at once, and the host's timeout kills fio 5 s later", opts, async () => {
  const i = 1;
  const dir = nodes[i].etcdDataDir;
  // Ignores SIGTERM as a fio stuck in fdatasync does; only SIGKILL ends it.
  const fio = "#!/bin/bash\ntrap '' TERM INT HUP\nwhile :; do sleep 1; done\n";
  await sessionOf(i).check("preparing", `rm -rf ${WORK} ${dir}/.ironroot-disk-benchmark.*; mkdir -p ${WORK}/bin`);
  await sessionOf(i).putFile(`${WORK}/bin/fio`, fio, 0o755);
  try {
    const r = await interrupt("slow-fio", i, /etcd profile: warm-up run/, `pgrep -x fio >/dev/null && ls -d ${dir}/.ironroot-disk-benchmark.* >/dev/null 2>&1`);
    assert.equal(r.code, 130, r.out);
    assert.match(r.out, new RegExp(`^${nodes[i].name}: interrupted by SIGINT: disk benchmark of ${dir}: stopped on the host$`, "m"), r.out);
    await goneWithin10s(i, "the benchmark's files", `ls -d ${dir}/.ironroot-disk-benchmark.* 2>/dev/null; true`);
    await goneWithin10s(i, "fio", "pgrep -x fio; true");
  } finally {
    await sessionOf(i).run(`pkill -KILL -x fio; rm -rf ${WORK}`);
  }
});

test("a second SIGTERM during the benchmark's clean-up (timeout signals the script, then its process group) does not cut it short", opts, async () => {
  const i = 1;
  const dir = nodes[i].etcdDataDir;
  // Stops 2 s after SIGTERM, and first makes its directory and file again,
  // as a real fio does when it is stopped while it sets up its job.
  const fio = [
    "#!/bin/bash",
    'for a; do case $a in --directory=*) d=${a#--directory=} ;; esac; done',
    `trap 'sleep 2; mkdir -p "$d"; : >"$d/mytest.0.0"; exit 143' TERM`,
    "while :; do sleep 0.1; done",
    "",
  ].join("\n");
  const s = sessionOf(i);
  await s.check("preparing", `rm -rf ${WORK} ${dir}/.ironroot-disk-benchmark.*; mkdir -p ${WORK}/bin`);
  await s.putFile(`${WORK}/bin/fio`, fio, 0o755);
  await s.putFile(`${WORK}/benchmark.sh`, nodes[i].diskBenchmark.script, 0o755);
  try {
    const r = await s.check("running the benchmark and signalling it twice", [
      `PATH=${WORK}/bin:$PATH bash ${WORK}/benchmark.sh >/dev/null 2>${WORK}/stderr & b=$!`,
      "until pgrep -x fio >/dev/null; do sleep 0.1; done",
      "kill -TERM $b; sleep 1; kill -TERM $b",
      'wait $b && echo "exit 0" || echo "exit $?"',
      `cat ${WORK}/stderr`,
    ].join("\n"));
    assert.match(r, /^exit 143$/m, r);
    assert.match(r, /^disk-benchmark: interrupted: the benchmark files are removed$/m, r);
    await goneWithin10s(i, "the benchmark's files", `ls -d ${dir}/.ironroot-disk-benchmark.* 2>/dev/null; true`);
  } finally {
    await s.run(`pkill -KILL -x fio; rm -rf ${WORK} ${dir}/.ironroot-disk-benchmark.*`);
  }
});

test("sshd refusing connections for a moment: retried, each failed attempt and its cause in the debug log", opts, async () => {
  const i = 2;
  // Debian's ssh.service keeps running sessions when it stops; only new connections are refused.
  await sessionOf(i).check("stopping sshd for 2 s", "(setsid bash -c 'systemctl stop ssh.service; sleep 2; systemctl start ssh.service' </dev/null >/dev/null 2>&1 &); sleep 0.3");
  await closeAll();
  const lines: string[] = [];
  onDebug((l) => lines.push(l));
  try {
    const r = await sessionOf(i).run("true");
    assert.equal(r.code, 0);
  } finally {
    onDebug(() => undefined);
  }
  assert.ok(lines.length >= 1, "no retry was logged");
  assert.match(lines[0], new RegExp(`^${nodes[i].name} \\(${nodes[i].address.replace(/\./g, "\\.")}:22\\): connection attempt 1 of 4 failed \\(.*ECONNREFUSED.*\\); retrying in 500 ms$`), lines.join("\n"));
});

test("a host whose nspawn was SIGKILLed still runs: lab status says so, and power-cycle boots it again", opts, async () => {
  const i = 2;
  const subnet = nodes[i].address.split(".").slice(0, 3).join(".");
  const labCmd = (...args: string[]) => run(join(__dirname, "../../scripts/lab"), [...args, "--subnet", subnet], { encoding: "utf8", timeout: 180_000 });
  const line = (out: string) => out.split("\n").find((l) => l.trim().startsWith(`lab-${i + 1} `)) ?? "";
  const before = line((await labCmd("status")).stdout);
  const pid = /\s(\d+) \(running\)\s+yes\s/.exec(before)?.[1];
  assert.ok(pid, `lab status does not show lab-${i + 1} running with sshd answering: ${before}`);
  process.kill(Number(pid), "SIGKILL");
  await new Promise((r) => setTimeout(r, 1000));
  // Its systemd and sshd go on without the nspawn that started them.
  const after = line((await labCmd("status")).stdout);
  assert.match(after, /\(nspawn gone, \d+ processes still run\)\s+yes\s/, after);
  await closeAll();
  const cycled = await labCmd("power-cycle", String(i + 1));
  assert.match(cycled.stderr, new RegExp(`lab-${i + 1}: up again`));
  assert.match(line((await labCmd("status")).stdout), /\(running\)\s+yes\s/);
  assert.equal((await sessionOf(i).run("true")).code, 0, "the host answers over SSH again");
});
