// scripts/lab refuses to report a lab as up when a host is not in a cgroup of
// its own in every hierarchy. The check is the script's own function, run
// on /proc/<pid>/cgroup texts of the shapes this machine produced.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";

const LAB = resolve(__dirname, "../../scripts/lab");
const dir = mkdtempSync(join(tmpdir(), "lab-placement-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function problems(host: number, cgroupFile: string): string[] {
  const file = join(dir, `cgroup-${host}-${Math.random()}`);
  writeFileSync(file, cgroupFile);
  const r = spawnSync("bash", ["-c", `source "$1"; use_subnet 10.123.4; placement_problems "$2" "$3"`, "-", LAB, String(host), file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

const own = "/ironroot-lab/10.123.4/lab-2";

test("a host inside its own cgroup in every hierarchy (nspawn below it, in supervisor) has no problem", () => {
  assert.deepEqual(problems(2, [
    `12:pids:/ci${own}`, `11:cpu,cpuacct:/ci${own}`, `5:devices:/ci${own}`,
    `1:name=systemd:/ci${own}/supervisor`, `0::/ci${own}`,
  ].join("\n") + "\n"), []);
});

test("the placements seen on this machine are each named: name=systemd at the root, pids and devices at the root", () => {
  assert.deepEqual(problems(2, [`12:pids:/`, `11:cpu,cpuacct:${own}`, `5:devices:/`, `1:name=systemd:/supervisor`, `0::${own}`].join("\n") + "\n"), [
    "pids at /", "devices at /", "name=systemd at /supervisor",
  ]);
});

test("another host's cgroup is not this host's (lab-22 is not lab-2, lab-2 is not lab-1)", () => {
  assert.deepEqual(problems(2, `4:memory:/ironroot-lab/10.123.4/lab-22\n`), ["memory at /ironroot-lab/10.123.4/lab-22"]);
  assert.deepEqual(problems(1, `4:memory:${own}\n0::${own}\n`), [`memory at ${own}`, `cgroup2 at ${own}`]);
});
