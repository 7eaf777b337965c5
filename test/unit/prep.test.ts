import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";
import { loadStackFile } from "../../components/config/load";
import { buildPlan } from "../../components/plan";
import { CONTAINER_VIRT, modulesFileContent, PACKAGES, prepSteps, sysctlFileContent } from "../../components/plan/prep";
import { stepScript } from "../../components/plan/step";
import { renderPlan } from "../../components/render/render";
import { shellcheckAll, shellcheckMissing } from "../support/shellcheck";

const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
const steps = prepSteps(spec.cluster.kubernetesVersion);

test("prep steps run in this order", () => {
  assert.deepEqual(steps.map((s) => s.id), [
    "prep/dpkg-consistent",
    "prep/packages",
    "prep/modules-on-boot",
    "prep/modules-loaded",
    "prep/sysctl-persisted",
    "prep/sysctl-applied",
    "prep/swap-off-fstab",
    "prep/swap-off-now",
    "prep/containerd-config",
    "prep/time-sync",
  ]);
});

test("buildPlan gives every node the prep steps", () => {
  const plan = buildPlan(spec);
  for (const n of plan.nodes) assert.deepEqual(n.prep.map((s) => s.id), steps.map((s) => s.id), n.name);
});

test("only the steps a container cannot apply are marked unsupported in containers", () => {
  const marked = steps.filter((s) => s.unsupportedIn).map((s) => s.id);
  assert.deepEqual(marked, ["prep/modules-loaded", "prep/swap-off-now", "prep/time-sync"]);
  for (const s of steps.filter((x) => x.unsupportedIn)) {
    assert.deepEqual(s.unsupportedIn!.virt, CONTAINER_VIRT);
    assert.ok(!s.unsupportedIn!.virt.includes("kvm"));
    assert.match(s.unsupportedIn!.reason, /container/);
  }
});

test("the files prep writes have exactly this content", () => {
  assert.equal(
    modulesFileContent,
    "# Managed by ironroot; changes here are reverted on the next run.\n# Kernel modules Kubernetes networking and containerd need.\noverlay\nbr_netfilter\n",
  );
  assert.equal(
    sysctlFileContent,
    "# Managed by ironroot; changes here are reverted on the next run.\n" +
      "# Pods reach each other through a bridge and iptables, and nodes route pod traffic.\n" +
      "net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n",
  );
});

test("packages: every required package is probed and installed with a bounded apt lock wait", () => {
  const s = steps.find((x) => x.id === "prep/packages")!;
  for (const p of ["containerd", "runc", "conntrack", "socat", "fio", "iptables", "ca-certificates", "curl", "gnupg"]) {
    assert.ok(PACKAGES.includes(p), p);
  }
  assert.match(s.probe, new RegExp(`for p in ${PACKAGES.join(" ")}; do`));
  assert.match(s.probe, /installed systemd-timesyncd \|\| installed chrony/);
  assert.match(s.apply, /apt-get -o DPkg::Lock::Timeout=300 -q install -y --no-install-recommends "\$\{missing\[@\]\}"/);
});

test("containerd: SystemdCgroup turned on, restart only when the file changed", () => {
  const s = steps.find((x) => x.id === "prep/containerd-config")!;
  assert.match(s.probe, /SystemdCgroup\[\[:space:\]\]\*=\[\[:space:\]\]\*true' \/etc\/containerd\/config.toml/);
  assert.match(s.apply, /containerd config default > "\$tmp"/);
  assert.match(s.apply, /if cmp -s "\$tmp" "\$cfg"; then\n  rm -f "\$tmp"\nelse\n(?:.*\n)+  mv -f "\$tmp" "\$cfg"\n  systemctl restart containerd\nfi/);
});

// Runs the probe of a file step against a scratch copy, to prove the probe
// and apply agree on the bytes (a mismatch would make every run a change).
test("file steps: the probe passes exactly after the apply wrote the file", () => {
  for (const id of ["prep/modules-on-boot", "prep/sysctl-persisted"]) {
    const s = steps.find((x) => x.id === id)!;
    const dir = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    const path = id === "prep/modules-on-boot" ? "/etc/modules-load.d/ironroot-k8s.conf" : "/etc/sysctl.d/99-ironroot-k8s.conf";
    const parent = path.slice(0, path.lastIndexOf("/"));
    const rebase = (sh: string) => sh.split(parent).join(`${dir}${parent}`);
    const run = (body: string) => spawnSync("bash", ["-c", `set -euo pipefail\nf() {\n${rebase(body)}\n}\nf`]).status;
    assert.notEqual(run(s.probe), 0, `${id}: probe passes before apply`);
    assert.equal(run(s.apply), 0, `${id}: apply failed`);
    assert.equal(run(s.probe), 0, `${id}: probe fails after apply`);
  }
});

test("every rendered prep script passes shellcheck", { skip: shellcheckMissing() }, () => {
  const files = [...renderPlan(buildPlan(spec)).entries()].filter(([k]) => /\/prep\/.*\.sh$/.test(k));
  assert.equal(files.length, spec.hosts.length * steps.length);
  assert.deepEqual(shellcheckAll(files), []);
  for (const s of steps) assert.equal(stepScript(s).startsWith("#!/usr/bin/env bash\n"), true);
});
