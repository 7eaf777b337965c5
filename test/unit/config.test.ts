import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../components/config/errors";
import { rawConfigFromEngine, rawConfigFromStackFile } from "../../components/config/load";
import { parseStack } from "../../components/config/schema";
import { buildPlan } from "../../components/plan";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE";

function valid(): Record<string, any> {
  return {
    ssh: { privateKeyPath: "/home/op/.ssh/id_ed25519" },
    hosts: [
      { name: "cp-1", address: "10.0.0.11", hostKey: KEY, roles: ["control-plane"] },
      { name: "cp-2", address: "10.0.0.12", hostKey: KEY, roles: ["control-plane"] },
      { name: "cp-3", address: "10.0.0.13", hostKey: KEY, roles: ["control-plane"] },
      { name: "w-1", address: "w-1.example.net", hostKey: KEY },
    ],
    gitops: { repoUrl: "https://git.example.net/org/cluster.git" },
  };
}

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseStack("t", raw);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail("config was accepted");
}

test("a valid config gets its defaults from the schema", () => {
  const spec = parseStack("t", valid());
  assert.equal(spec.ssh.user, "root");
  assert.equal(spec.ssh.port, 22);
  assert.equal(spec.hosts[3].port, 22);
  assert.equal(spec.hosts[3].user, "root");
  assert.deepEqual(spec.hosts[3].roles, ["worker"]);
  assert.equal(spec.hosts[0].etcdDataDir, "/var/lib/etcd");
  assert.equal(spec.cluster.kubernetesVersion, "1.34.2");
  assert.deepEqual(spec.cluster.endpoint, { mode: "local-lb", port: 6443, localPort: 6444 });
  assert.equal(spec.diskBenchmark.warnP99Ms, 10);
  assert.equal(spec.diskBenchmark.failP99Ms, 20);
  assert.equal(spec.kubelet.policy, "sized");
  assert.equal(spec.layers, "gitops");
  assert.equal(spec.gitops?.path, "applications");
  assert.equal(spec.gitops?.prune, false);
  assert.equal(spec.gitops?.argocd.statusProcessors, 20);
  assert.equal(spec.gitops?.argocd.operationProcessors, 10);
});

test("host settings inherit ssh.user and ssh.port unless set per host", () => {
  const raw = valid();
  raw.ssh = { ...raw.ssh, user: "ops", port: 2222 };
  raw.hosts[1].port = 22022;
  raw.hosts[1].user = "admin";
  const spec = parseStack("t", raw);
  assert.deepEqual(spec.hosts.map((h) => [h.user, h.port]), [["ops", 2222], ["admin", 22022], ["ops", 2222], ["ops", 2222]]);
});

// [what is wrong, how to break a valid config, the exact problems reported]
const BAD: [string, (c: Record<string, any>) => void, string[]][] = [
  ["address out of range", (c) => { c.hosts[2].address = "10.0.0.300"; },
    ['hosts[2].address: "10.0.0.300" is not an IP address or host name']],
  ["address with a space", (c) => { c.hosts[0].address = "cp 1"; },
    ['hosts[0].address: "cp 1" is not an IP address or host name']],
  ["host name not a DNS label", (c) => { c.hosts[1].name = "CP_2"; },
    ['hosts[1].name: "CP_2" is not a valid host name: use lowercase letters, digits and "-", at most 63 characters, starting and ending with a letter or digit']],
  ["missing host key", (c) => { delete c.hosts[0].hostKey; },
    ["hosts[0].hostKey: is required"]],
  ["host key not a public key", (c) => { c.hosts[3].hostKey = "SHA256:abcdef"; },
    ['hosts[3].hostKey: "SHA256:abcdef" is not an SSH public host key: pin the key as "<type> <base64>", e.g. the output of `ssh-keyscan -t ed25519 <address>` without the host name, after checking its fingerprint out of band']],
  ["unknown role", (c) => { c.hosts[3].roles = ["etcd"]; },
    ['hosts[3].roles[0]: "etcd" is not one of: control-plane, worker']],
  ["port out of range", (c) => { c.hosts[0].port = 70000; },
    ["hosts[0].port: 70000 is not a TCP port: use 1-65535"]],
  ["typo in a host field", (c) => { c.hosts[0].adress = "10.0.0.1"; },
    ["hosts[0].adress: unknown field: check the spelling against the config reference in README.md"]],
  ["typo in a top-level setting", (c) => { c.host = []; },
    ["host: unknown setting: check the spelling against the config reference in README.md"]],
  ["duplicate host name", (c) => { c.hosts[3].name = "cp-1"; },
    ['hosts[3].name: "cp-1" is already used by hosts[0]: host names must be unique']],
  ["duplicate address", (c) => { c.hosts[3].address = "10.0.0.12"; },
    ['hosts[3].address: "10.0.0.12" is already used by hosts[1] (cp-2): each host needs its own address']],
  ["no control plane", (c) => { c.hosts.forEach((h: any) => { h.roles = ["worker"]; }); },
    ["hosts: no host has the control-plane role: give at least one host `roles: [control-plane]` (1 for a test cluster, 3 or 5 for HA)"]],
  ["even number of control planes", (c) => { c.hosts[3].roles = ["control-plane", "worker"]; },
    ["hosts: 4 control planes is an even number: etcd needs a majority of members (quorum) to work, so 4 members survive no more failures than 3; use 3 or 5 control planes"]],
  ["no hosts", (c) => { c.hosts = []; },
    ["hosts: needs at least one host"]],
  ["hosts not a list", (c) => { c.hosts = { name: "cp-1" }; },
    ["hosts: expected a list, got a map"]],
  ["overlapping CIDRs", (c) => { c.cluster = { podCidr: "10.96.0.0/16" }; },
    ['cluster.serviceCidr: "10.96.0.0/12" overlaps cluster.podCidr "10.96.0.0/16": choose two ranges that do not overlap']],
  ["host inside the pod network", (c) => { c.cluster = { podCidr: "10.0.0.0/16" }; },
    [
      'hosts[0].address: 10.0.0.11 lies inside cluster.podCidr "10.0.0.0/16": move the podCidr to a range the hosts do not use',
      'hosts[1].address: 10.0.0.12 lies inside cluster.podCidr "10.0.0.0/16": move the podCidr to a range the hosts do not use',
      'hosts[2].address: 10.0.0.13 lies inside cluster.podCidr "10.0.0.0/16": move the podCidr to a range the hosts do not use',
    ]],
  ["bad CIDR", (c) => { c.cluster = { serviceCidr: "10.96.0.0/33" }; },
    ['cluster.serviceCidr: "10.96.0.0/33" is not an IPv4 CIDR: use e.g. "10.244.0.0/16"']],
  ["unpinned Kubernetes version", (c) => { c.cluster = { kubernetesVersion: "latest" }; },
    ['cluster.kubernetesVersion: "latest" is not a pinned Kubernetes version: use "1.<minor>.<patch>", e.g. "1.34.2"']],
  ["unknown endpoint mode", (c) => { c.cluster = { endpoint: { mode: "keepalived" } }; },
    ['cluster.endpoint.mode: "keepalived" is not one of: local-lb, vip, dns']],
  ["VIP on a host's address", (c) => { c.cluster = { endpoint: { mode: "vip", address: "10.0.0.12" } }; },
    ["cluster.endpoint.address: 10.0.0.12 is the address of hosts[1] (cp-2): the VIP must be a free address on the hosts' network"]],
  ["prune in production without acknowledgement", (c) => { c.cluster = { production: true }; c.gitops.prune = true; },
    ["gitops.prune: true on a production stack (cluster.production: true) deletes from the cluster whatever is removed from git; set gitops.acknowledgePruneInProduction: true to confirm, or keep prune false until the path is proven"]],
  ["no SSH key source", (c) => { c.ssh = {}; },
    ["ssh: no SSH key configured: set one of ssh.privateKeyPath, ssh.agent: true, or the secret (`pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519`)"]],
  ["two SSH key sources", (c) => { c.ssh.agent = true; },
    ["ssh: ssh.privateKeyPath and ssh.agent are both set: keep exactly one SSH key source"]],
  ["SSH repo without deploy key or known hosts", (c) => { c.gitops.repoUrl = "git@github.com:org/cluster.git"; },
    [
      'deployKey: gitops.repoUrl "git@github.com:org/cluster.git" is an SSH URL and needs a deploy key: run `pulumi config set --secret deployKey < deploy_key`',
      "gitops.knownHosts: gitops.repoUrl is an SSH URL, so the git host's key must be pinned: set it to the verified `ssh-keyscan <git host>` lines",
    ]],
  ["deploy key in plain text", (c) => { c.deployKey = "-----BEGIN OPENSSH PRIVATE KEY-----"; },
    ["deployKey: the git deploy key must be stored encrypted: run `pulumi config set --secret deployKey < file` (a plain value would sit unencrypted in the stack file)"]],
  ["missing repo URL", (c) => { c.gitops = {}; },
    ["gitops.repoUrl: is required"]],
  ["not a git URL", (c) => { c.gitops.repoUrl = "github.com/org/repo"; },
    ['gitops.repoUrl: "github.com/org/repo" is not a git repository URL: use "git@host:org/repo.git", "ssh://git@host/org/repo.git" or "https://host/org/repo.git"']],
  ["warn above fail", (c) => { c.diskBenchmark = { warnP99Ms: 30 }; },
    ["diskBenchmark.warnP99Ms: 30 is above diskBenchmark.failP99Ms 20: the warning must come before the failure; lower warnP99Ms or raise failP99Ms"]],
  ["override for an unknown host", (c) => { c.diskBenchmark = { allowSlowDisk: ["cp-9"] }; },
    ['diskBenchmark.allowSlowDisk[0]: "cp-9" is not a host in this stack: use a name from hosts[].name']],
  ["static policy without values", (c) => { c.kubelet = { policy: "static" }; },
    ['kubelet.static: kubelet.policy is "static" but no values are given: set kubelet.static.kubeReserved and kubelet.static.systemReserved, or use policy "sized"']],
  ["bad quantity", (c) => { c.kubelet = { policy: "static", static: { kubeReserved: { cpu: "half", memory: "500Mi" }, systemReserved: { cpu: "500m", memory: "500Mi" } } }; },
    ['kubelet.static.kubeReserved.cpu: "half" is not a Kubernetes quantity: use e.g. "500m" or "1" for CPU, "512Mi" or "2Gi" for memory']],
  ["override for a group no host is in", (c) => { c.kubelet = { groups: { big: { maxPods: 200 } } }; },
    ['kubelet.groups.big: no host is in group "big": set hosts[].group: big on its hosts, or remove the override']],
  ["wrong type", (c) => { c.diskBenchmark = { runs: "three" }; },
    ['diskBenchmark.runs: expected a number, got the text "three"']],
  ["unknown layer", (c) => { c.layers = "argocd"; },
    ['layers: "argocd" is not a layer: use "hosts" (prepare and benchmark hosts only), "kubernetes" (hosts, then Kubernetes) or "gitops" (everything)']],
  ["no gitops section on a stack that goes up to GitOps", (c) => { delete c.gitops; },
    ['gitops: is required: set gitops.repoUrl to the git repository the cluster pulls its state from (or set layers: "hosts" or "kubernetes" to stop before GitOps)']],
  ["relative etcd data dir", (c) => { c.hosts[0].etcdDataDir = "var/lib/etcd"; },
    ['hosts[0].etcdDataDir: "var/lib/etcd" is not an absolute path: start it with "/"']],
];

test("a hosts-only stack needs no gitops section, and its plan has no GitOps part", () => {
  const raw = valid();
  delete raw.gitops;
  raw.layers = "hosts";
  const spec = parseStack("t", raw);
  assert.equal(spec.layers, "hosts");
  assert.equal(spec.gitops, undefined);
  const plan = buildPlan(spec);
  assert.equal(plan.cluster.layers, "hosts");
  assert.equal(plan.cluster.gitops, undefined);
  assert.equal(plan.cluster.rootApp, undefined);
});

test("a kubernetes-layer stack with a gitops section still plans no GitOps", () => {
  const plan = buildPlan(parseStack("t", { ...valid(), layers: "kubernetes" }));
  assert.equal(plan.cluster.gitops, undefined);
  assert.ok(plan.cluster.kubeadm.nodes.length > 0);
});

for (const [what, breakIt, expected] of BAD) {
  test(`bad config: ${what}`, () => {
    const raw = valid();
    breakIt(raw);
    assert.deepEqual(problems(raw), expected);
  });
}

test("every problem in a config is reported in one run", () => {
  const raw = valid();
  raw.hosts[2].address = "10.0.0.300";
  raw.hosts[3].name = "cp-1";
  raw.cluster = { podCidr: "10.96.0.0/16" };
  raw.gitops.repoUrl = "nope";
  const found = problems(raw);
  assert.equal(found.length, 4, found.join("\n"));
  assert.match(found.join("\n"), /hosts\[2\]\.address/);
  assert.match(found.join("\n"), /hosts\[3\]\.name/);
  assert.match(found.join("\n"), /cluster\.serviceCidr/);
  assert.match(found.join("\n"), /gitops\.repoUrl/);
});

test("the error message lists the problems under the stack name", () => {
  const raw = valid();
  raw.hosts[2].address = "10.0.0.300";
  assert.throws(() => parseStack("prod", raw), {
    message: 'stack "prod": 1 problem in the stack config:\n  - hosts[2].address: "10.0.0.300" is not an IP address or host name',
  });
});

test("the stack file loader turns secure values into secret refs and ignores other namespaces", () => {
  const raw = rawConfigFromStackFile(resolve(__dirname, "../../stacks/Pulumi.example.yaml"), "example");
  assert.deepEqual(raw.deployKey, { secret: "deployKey" });
  assert.ok(Array.isArray(raw.hosts));
});

test("the engine loader never reads secret values, only their presence", () => {
  const raw = rawConfigFromEngine({
    "ironroot:hosts": JSON.stringify([{ name: "a" }]),
    "ironroot:deployKey": "-----BEGIN OPENSSH PRIVATE KEY----- value",
    "kubernetes:context": "x",
  });
  assert.deepEqual(raw, { hosts: [{ name: "a" }], deployKey: { secret: "deployKey" } });
});
