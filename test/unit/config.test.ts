import assert from "node:assert/strict";
import { z } from "zod";
import { resolve } from "node:path";
import { test } from "node:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../components/config/errors";
import { duplicateHostKeyProblems, host, type HostConfig } from "../../components/config/hosts";
import { loadStackFile, rawConfigFromEngine, rawConfigFromStackFile } from "../../components/config/load";
import { editDistance, isMisspelledNamespace } from "../../components/config/namespace";
import { parseStack, sections } from "../../components/config/schema";
import { buildPlan } from "../../components/plan";

// Each host its own key, as on real machines.
const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0YoMFknvSwp1YhOYTWEMp2u4d629TZXVhlQsjRCXSW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2Gap9S3krebMQ6RC5StRGzGx6BZHbHMor6StgSYAAW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx5bvsCFchloZTuwmf7DA5snIWW9NboBWMKZS8Z4Viy",
];
// Real keys of the other types (ssh-keygen), for the decoding checks.
const ECDSA_KEY =
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGtOU/2bLFgh2qBfS485WsqSJbkgIdtPVEFvTHKkByQdCPkMdl3Aq/4MZJx1niKWO8JwWELXPTdMX2yZjkLuZ4w=";
const RSA_KEY =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDYIGSoxuB+HVZrm5J23eF/UKyd6w4a7HTiEHQdilPC9XKuzxBgoXRM9G+Y7afzS+nyoDJPM+1PQnAlM9iE3N52H3CXZqqu4asdFQ7RWWlAvk2jJrjqcjl88+5u9sB+gR5k3tsIMEYjsWfMRm+tOH9+rHp5/i3uOw0OdYF/Ewm0RqEwigox7aHl3RUlBI8l8dake82Cx/ksidBo+IQjx/0BZPYakEZQXuERJ4CnvtUmjrvr4djrdvOLc+7dMvPwM1u92d1i4hvAD3AHtn+A105iQq0iCxDFbtGX+L3Rnhx+uM1YC59hm74ohMN8vtZ0XeP5AS4G8ApPxga5XtfFyLP7";

function valid(): Record<string, any> {
  return {
    ssh: { privateKeyPath: "/home/op/.ssh/id_ed25519" },
    hosts: [
      { name: "cp-1", address: "10.0.0.11", hostKey: KEYS[0], roles: ["control-plane"] },
      { name: "cp-2", address: "10.0.0.12", hostKey: KEYS[1], roles: ["control-plane"] },
      { name: "cp-3", address: "10.0.0.13", hostKey: KEYS[2], roles: ["control-plane"] },
      { name: "w-1", address: "w-1.example.net", hostKey: KEYS[3] },
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
  assert.equal(spec.cluster.kubernetesVersion, "1.36.3");
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

// The fixed halves of the messages below.
const KEY_FIX =
  'use an optional lowercase DNS-subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, e.g. "node.example.com/pool"';
const VALUE_FIX = 'use at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, or an empty value';
const RESERVED_WHY =
  "(labels under kubernetes.io, k8s.io and their subdomains are set by Kubernetes itself; the kubelet refuses to start with them in its --node-labels, except its well-known ones such as topology.kubernetes.io/zone and node.kubernetes.io/*)";
const HTTPS_CREDENTIALS =
  'the https URL carries credentials before "@" (not repeated here), which would sit in plain text in the stack file and in Argo CD: ' +
  "remove the user and password from the URL and give repository credentials as a secret instead (for a private repository: an SSH URL and the deployKey secret), and revoke the token";
const FIX = (t: string) => `copy the key again, whole and unchanged, from \`ssh-keyscan -t ${t} <address>\` (without the host name), after checking its fingerprint out of band`;

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
    ['cluster.kubernetesVersion: "latest" is not a pinned Kubernetes version: use "1.<minor>.<patch>", e.g. "1.36.3"']],
  ["flannel without a bundle", (c) => { c.cluster = { cni: "flannel" }; },
    ["cluster.cni: flannel comes from an air-gapped bundle (its CNI plugin is installed from the bundle): set cluster.offlineBundleDir to a bundle from scripts/bundle/build, or use cni: calico"]],
  ["Kubernetes minor past its end of life", (c) => { c.cluster = { kubernetesVersion: "1.34.2" }; },
    ['cluster.kubernetesVersion: 1.34.2: Kubernetes 1.34 is not supported by ironroot (past its end of life, or not released): use one of 1.35.0-1.35.4, 1.36.0-1.36.3, 1.37.0-1.37.2, e.g. "1.36.3"']],
  ["Kubernetes minor not released", (c) => { c.cluster = { kubernetesVersion: "1.40.0" }; },
    ['cluster.kubernetesVersion: 1.40.0: Kubernetes 1.40 is not supported by ironroot (past its end of life, or not released): use one of 1.35.0-1.35.4, 1.36.0-1.36.3, 1.37.0-1.37.2, e.g. "1.36.3"']],
  ["Kubernetes patch that does not exist", (c) => { c.cluster = { kubernetesVersion: "1.36.99" }; },
    ['cluster.kubernetesVersion: 1.36.99: no such 1.36 patch is known to ironroot (the newest is 1.36.3): use "1.36.3", or add the patch to components/config/kubernetesReleases.ts after checking its kubeadm image versions']],
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
  ["control planes with different etcd data dirs", (c) => { c.hosts[1].etcdDataDir = "/mnt/nvme/etcd"; c.hosts[2].etcdDataDir = "/mnt/nvme/etcd"; },
    ["hosts[].etcdDataDir: the control planes differ (/var/lib/etcd on hosts[0] (cp-1); /mnt/nvme/etcd on hosts[1] (cp-2), hosts[2] (cp-3)): kubeadm keeps one etcd data dir for the whole cluster; give every control plane the same etcdDataDir"]],
  ["a fail threshold that turns the disk gate off", (c) => { c.diskBenchmark = { failP99Ms: 500, warnP99Ms: 10 }; },
    ["diskBenchmark.failP99Ms: 500 is too large: use at most 100: etcd's heartbeat interval is 100 ms, so a higher threshold turns the gate off; to accept one slow disk on purpose, name its host in diskBenchmark.allowSlowDisk"]],
  ["a kubelet rollout over every node at once", (c) => { c.kubelet = { rollout: { parallelism: 4 } }; },
    ["kubelet.rollout.parallelism: 4 with 4 hosts changes every node at once, with nowhere to move their pods: use at most 3"]],
  ["a drain timeout of a day", (c) => { c.kubelet = { rollout: { drainTimeoutSeconds: 86400 } }; },
    ["kubelet.rollout.drainTimeoutSeconds: 86400 is too large: use at most 3600: an hour: a drain that takes longer is stuck on a PodDisruptionBudget a person must look at"]],
  ["relative etcd data dir", (c) => { c.hosts[0].etcdDataDir = "var/lib/etcd"; },
    ['hosts[0].etcdDataDir: "var/lib/etcd" is not an absolute path: start it with "/"']],

  // Kubernetes names: label keys and values, taints (Kubernetes' own rules).
  ["label key with two slashes", (c) => { c.hosts[3].labels = { "node.example.com/pool/big": "yes" }; },
    [`hosts[3].labels["node.example.com/pool/big"]: "node.example.com/pool/big" is not a valid label key (it has more than one "/"): ${KEY_FIX}`]],
  ["label key prefix not a DNS subdomain", (c) => { c.hosts[3].labels = { "Example.com/pool": "big" }; },
    [`hosts[3].labels["Example.com/pool"]: "Example.com/pool" is not a valid label key (its prefix "Example.com" is not a lowercase DNS subdomain): ${KEY_FIX}`]],
  ["label key prefix too long", (c) => { c.hosts[3].labels = { [`${"a".repeat(254)}/pool`]: "big" }; },
    [`hosts[3].labels["${"a".repeat(254)}/pool"]: "${"a".repeat(254)}/pool" is not a valid label key (its prefix is 254 characters long; at most 253): ${KEY_FIX}`]],
  ["label key with an empty name", (c) => { c.hosts[3].labels = { "example.com/": "big" }; },
    [`hosts[3].labels["example.com/"]: "example.com/" is not a valid label key (the name after "/" is empty): ${KEY_FIX}`]],
  ["label key with an empty prefix", (c) => { c.hosts[3].labels = { "/pool": "big" }; },
    [`hosts[3].labels["/pool"]: "/pool" is not a valid label key (the prefix before "/" is empty): ${KEY_FIX}`]],
  ["label name too long", (c) => { c.hosts[3].labels = { [`example.com/${"p".repeat(64)}`]: "big" }; },
    [`hosts[3].labels["example.com/${"p".repeat(64)}"]: "example.com/${"p".repeat(64)}" is not a valid label key (its name is 64 characters long; at most 63): ${KEY_FIX}`]],
  ["label name ending in a dash", (c) => { c.hosts[3].labels = { "pool-": "big" }; },
    [`hosts[3].labels["pool-"]: "pool-" is not a valid label key (it must start and end with a letter or digit): ${KEY_FIX}`]],
  ["label name with a space", (c) => { c.hosts[3].labels = { "example.com/pool type": "big" }; },
    [`hosts[3].labels["example.com/pool type"]: "example.com/pool type" is not a valid label key (its name has characters other than letters, digits, "-", "_" and "."): ${KEY_FIX}`]],
  ["label value with a space", (c) => { c.hosts[3].labels = { pool: "big pool" }; },
    [`hosts[3].labels.pool: the value "big pool" is not a valid label value (it has characters other than letters, digits, "-", "_" and "."): ${VALUE_FIX}`]],
  ["label value too long", (c) => { c.hosts[3].labels = { pool: "b".repeat(64) }; },
    [`hosts[3].labels.pool: the value "${"b".repeat(64)}" is not a valid label value (it is 64 characters long; at most 63): ${VALUE_FIX}`]],
  ["label key and value both bad", (c) => { c.hosts[3].labels = { "_pool": "-big" }; },
    [
      `hosts[3].labels["_pool"]: "_pool" is not a valid label key (it must start and end with a letter or digit): ${KEY_FIX}`,
      `hosts[3].labels["_pool"]: the value "-big" is not a valid label value (it must start and end with a letter or digit): ${VALUE_FIX}`,
    ]],
  ["node-role label", (c) => { c.hosts[3].labels = { "node-role.kubernetes.io/worker": "" }; },
    [`hosts[3].labels["node-role.kubernetes.io/worker"]: the prefix "node-role.kubernetes.io" is reserved for Kubernetes ${RESERVED_WHY}: give the host its role in hosts[].roles (kubeadm labels control planes node-role.kubernetes.io/control-plane itself); for a label of your own use a prefix of your own, e.g. "node.example.com/worker"`]],
  ["label under kubernetes.io itself", (c) => { c.hosts[3].labels = { "kubernetes.io/pool": "big" }; },
    [`hosts[3].labels["kubernetes.io/pool"]: the prefix "kubernetes.io" is reserved for Kubernetes ${RESERVED_WHY}: use a prefix of your own, e.g. "node.example.com/pool"`]],
  ["label under a subdomain of kubernetes.io", (c) => { c.hosts[3].labels = { "cloud.kubernetes.io/pool": "big" }; },
    [`hosts[3].labels["cloud.kubernetes.io/pool"]: the prefix "cloud.kubernetes.io" is reserved for Kubernetes ${RESERVED_WHY}: use a prefix of your own, e.g. "node.example.com/pool"`]],
  ["label under k8s.io", (c) => { c.hosts[3].labels = { "k8s.io/pool": "big", "x.k8s.io/rack": "r1" }; },
    [
      `hosts[3].labels["k8s.io/pool"]: the prefix "k8s.io" is reserved for Kubernetes ${RESERVED_WHY}: use a prefix of your own, e.g. "node.example.com/pool"`,
      `hosts[3].labels["x.k8s.io/rack"]: the prefix "x.k8s.io" is reserved for Kubernetes ${RESERVED_WHY}: use a prefix of your own, e.g. "node.example.com/rack"`,
    ]],
  ["taint key not a qualified name", (c) => { c.hosts[3].taints = [{ key: "dedicated db", effect: "NoSchedule" }]; },
    [`hosts[3].taints[0].key: "dedicated db" is not a valid taint key (it has characters other than letters, digits, "-", "_" and "."): ${KEY_FIX}`]],
  ["empty taint key", (c) => { c.hosts[3].taints = [{ key: "", effect: "NoSchedule" }]; },
    [`hosts[3].taints[0].key: "" is not a valid taint key (it is empty): ${KEY_FIX}`]],
  ["taint value not a label value", (c) => { c.hosts[3].taints = [{ key: "example.com/dedicated", value: "db-", effect: "NoExecute" }]; },
    [`hosts[3].taints[0].value: "db-" is not a valid taint value (it must start and end with a letter or digit): ${VALUE_FIX}`]],
  ["unknown taint effect", (c) => { c.hosts[3].taints = [{ key: "dedicated", value: "db", effect: "NoSchedul" }]; },
    ['hosts[3].taints[0].effect: "NoSchedul" is not one of: NoSchedule, PreferNoSchedule, NoExecute']],

  // Networks: host bits, and a pod network with a /24 for every node.
  ["pod CIDR with host bits set", (c) => { c.cluster = { podCidr: "10.244.1.0/16" }; },
    ['cluster.podCidr: "10.244.1.0/16" has host bits set (a /16 starts at 10.244.0.0): use the network address "10.244.0.0/16"']],
  ["service CIDR with host bits set", (c) => { c.cluster = { serviceCidr: "10.96.0.1/12" }; },
    ['cluster.serviceCidr: "10.96.0.1/12" has host bits set (a /12 starts at 10.96.0.0): use the network address "10.96.0.0/12"']],
  ["pod CIDR smaller than one node's block", (c) => { c.hosts = [c.hosts[0]]; c.cluster = { podCidr: "10.244.0.0/25" }; },
    ['cluster.podCidr: "10.244.0.0/25" is smaller than one /24, but the host needs one (the controller manager gives every node a /24 of the pod network): use a /24 or larger, e.g. "10.244.0.0/24"']],
  ["pod CIDR with fewer /24 blocks than hosts", (c) => { c.cluster = { podCidr: "10.244.0.0/23" }; },
    ['cluster.podCidr: "10.244.0.0/23" holds 2 blocks of /24, but each of the 4 hosts needs its own (the controller manager gives every node a /24 of the pod network): use a /22 or larger, e.g. "10.244.0.0/22"']],
  ["pod CIDR of a single /24 for 4 hosts", (c) => { c.cluster = { podCidr: "192.168.7.0/24" }; },
    ['cluster.podCidr: "192.168.7.0/24" holds 1 block of /24, but each of the 4 hosts needs its own (the controller manager gives every node a /24 of the pod network): use a /22 or larger, e.g. "192.168.4.0/22"']],
  ["pod CIDR wider than kubeadm allows", (c) => { c.cluster = { podCidr: "12.0.0.0/7" }; },
    ['cluster.podCidr: "12.0.0.0/7" is too large: kubeadm allows at most 16 bits between its prefix and the /24 each node gets: use a /8 or smaller, e.g. "12.0.0.0/8"']],

  // Repository credentials never sit in the URL, and are never echoed.
  ["user and token in an https repo URL", (c) => { c.gitops.repoUrl = "https://oauth2:glpat-s3cr3t@git.example.net/org/cluster.git"; },
    [`gitops.repoUrl: ${HTTPS_CREDENTIALS}`]],
  ["a token alone in an https repo URL", (c) => { c.gitops.repoUrl = "https://ghp_s3cr3t@github.com/org/cluster.git"; },
    [`gitops.repoUrl: ${HTTPS_CREDENTIALS}`]],
  ["a password in an ssh repo URL", (c) => { c.gitops = { repoUrl: "ssh://git:s3cr3t@git.example.net/org/cluster.git", knownHosts: "git.example.net ssh-ed25519 AAAA" }; c.deployKey = { secret: "deployKey" }; },
    ['gitops.repoUrl: the ssh URL carries a password before "@" (not repeated here): remove the password from the URL: SSH repositories authenticate with the deployKey secret']],
  ["credentials in a URL that is not a git URL", (c) => { c.gitops.repoUrl = "http://oauth2:s3cr3t@git.example.net/org/cluster.git"; },
    ['gitops.repoUrl: "http://***@git.example.net/org/cluster.git" is not a git repository URL: use "git@host:org/repo.git", "ssh://git@host/org/repo.git" or "https://host/org/repo.git"']],
  ["deploy key with an https repo URL", (c) => { c.deployKey = { secret: "deployKey" }; },
    ['deployKey: the deployKey secret is set but gitops.repoUrl is an https URL, which does not use it (the key would be silently ignored): use an SSH URL (e.g. "git@host:org/repo.git") or remove the deployKey secret (`pulumi config rm deployKey`)']],

  // Host keys that only look right.
  ["host key cut short", (c) => { c.hosts[1].hostKey = KEYS[1].slice(0, -4); },
    [`hosts[1].hostKey: "${KEYS[1].slice(0, -4)}" does not decode to a whole ssh-ed25519 public key (48 bytes; an ssh-ed25519 key is 51, so it was cut short or altered): ${FIX("ed25519")}`]],
  ["host key with a character lost", (c) => { c.hosts[1].hostKey = KEYS[1].slice(0, 40) + KEYS[1].slice(41); },
    [`hosts[1].hostKey: "${KEYS[1].slice(0, 40) + KEYS[1].slice(41)}" does not decode to a whole ssh-ed25519 public key (it was cut short or altered): ${FIX("ed25519")}`]],
  ["host key declared with the wrong type", (c) => { c.hosts[1].hostKey = KEYS[1].replace("ssh-ed25519", "ssh-rsa"); },
    [`hosts[1].hostKey: "${KEYS[1].replace("ssh-ed25519", "ssh-rsa")}" is declared ssh-rsa but its base64 holds an ssh-ed25519 key: ${FIX("ed25519")}`]],
  ["host key type and key from different lines", (c) => { c.hosts[1].hostKey = `ssh-ed25519 ${RSA_KEY.split(" ")[1]}`; },
    [`hosts[1].hostKey: "ssh-ed25519 ${RSA_KEY.split(" ")[1].slice(0, 28)}...${RSA_KEY.slice(-16)}" is declared ssh-ed25519 but its base64 holds an ssh-rsa key: ${FIX("rsa")}`]],
  ["host key that is base64 of something else", (c) => { c.hosts[1].hostKey = "ssh-ed25519 aGVsbG8gd29ybGQ="; },
    [`hosts[1].hostKey: "ssh-ed25519 aGVsbG8gd29ybGQ=" does not decode to an SSH public key (its base64 was cut short or altered, or is not a public key): ${FIX("ed25519")}`]],
  ["ecdsa host key cut short", (c) => { c.hosts[1].hostKey = ECDSA_KEY.slice(0, -8); },
    [`hosts[1].hostKey: "${ECDSA_KEY.slice(0, 40)}...${ECDSA_KEY.slice(-24, -8)}" does not decode to a whole ecdsa-sha2-nistp256 public key (it was cut short or altered): ${FIX("ecdsa")}`]],
  ["bastion host key cut short", (c) => { c.ssh.bastion = { address: "bastion.example.net", hostKey: KEYS[3].slice(0, -4) }; },
    [`ssh.bastion.hostKey: "${KEYS[3].slice(0, -4)}" does not decode to a whole ssh-ed25519 public key (48 bytes; an ssh-ed25519 key is 51, so it was cut short or altered): ${FIX("ed25519")}`]],

  ["the same host key on two hosts", (c) => { c.hosts[3].hostKey = c.hosts[1].hostKey; },
    ["hosts[3].hostKey: w-1 has the same host key as hosts[1] (cp-2): two machines share a host key only when one is a clone of the other; pin each host's own key (`ssh-keyscan <address>`, checked out of band), or give a cloned machine new host keys"]],

  // Settings under a namespace one slip away from ironroot's, as the loaders hand them on.
  ["a setting under a misspelled namespace", (c) => { c["ironrot:hosts"] = null; },
    ['ironrot:hosts: the namespace "ironrot" is not "ironroot", so this setting would be silently ignored: rename the key to ironroot:hosts']],
  ["a setting under a capitalized namespace", (c) => { c["Ironroot:cluster"] = null; },
    ['Ironroot:cluster: the namespace "Ironroot" is not "ironroot", so this setting would be silently ignored: rename the key to ironroot:cluster']],
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

test("the labels the kubelet itself accepts under kubernetes.io are allowed: zones, regions, node.kubernetes.io/*", () => {
  const raw = valid();
  raw.hosts[3].labels = { "topology.kubernetes.io/zone": "fra-1", "topology.kubernetes.io/region": "eu", "node.kubernetes.io/pool": "big" };
  assert.deepEqual(parseStack("t", raw).hosts[3].labels, raw.hosts[3].labels);
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

test("Kubernetes names that follow Kubernetes' rules are accepted", () => {
  const raw = valid();
  raw.hosts[3].labels = {
    pool: "big",
    "node.example.com/pool": "",
    "example.com/a_b.c-d": "A_b.c-9",
    [`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}/${"n".repeat(63)}`]: "v".repeat(63),
    "kubernetes.example.com/x": "y",
    "notkubernetes.io/x": "y",
  };
  raw.hosts[3].taints = [
    { key: "dedicated", value: "db", effect: "NoSchedule" },
    { key: "example.com/gpu", effect: "PreferNoSchedule" },
    { key: "example.com/maintenance", value: "", effect: "NoExecute" },
  ];
  const spec = parseStack("t", raw);
  assert.equal(Object.keys(spec.hosts[3].labels).length, 6);
  assert.equal(spec.hosts[3].taints.length, 3);
});

test("pod networks with a /24 for every host are accepted, and a CIDR on its network address", () => {
  for (const podCidr of ["10.244.0.0/22", "10.244.0.0/16", "10.0.0.0/8".replace("10.", "11.")]) {
    assert.equal(parseStack("t", { ...valid(), cluster: { podCidr } }).cluster.podCidr, podCidr);
  }
  const one = valid();
  one.hosts = [one.hosts[0]];
  assert.equal(parseStack("t", { ...one, cluster: { podCidr: "10.244.0.0/24" } }).hosts.length, 1);
});

test("host keys of every type ssh-keyscan prints are accepted when whole", () => {
  for (const [i, key] of [ECDSA_KEY, RSA_KEY, `  ${KEYS[2]}  `].entries()) {
    const raw = valid();
    raw.hosts[i].hostKey = key;
    assert.equal(parseStack("t", raw).hosts[i].hostKey, key);
  }
});

test("the example stack's host keys decode, and no two hosts share one", () => {
  const spec = loadStackFile(resolve(__dirname, "../../stacks"), "example");
  assert.deepEqual(duplicateHostKeyProblems(spec.hosts.map((h, i) => ({ h, i }))), []);
});

// [what is wrong, the hosts' keys by index, the exact problems reported]
const DUPLICATE_KEYS: [string, string[], string[]][] = [
  ["every host its own key", [KEYS[0], KEYS[1], KEYS[2], KEYS[3]], []],
  ["one key pasted twice", [KEYS[0], KEYS[1], KEYS[1], KEYS[3]],
    ["hosts[2].hostKey: cp-3 has the same host key as hosts[1] (cp-2): two machines share a host key only when one is a clone of the other; pin each host's own key (`ssh-keyscan <address>`, checked out of band), or give a cloned machine new host keys"]],
  ["one key on three hosts, each named with the first", [KEYS[2], KEYS[1], KEYS[2], ` ${KEYS[2]}`],
    [
      "hosts[2].hostKey: cp-3 has the same host key as hosts[0] (cp-1): two machines share a host key only when one is a clone of the other; pin each host's own key (`ssh-keyscan <address>`, checked out of band), or give a cloned machine new host keys",
      "hosts[3].hostKey: w-1 has the same host key as hosts[0] (cp-1): two machines share a host key only when one is a clone of the other; pin each host's own key (`ssh-keyscan <address>`, checked out of band), or give a cloned machine new host keys",
    ]],
];

for (const [what, keys, expected] of DUPLICATE_KEYS) {
  test(`duplicate host keys: ${what}`, () => {
    const raw = valid();
    const hosts = raw.hosts.map((h: Record<string, unknown>, i: number) => ({ h: host.parse({ ...h, hostKey: keys[i] }) as HostConfig, i }));
    assert.deepEqual(duplicateHostKeyProblems(hosts), expected);
  });
}

test("no message about a repo URL repeats the credentials in it", () => {
  for (const repoUrl of ["https://oauth2:s3cr3t@git.example.net/x.git", "https://s3cr3t@github.com/x.git", "ssh://git:s3cr3t@h/x.git", "http://u:s3cr3t@h/x.git", "HTTPS://u:s3cr3t@h/x.git"]) {
    const raw = valid();
    raw.gitops.repoUrl = repoUrl;
    const found = problems(raw).join("\n");
    assert.match(found, /gitops\.repoUrl/);
    assert.doesNotMatch(found, /s3cr3t/, repoUrl);
  }
});

// [config key, whether its namespace looks like a misspelling of ironroot's]
const NAMESPACES: [string, boolean][] = [
  ["ironrot:hosts", true],
  ["ironroots:ssh", true],
  ["Ironroot:ssh", true],
  ["IRONROOT:ssh", true],
  ["irnoroot:ssh", true],
  ["ironrooot:cluster", true],
  ["iornroto:ssh", false],
  ["ironroot:hosts", false],
  ["aws:region", false],
  ["pulumi:tags", false],
  ["kubernetes:context", false],
  ["iron:hosts", false],
  ["ironroot", false],
];

for (const [key, flagged] of NAMESPACES) {
  test(`namespace of ${key}: ${flagged ? "a misspelling of ironroot" : "left alone"}`, () => {
    assert.equal(isMisspelledNamespace(key), flagged);
  });
}

test("edit distance counts insertions, deletions and substitutions", () => {
  assert.equal(editDistance("ironroot", "ironroot"), 0);
  assert.equal(editDistance("ironrot", "ironroot"), 1);
  assert.equal(editDistance("irnoroot", "ironroot"), 2);
  assert.equal(editDistance("", "abc"), 3);
});

test("the engine loader hands a misspelled namespace's keys on whole, without their values", () => {
  const raw = rawConfigFromEngine({
    "ironroot:layers": "hosts",
    "ironrot:hosts": JSON.stringify([{ name: "a" }]),
    "ironroots:deployKey": "-----BEGIN OPENSSH PRIVATE KEY----- value",
    "aws:region": "eu-central-1",
    "pulumi:tags": "{}",
  });
  assert.deepEqual(raw, { layers: "hosts", "ironrot:hosts": null, "ironroots:deployKey": null });
  const found = problems({ ...valid(), ...raw });
  assert.deepEqual(found, [
    'ironrot:hosts: the namespace "ironrot" is not "ironroot", so this setting would be silently ignored: rename the key to ironroot:hosts',
    'ironroots:deployKey: the namespace "ironroots" is not "ironroot", so this setting would be silently ignored: rename the key to ironroot:deployKey',
  ]);
});

test("the stack file loader reports a misspelled namespace the same way, and leaves other namespaces alone", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-config-"));
  try {
    const example = rawConfigFromStackFile(resolve(__dirname, "../../stacks/Pulumi.example.yaml"), "example");
    const config: Record<string, unknown> = Object.fromEntries(Object.entries(example).map(([k, v]) => [`ironroot:${k}`, v]));
    config["ironroot:deployKey"] = { secure: "v1:AAAA:placeholder" };
    config["Ironroot:diskBenchmark"] = { runs: 5 };
    config["ironrot:sealingKey"] = { secure: "v1:AAAA:placeholder" };
    config["aws:region"] = "eu-central-1";
    config["pulumi:tags"] = { team: "platform" };
    writeFileSync(join(dir, "Pulumi.typo.yaml"), JSON.stringify({ config }));
    assert.throws(() => loadStackFile(dir, "typo"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.problems, [
        'Ironroot:diskBenchmark: the namespace "Ironroot" is not "ironroot", so this setting would be silently ignored: rename the key to ironroot:diskBenchmark',
        'ironrot:sealingKey: the namespace "ironrot" is not "ironroot", so this setting would be silently ignored: rename the key to ironroot:sealingKey',
      ]);
      return true;
    });
    delete config["Ironroot:diskBenchmark"];
    delete config["ironrot:sealingKey"];
    writeFileSync(join(dir, "Pulumi.typo.yaml"), JSON.stringify({ config }));
    assert.equal(loadStackFile(dir, "typo").hosts.length, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a stack file over 1 MiB is refused at once with its size, instead of hanging the YAML parser", () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-big-stack-"));
  const hosts = Array.from({ length: 60_000 }, (_, i) => `  ironroot:junk${i}: ${"x".repeat(20)}`).join("\n");
  writeFileSync(join(dir, "Pulumi.big.yaml"), `config:\n${hosts}\n`);
  assert.throws(() => loadStackFile(dir, "big"), (e: Error) => {
    assert.match(e.message, /Pulumi\.big\.yaml: the stack file is 2\.\d MiB; ironroot reads stack files up to 1 MiB: keep only the stack's settings in it/);
    return true;
  });
});

test("every number in the schema has an upper bound as well as a lower one", () => {
  const unbounded: string[] = [];
  const walk = (path: string, s: Record<string, any>) => {
    if (!s || typeof s !== "object") return;
    if ((s.type === "number" || s.type === "integer") && (s.maximum === undefined || (s.minimum === undefined && s.exclusiveMinimum === undefined))) unbounded.push(path);
    for (const [k, v] of Object.entries(s.properties ?? {})) walk(`${path}.${k}`, v as Record<string, any>);
    for (const v of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) walk(path, v);
    if (s.items) walk(`${path}[]`, s.items);
    if (typeof s.additionalProperties === "object") walk(`${path}.<name>`, s.additionalProperties);
  };
  for (const [name, schema] of Object.entries(sections)) {
    const s = name === "hosts" ? z.array(host) : schema;
    walk(name, z.toJSONSchema(s as z.ZodType, { io: "input", unrepresentable: "any" }) as Record<string, any>);
  }
  assert.deepEqual(unbounded, []);
});
