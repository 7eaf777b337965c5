import assert from "node:assert/strict";
import { sizeNode } from "../../components/plan/kubelet/sizing";
import { kubelet } from "../../components/config/kubelet";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseStack } from "../../components/config/schema";
import { parseFacts, type HostFacts } from "../../components/plan/facts";
import { assertPreflight, formatReport, preflight, PreflightError, type Observed, MEMORY_SLACK, MINIMUMS } from "../../components/plan/preflight";

// Each host its own key: two hosts with one key are refused.
const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0YoMFknvSwp1YhOYTWEMp2u4d629TZXVhlQsjRCXSW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2Gap9S3krebMQ6RC5StRGzGx6BZHbHMor6StgSYAAW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx5bvsCFchloZTuwmf7DA5snIWW9NboBWMKZS8Z4Viy",
];
const spec = parseStack("t", {
  ssh: { privateKeyPath: "/k" },
  cluster: { name: "prod" },
  hosts: [
    { name: "cp-1", address: "10.0.0.1", hostKey: KEYS[0], roles: ["control-plane"] },
    { name: "cp-2", address: "10.0.0.2", hostKey: KEYS[1], roles: ["control-plane"] },
    { name: "cp-3", address: "10.0.0.3", hostKey: KEYS[2], roles: ["control-plane"] },
    { name: "w-1", address: "10.0.0.4", hostKey: KEYS[3], roles: ["worker"] },
  ],
  gitops: { repoUrl: "https://example.com/repo.git" },
});

const GiB = 1024 ** 3;
const T = 1_800_000_000_000;
const lab = parseFacts(readFileSync(join(__dirname, "../fixtures/facts/lab-nspawn-debian12.txt"), "utf8"));

/** A host with nothing to complain about. */
function good(name: string, i: number): HostFacts {
  return {
    ...lab,
    virt: "kvm",
    cpus: 4,
    memoryBytes: 8 * GiB,
    disks: [{ name: "nvme0n1", nvme: true, rotational: false, sizeBytes: 500 * GiB }],
    etcd: { path: "/var/lib", freeBytes: 100 * GiB, source: "/dev/nvme0n1p2", disk: "nvme0n1" },
    cgroupVersion: 2,
    timeSync: { synchronized: true, services: [{ name: "systemd-timesyncd", active: true }] },
    hostname: name,
    machineId: `id-${i}`,
    clockMs: T,
  };
}

function observe(change: Record<string, Partial<HostFacts>> = {}, rtt = 20): Record<string, Observed> {
  return Object.fromEntries(
    spec.hosts.map((h, i) => [h.name, { facts: { ...good(h.name, i), ...change[h.name] }, sentMs: T - rtt / 2, receivedMs: T + rtt / 2 }]),
  );
}

test("healthy hosts: no errors, no warnings", () => {
  const r = preflight(spec, observe());
  assert.deepEqual(r, spec.hosts.map((h) => ({ host: h.name, errors: [], warnings: [] })));
  assert.doesNotThrow(() => assertPreflight(r));
});

const hardFailures: [string, Record<string, Partial<HostFacts>>, string, string][] = [
  ["unsupported OS", { "cp-2": { os: { id: "centos", versionId: "9", prettyName: "CentOS Stream 9" } } }, "cp-2",
    "unsupported OS CentOS Stream 9: use debian 12/13 or ubuntu 22.04/24.04"],
  ["Debian 11 is too old", { "w-1": { os: { id: "debian", versionId: "11", prettyName: "Debian GNU/Linux 11 (bullseye)" } } }, "w-1",
    "unsupported OS Debian GNU/Linux 11 (bullseye): use debian 12/13 or ubuntu 22.04/24.04"],
  ["one CPU on a control plane", { "cp-1": { cpus: 1 } }, "cp-1", "1 CPU(s): a control-plane needs at least 2"],
  ["1.5 GiB on a control plane", { "cp-3": { memoryBytes: 1.5 * GiB } }, "cp-3", "1.5 GiB of memory: a control-plane needs at least 2.0 GiB"],
  ["0.8 GiB on a worker", { "w-1": { memoryBytes: 0.8 * GiB } }, "w-1", "0.8 GiB of memory: a worker needs at least 2.0 GiB"],
  ["1 GiB on a worker (too little left for pods with the default reservations)", { "w-1": { memoryBytes: 1 * GiB } }, "w-1", "1.0 GiB of memory: a worker needs at least 2.0 GiB"],
  ["API server port taken", { "cp-1": { portsInUse: [{ port: 6443, process: "nginx" }] } }, "cp-1",
    "port 6443 is already in use by nginx: a control-plane needs it for the API server; stop that service or use another host"],
  ["etcd port taken", { "cp-2": { portsInUse: [{ port: 2380 }] } }, "cp-2",
    "port 2380 is already in use: a control-plane needs it for etcd; stop that service or use another host"],
  ["kubelet port taken on a worker", { "w-1": { portsInUse: [{ port: 10250, process: "kubelet" }] } }, "w-1",
    "port 10250 is already in use by kubelet: a worker needs it for the kubelet; stop that service or use another host"],
  ["kubelet of another cluster", { "w-1": { installedCluster: "staging", portsInUse: [{ port: 10250, process: "kubelet" }] } }, "w-1",
    "port 10250 is already in use by kubelet: a worker needs it for the kubelet; stop that service or use another host"],
];

for (const [name, change, host, message] of hardFailures) {
  test(`hard failure: ${name}`, () => {
    const r = preflight(spec, observe(change));
    assert.deepEqual(r.find((x) => x.host === host)!.errors, [message]);
    for (const other of r.filter((x) => x.host !== host)) assert.deepEqual(other.errors, [], other.host);
    assert.throws(() => assertPreflight(r), PreflightError);
  });
}

test("a control plane with 2 GiB installed (MemTotal a little lower) passes", () => {
  const r = preflight(spec, observe({ "cp-1": { memoryBytes: 1.9 * GiB } }));
  assert.deepEqual(r[0].errors, []);
});

test("ports 2379 and 6443 on a worker are not its business", () => {
  const r = preflight(spec, observe({ "w-1": { portsInUse: [{ port: 2379 }, { port: 6443 }] } }));
  assert.deepEqual(r[3].errors, []);
});

test("ports held by this cluster's own kubelet, etcd and API server are not failures (second run)", () => {
  const ours = { installedCluster: "prod", portsInUse: [{ port: 2379, process: "etcd" }, { port: 2380, process: "etcd" }, { port: 6443, process: "kube-apiserver" }, { port: 10250, process: "kubelet" }] };
  const r = preflight(spec, observe({ "cp-1": ours }));
  assert.deepEqual(r[0].errors, []);
  // Same cluster name, but the wrong process on the port.
  const r2 = preflight(spec, observe({ "cp-1": { installedCluster: "prod", portsInUse: [{ port: 2379, process: "kubelet" }] } }));
  assert.equal(r2[0].errors.length, 1);
});

test("layers lowered to hosts on a host that runs Kubernetes is refused; the same host with layers kubernetes is fine", () => {
  const running = { "w-1": { installedCluster: "prod" } };
  const r = preflight({ ...spec, layers: "hosts" }, observe(running));
  assert.deepEqual(r[3].errors, [
    'this host already runs Kubernetes (cluster "prod", /etc/ironroot/cluster), and layers is "hosts": pulumi up would drop the Kubernetes layer from the stack while the cluster keeps running, unmanaged: set layers back to "kubernetes" or "gitops"; ironroot never takes a cluster down: to do that on purpose, run kubeadm reset -f on its nodes first',
  ]);
  assert.deepEqual(preflight({ ...spec, layers: "kubernetes" }, observe(running))[3].errors, []);
  assert.deepEqual(preflight({ ...spec, layers: "hosts" }, observe())[3].errors, [], "a host with no cluster on it");
});

test("duplicate hostname and machine-id: every host involved is named", () => {
  const r = preflight(spec, observe({ "cp-2": { hostname: "cp-1" }, "w-1": { machineId: "id-0" } }));
  assert.deepEqual(r[0].errors, [
    'hostname "cp-1" is also the hostname of cp-2: Kubernetes needs it unique per node; set a unique hostname (hostnamectl set-hostname <name>)',
    'machine-id "id-0" is also the machine-id of w-1: Kubernetes needs it unique per node; hosts cloned from one image share it: regenerate it (rm /etc/machine-id && systemd-machine-id-setup) and reboot',
  ]);
  assert.equal(r[1].errors.length, 1);
  assert.match(r[1].errors[0], /^hostname "cp-1" is also the hostname of cp-1/);
  assert.match(r[3].errors[0], /^machine-id "id-0" is also the machine-id of cp-1/);
});

test("clock skew: the host 3 s ahead of the others fails, the others do not", () => {
  const r = preflight(spec, observe({ "cp-3": { clockMs: T + 3000 } }));
  assert.deepEqual(r.map((x) => x.errors.length), [0, 0, 1, 0]);
  assert.equal(r[2].errors[0], "clock is 3.0s ahead of the other hosts (±10 ms, read over a 20 ms round trip); at most 2.0s is allowed (etcd and certificates need agreeing clocks): enable time sync (NTP) on this host");
});

test("clock skew within the round trip's error bar is not a failure", () => {
  // 2.5 s apart, but each reading may be off by 1 s (a 2 s round trip).
  const r = preflight(spec, observe({ "cp-3": { clockMs: T + 2500 } }, 2000));
  assert.deepEqual(r[2].errors, []);
  assert.equal(preflight(spec, observe({ "cp-3": { clockMs: T + 2500 } }, 20))[2].errors.length, 1);
});

test("a custom skew bound", () => {
  assert.equal(preflight(spec, observe({ "cp-3": { clockMs: T + 1500 } }), { maxClockSkewMs: 1000 })[2].errors.length, 1);
  assert.equal(preflight(spec, observe({ "cp-3": { clockMs: T + 1500 } }))[2].errors.length, 0);
});

test("hosts agreeing with each other but not with the machine running ironroot: a warning only", () => {
  const all = Object.fromEntries(spec.hosts.map((h) => [h.name, { clockMs: T + 60_000 }]));
  const r = preflight(spec, observe(all));
  for (const x of r) {
    assert.deepEqual(x.errors, []);
    assert.match(x.warnings.join("\n"), /clock is 60.0s ahead of the machine running ironroot/);
  }
});

const warnings: [string, Partial<HostFacts>, string][] = [
  ["not KVM", { virt: "systemd-nspawn" }, 'virtualization is "systemd-nspawn", not kvm: ironroot is built and tuned for KVM guests'],
  ["etcd not on NVMe", { disks: [{ name: "sda", nvme: false, rotational: false, sizeBytes: GiB }], etcd: { path: "/var/lib", freeBytes: 100 * GiB, source: "/dev/sda1", disk: "sda" } },
    "etcd data (/var/lib/etcd) is on sda, not an NVMe disk: etcd may be slow; the disk benchmark decides"],
  ["swap on", { swap: { totalBytes: GiB, active: ["/dev/vda3"], fstab: ["/dev/vda3 none swap"] } },
    "swap is on (active: /dev/vda3; in /etc/fstab: /dev/vda3): host preparation turns it off"],
  ["time not synchronized", { timeSync: { synchronized: false, services: [] } },
    "the clock is not NTP-synchronized (timedatectl: NTPSynchronized=no; time service: none active): host preparation turns time sync on"],
  ["cgroup version unknown", { cgroupVersion: undefined },
    "has a cgroup version ironroot could not read (/sys/fs/cgroup is neither cgroup2fs nor tmpfs): Kubernetes is removing cgroup v1 support; use a distribution that boots with cgroup v2"],
  ["little space for etcd", { etcd: { path: "/var/lib", freeBytes: GiB, source: "/dev/nvme0n1p2", disk: "nvme0n1" } },
    "only 1.0 GiB free on /var/lib, where etcd data will live: etcd's default quota is 2.0 GiB"],
];

for (const [name, change, message] of warnings) {
  test(`warning: ${name}`, () => {
    const r = preflight(spec, observe({ "cp-1": change }));
    assert.deepEqual(r[0], { host: "cp-1", errors: [], warnings: [message] });
    assert.doesNotThrow(() => assertPreflight(r));
  });
}

test("cgroup v1 with a kubelet that refuses it (1.35+): refused with both fixes; allowed by kubelet.allowCgroupV1 with a warning; no kubelet, no error", () => {
  const refused = preflight(spec, observe({ "cp-1": { cgroupVersion: 1 } }))[0];
  assert.deepEqual(refused.errors, [
    `boots with cgroup v1, and the kubelet of Kubernetes ${spec.cluster.kubernetesVersion} refuses cgroup v1 (failCgroupV1, since 1.35): ` +
      "boot the host with cgroup v2 (kernel argument systemd.unified_cgroup_hierarchy=1), " +
      "or set ironroot:kubelet.allowCgroupV1: true to run on cgroup v1 anyway (deprecated upstream)",
  ]);
  const allowed = preflight({ ...spec, kubelet: { ...spec.kubelet, allowCgroupV1: true } }, observe({ "cp-1": { cgroupVersion: 1 } }))[0];
  assert.deepEqual(allowed.errors, []);
  assert.deepEqual(allowed.warnings, [
    "boots with cgroup v1 and kubelet.allowCgroupV1 lets the kubelet run on it (failCgroupV1: false): Kubernetes is removing cgroup v1 support; use a distribution that boots with cgroup v2",
  ]);
  const hostsOnly = preflight({ ...spec, layers: "hosts" }, observe({ "cp-1": { cgroupVersion: 1 } }))[0];
  assert.deepEqual(hostsOnly.errors, []);
});

test("a host without facts is a failure that names the cause; the error lists every failing host", () => {
  const o = observe({ "cp-1": { cpus: 1 } });
  o["w-1"] = { error: "w-1 (10.0.0.4:22): connecting: connect ECONNREFUSED 10.0.0.4:22 (4 attempts)" };
  const r = preflight(spec, o);
  assert.throws(() => assertPreflight(r), (e: Error) => {
    assert.equal(
      e.message,
      "preflight: 2 hosts failed, nothing was changed on any host:\n\n" +
        "cp-1: FAIL\n  error:   1 CPU(s): a control-plane needs at least 2\n\n" +
        "w-1: FAIL\n  error:   gathering facts failed: w-1 (10.0.0.4:22): connecting: connect ECONNREFUSED 10.0.0.4:22 (4 attempts)\n",
    );
    return true;
  });
});

test("the report: one block per host", () => {
  assert.equal(formatReport({ host: "a", errors: [], warnings: [] }), "a: ok\n");
  assert.equal(formatReport({ host: "a", errors: [], warnings: ["w"] }), "a: ok, with warnings\n  warning: w\n");
});

test("the smallest machine preflight accepts for each role still gets a kubelet plan with the default settings", () => {
  for (const [role, min] of Object.entries(MINIMUMS)) {
    // Preflight's slack: a machine sold with the minimum reports a little less.
    const memoryBytes = Math.ceil(min.memoryBytes * (1 - MEMORY_SLACK));
    const sized = sizeNode({ node: role, group: "default", kubelet: kubelet.parse({}), size: { cpus: min.cpus, memoryBytes } });
    assert.match(sized.explanation.check, /^ok: /, `${role} with ${min.cpus} CPU and ${memoryBytes} bytes`);
  }
});

/** The stack above with `marks` applied: host name -> remove mark. */
function withRemovals(marks: Record<string, true | "dead">) {
  return parseStack("t", {
    ssh: { privateKeyPath: "/k" },
    cluster: { name: "prod" },
    hosts: spec.hosts.map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey, roles: h.roles, ...(marks[h.name] ? { remove: marks[h.name] } : {}) })),
    gitops: { repoUrl: "https://example.com/repo.git" },
  });
}

test("a node the cluster has but hosts does not list is refused, naming the node, the reporting host and the remove flag", () => {
  const dropped = parseStack("t", {
    ssh: { privateKeyPath: "/k" },
    cluster: { name: "prod" },
    hosts: spec.hosts.slice(0, 3).map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey, roles: h.roles })),
    gitops: { repoUrl: "https://example.com/repo.git" },
  });
  const listing = { clusterNodes: ["cp-1", "cp-2", "cp-3", "w-1"] };
  const r = preflight(dropped, observe({ "cp-1": listing, "cp-2": listing }));
  const errors = r.flatMap((x) => x.errors.map((e) => `${x.host}: ${e}`));
  assert.equal(errors.length, 1, "one refusal, from the first control plane that listed it");
  assert.match(errors[0], /^cp-1: the cluster has a node "w-1" that is not in hosts: .*`remove: true`.*`remove: dead`/);
  assert.throws(() => assertPreflight(r), PreflightError);
  // Marked, it is planned instead, and the plan is shown as a warning.
  const marked = preflight(withRemovals({ "w-1": true }), observe({ "cp-1": listing }));
  assert.deepEqual(marked.flatMap((x) => x.errors), []);
  const w1 = marked.find((x) => x.host === "w-1")!;
  assert.match(w1.warnings[0], /^hosts\[3\] is marked remove: this up takes it out of the cluster: \(1\) drain w-1 .*\(2\) kubeadm reset on w-1; \(3\) delete the Node w-1$/);
});

test("removing control planes: refused with the numbers when etcd would have no answering majority, allowed otherwise, warned when few are left", () => {
  // 3 members; cp-3 drained and reset: 3 answer, 2 needed.
  const one = preflight(withRemovals({ "cp-3": true }), observe());
  assert.deepEqual(one.flatMap((x) => x.errors), []);
  assert.match(one.find((x) => x.host === "cp-3")!.warnings[1], /^2 control planes left after the removal \(cp-1, cp-2\): etcd then survives no control-plane failure; add a replacement to get back to 3$/);
  // Two dead of three: 1 answers, 2 needed.
  const two = preflight(withRemovals({ "cp-2": "dead", "cp-3": "dead" }), observe());
  assert.deepEqual(two.filter((x) => x.errors.length).map((x) => x.host), ["cp-2", "cp-3"]);
  assert.equal(
    two.find((x) => x.host === "cp-2")!.errors[0],
    "removing cp-2 (dead), cp-3 (dead): etcd has 3 members and 1 of them answer (cp-2, cp-3 are dead), but etcd changes its membership only while 2 answer: " +
      "bring a dead control plane back first, or restore the cluster from an etcd snapshot (docs/kubernetes.md, node lifecycle)",
  );
  // One dead of three: 2 answer, fine; a worker removal says nothing about quorum.
  assert.deepEqual(preflight(withRemovals({ "cp-1": "dead" }), observe()).flatMap((x) => x.errors), []);
  assert.equal(preflight(withRemovals({ "w-1": "dead" }), observe()).find((x) => x.host === "w-1")!.warnings.length, 1);
});

test("removing every control plane is refused by the config check, naming them", () => {
  assert.throws(() => withRemovals({ "cp-1": true, "cp-2": true, "cp-3": "dead" }), /hosts: every control plane is marked remove \(hosts\[0\] cp-1, hosts\[1\] cp-2, hosts\[2\] cp-3\): that would take the whole cluster down/);
});

test("a member whose kubeadm is newer, or more than a minor older, than cluster.kubernetesVersion is refused; one minor older is an upgrade; a non-member or the hosts layer alone does not care", () => {
  assert.equal(spec.cluster.kubernetesVersion, "1.36.3", "the stack above pins the default");
  const member = (kubeadmVersion: string): Partial<HostFacts> => ({ kubeadmVersion, kubernetesMember: true, installedCluster: spec.cluster.name });
  const same = preflight(spec, observe({ "cp-1": member("1.36.3") }));
  assert.deepEqual(same.flatMap((x) => x.errors), []);
  const r = preflight(spec, observe({ "cp-1": member("1.37.0"), "cp-2": member("1.34.1"), "cp-3": member("1.35.4") }));
  assert.deepEqual(r.filter((x) => x.errors.length).map((x) => x.host), ["cp-1", "cp-2"]);
  assert.match(r.find((x) => x.host === "cp-1")!.errors[0], /^Kubernetes 1\.37\.0 is installed and cluster\.kubernetesVersion is 1\.36\.3, which is older: kubeadm cannot downgrade/);
  assert.match(r.find((x) => x.host === "cp-2")!.errors[0], /^Kubernetes 1\.34\.1 is installed and cluster\.kubernetesVersion is 1\.36\.3, which skips 1\.35: .*back to "1\.34\.1"$/);
  // Left behind by kubeadm reset: the install replaces it.
  assert.deepEqual(preflight(spec, observe({ "cp-1": { kubeadmVersion: "1.37.0" } })).flatMap((x) => x.errors), []);
  assert.deepEqual(preflight({ ...spec, layers: "hosts" }, observe({ "cp-1": member("1.37.0") })).flatMap((x) => x.errors.filter((e) => /Kubernetes 1\.37/.test(e))), []);
});
