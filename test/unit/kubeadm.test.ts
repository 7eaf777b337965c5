import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { test } from "node:test";
import { parseStack, type StackSpec } from "../../components/config/schema";
import { factsScript } from "../../components/plan/facts";
import { inventory } from "../../components/plan/inventory";
import { membershipOrder, planKubeadm, type KubeadmClusterPlan, type KubeletFile } from "../../components/plan/kubeadm";
import { renderKubeadm } from "../../components/render/kubeadm";
import { parseBundleManifest, verifyBundleShell } from "../../components/plan/kubeadm/bundle";
import { endpointPlan } from "../../components/plan/kubeadm/endpoint";
import { aptRepoUrl, debVersion, kubeadmApiVersion } from "../../components/plan/kubeadm/versions";
import { versionGuard } from "../../components/plan/kubeadm/packages";
import { assertGolden, assertGoldenTree, goldenRole, onePerRole } from "../support/golden";
import { shellcheckAll, shellcheckMissing } from "../support/shellcheck";

// Each host its own key: two hosts with one key are refused.
const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII0YoMFknvSwp1YhOYTWEMp2u4d629TZXVhlQsjRCXSW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2Gap9S3krebMQ6RC5StRGzGx6BZHbHMor6StgSYAAW",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEx5bvsCFchloZTuwmf7DA5snIWW9NboBWMKZS8Z4Viy",
];

function stack(name: string, hosts: { name: string; address: string; roles: string[]; labels?: Record<string, string>; remove?: true | "dead" }[], cluster: Record<string, unknown> = {}): StackSpec {
  return parseStack(name, {
    ssh: { privateKeyPath: "/root/.ssh/id_ed25519" },
    hosts: hosts.map((h, i) => ({ ...h, hostKey: KEYS[i] })),
    cluster: { name, ...cluster },
    gitops: { repoUrl: "https://git.example.org/cluster.git" },
  });
}

const ONE_CP = stack("single", [{ name: "cp-1", address: "192.0.2.10", roles: ["control-plane", "worker"] }]);
const THREE_CP = stack("ha", [
  { name: "cp-1", address: "192.0.2.11", roles: ["control-plane"] },
  { name: "cp-2", address: "192.0.2.12", roles: ["control-plane"] },
  { name: "cp-3", address: "192.0.2.13", roles: ["control-plane"] },
  { name: "worker-1", address: "192.0.2.21", roles: ["worker"], labels: { "node.ironroot.dev/pool": "general" } },
]);
const VIP = stack("vip", THREE_CP.hosts.slice(0, 3).map((h) => ({ name: h.name, address: h.address, roles: h.roles })), {
  endpoint: { mode: "vip", address: "192.0.2.100", interface: "ens3" },
});
const DNS = stack("dns", [{ name: "cp-1", address: "192.0.2.10", roles: ["control-plane"] }], {
  endpoint: { mode: "dns", host: "api.example.org", port: 443 },
});

function kubeletFiles(spec: StackSpec): Record<string, KubeletFile> {
  return Object.fromEntries(spec.hosts.map((h) => [h.name, {
    path: "/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf",
    content: `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 110\n# ${h.name}\n`,
  }]));
}

function plan(spec: StackSpec): KubeadmClusterPlan {
  return planKubeadm(spec, inventory(spec), { kubelet: kubeletFiles(spec) });
}

/** Every file a plan produces: what `render` writes for it. */
function files(p: KubeadmClusterPlan): Map<string, string> {
  return renderKubeadm(p);
}

// cp-3 is taken out while reachable, worker-1 as dead.
const REMOVAL = stack("removal", [
  { name: "cp-1", address: "192.0.2.11", roles: ["control-plane"] },
  { name: "cp-2", address: "192.0.2.12", roles: ["control-plane"] },
  { name: "cp-3", address: "192.0.2.13", roles: ["control-plane"], remove: true },
  { name: "worker-1", address: "192.0.2.21", roles: ["worker"], remove: "dead" },
]);

test("a removal plan: the steps in words and the scripts, dead hosts first, nothing for the host marked dead", () => {
  const removal = new Map([...files(plan(REMOVAL))].filter(([rel]) => rel.includes("/removal/")));
  assertGoldenTree("kubeadm/removal", removal);
  assert.deepEqual(plan(REMOVAL).removals.map((r) => r.name), ["worker-1", "cp-3"]);
  assert.deepEqual(plan(REMOVAL).nodes.map((n) => n.name), ["cp-1", "cp-2"]);
});

for (const [label, spec] of [["1-control-plane", ONE_CP], ["3-control-plane", THREE_CP], ["vip", VIP], ["dns", DNS]] as const) {
  test(`kubeadm plan for the ${label} stack matches the golden files`, () => {
    const p = plan(spec);
    assertGoldenTree(`kubeadm/${label}`, onePerRole(files(p), p.nodes.map((n) => ({ name: n.name, role: goldenRole(n) }))));
  });
}

test("every generated kubeadm script passes shellcheck -s bash", { skip: shellcheckMissing() }, () => {
  const scripts = [ONE_CP, THREE_CP, VIP, DNS, REMOVAL].flatMap((spec) =>
    [...files(plan(spec))].filter(([rel]) => rel.endsWith(".sh")).map(([rel, content]) => [`${spec.stack}/${rel}`, content] as [string, string]),
  );
  assert.deepEqual(shellcheckAll(scripts), []);
});

test("versions: repository per minor, exact Debian package version, kubeadm API by release", () => {
  assert.equal(aptRepoUrl("1.36.3"), "https://pkgs.k8s.io/core:/stable:/v1.36/deb/");
  assert.equal(debVersion("1.36.3"), "1.36.3-1.1");
  for (const [v, api] of [["1.30.9", "kubeadm.k8s.io/v1beta3"], ["1.31.0", "kubeadm.k8s.io/v1beta4"], ["1.36.3", "kubeadm.k8s.io/v1beta4"]]) {
    assert.equal(kubeadmApiVersion(v), api, v);
  }
});

test("the endpoint and certificate SANs for each mode", () => {
  const table: [StackSpec, string, string[], string][] = [
    [THREE_CP, "127.0.0.1:6444", ["127.0.0.1", "localhost", "192.0.2.11", "192.0.2.12", "192.0.2.13"], "https://192.0.2.11:6443"],
    [VIP, "192.0.2.100:6443", ["127.0.0.1", "localhost", "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.100"], "https://192.0.2.100:6443"],
    [DNS, "api.example.org:443", ["127.0.0.1", "localhost", "192.0.2.10", "api.example.org"], "https://api.example.org:443"],
  ];
  for (const [spec, cpe, sans, external] of table) {
    const e = endpointPlan(spec.cluster, inventory(spec));
    assert.equal(e.controlPlaneEndpoint, cpe, spec.stack);
    assert.deepEqual(e.certSANs, sans, spec.stack);
    assert.equal(e.externalServer, external, spec.stack);
  }
});

test("credentials never appear in argv: joins read stdin and fill placeholders in-process", () => {
  for (const n of plan(THREE_CP).nodes.filter((x) => !x.initializes)) {
    assert.match(n.kubeadmConfig, /token: <secret:bootstrapToken>/);
    assert.match(n.bootstrap, /kubeadm join --config "\$work\/kubeadm-join.yaml"/);
    assert.doesNotMatch(n.bootstrap, /--token|--certificate-key|--discovery-token/);
    assert.match(n.bootstrap, /umask 077/);
  }
  assert.equal(plan(THREE_CP).nodes.filter((n) => n.isControlPlane && !n.initializes).every((n) => /certificateKey: <secret:certificateKey>/.test(n.kubeadmConfig)), true);
  assert.doesNotMatch(plan(THREE_CP).nodes[3].kubeadmConfig, /certificateKey/);
});

test("the join script fills the credentials from stdin into a private file and removes it", { skip: spawnSync("bash", ["--version"]).status === 0 ? false : "bash is not installed" }, () => {
  const worker = plan(THREE_CP).nodes.find((n) => n.name === "worker-1")!;
  // Run the script up to kubeadm with stand-ins for root-only commands, and
  // capture the config kubeadm would have read.
  const stub = [
    "dpkg-query() { echo 1.36.3-1.1; }",
    "install() { :; }",
    'kubeadm() { cp "$3" "$OUT"; stat -c %a "$3" >"$OUT.mode"; }',
    "export -f dpkg-query install kubeadm",
  ].join("\n");
  const out = execFileSync("mktemp", ["-u"], { encoding: "utf8" }).trim();
  const body = worker.bootstrap.replace("if [ -f /etc/kubernetes/kubelet.conf ]", "if false").replace(/^install -d .*$/m, "").replace(/^tmp=\$\(mktemp '\/etc[^\n]*\n(?:[^\n]*\n)*?mv -f "\$tmp" [^\n]*\n/m, "");
  const r = spawnSync("bash", ["-c", `${stub}\n${body}`], {
    input: "token=abcdef.0123456789abcdef\ncaCertHash=sha256:00ff\n",
    env: { ...process.env, OUT: out },
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const written = execFileSync("cat", [out], { encoding: "utf8" });
  assert.match(written, /token: abcdef\.0123456789abcdef/);
  assert.match(written, /- sha256:00ff/);
  assert.equal(execFileSync("cat", [`${out}.mode`], { encoding: "utf8" }).trim(), "600");
});

test("on a member at another version, the install refuses and names the upgrade that must run first; elsewhere it goes on", () => {
  const guard = versionGuard("cp-1", "1.36.3");
  const asMember = guard.replace("[ -f /etc/kubernetes/kubelet.conf ]", "true");
  const r = spawnSync("bash", ["-c", `dpkg-query() { echo 1.35.4-1.1; }\n${asMember}`], { encoding: "utf8" });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /^cp-1: kubeadm 1\.35\.4-1\.1 is installed but cluster\.kubernetesVersion is 1\.36\.3: this cluster member is upgraded by cp-1-k8s-upgrade before its packages are touched/m);
  const notMember = guard.replace("[ -f /etc/kubernetes/kubelet.conf ]", "false");
  const ok = spawnSync("bash", ["-c", `dpkg-query() { echo 1.35.4-1.1; }\n${notMember}`], { encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(plan(ONE_CP).nodes[0].bootstrap.includes(guard), "init runs the guard");
});

test("wait-ready names every node that is not Ready", () => {
  const script = plan(THREE_CP).waitReady.replace(/deadline=\$\(\(SECONDS \+ \d+\)\)/, "deadline=0");
  const kubectl = `kubectl() { printf 'cp-1=True\\ncp-2=False\\ncp-3=True\\n'; }`;
  const r = spawnSync("bash", ["-c", `${kubectl}\n${script}`], { encoding: "utf8" });
  assert.equal(r.status, 7);
  assert.equal(r.stderr.trim(), "nodes not Ready after 300 s: cp-2 (Ready=False), worker-1 (not registered)");
});

test("the offline bundle manifest: every problem named at once", () => {
  const text = JSON.stringify({
    kubernetesVersion: "1.33.0",
    files: [
      { path: "../etc/passwd", sha256: "0".repeat(64), kind: "deb" },
      { path: "debs/kubeadm.deb", sha256: "XYZ", kind: "deb" },
      { path: "images/pause.tar", sha256: "a".repeat(64), kind: "tarball" },
    ],
  });
  assert.throws(() => parseBundleManifest(text, "/srv/bundle/bundle.json", "1.36.3"), (e: Error) => {
    assert.equal(e.message, [
      "/srv/bundle/bundle.json: 4 problem(s) in the offline bundle manifest:",
      '  - kubernetesVersion: the bundle is for "1.33.0" but cluster.kubernetesVersion pins "1.36.3": build the bundle for 1.36.3',
      '  - files[0].path: "../etc/passwd" must be a relative path inside the bundle folder',
      '  - files[1].sha256: "XYZ" is not a sha256 (64 lowercase hex digits): use the output of `sha256sum debs/kubeadm.deb`',
      '  - files[2].kind: "tarball" is not one of: deb, binary, cni-plugin, systemd-unit, image, cni-manifest',
    ].join("\n"));
    return true;
  });
});

test("the offline bundle check script is the golden one", () => {
  const m = parseBundleManifest(JSON.stringify({ kubernetesVersion: "1.36.3", files: [
    { path: "debs/kubeadm_1.36.3-1.1_amd64.deb", sha256: "1".repeat(64), kind: "deb" },
    { path: "images/pause_3.10.tar", sha256: "2".repeat(64), kind: "image" },
  ] }), "bundle.json", "1.36.3");
  assertGolden("kubeadm/offline/verify-bundle.sh", `${verifyBundleShell(m)}\n`);
});

test("every node is marked with its cluster's name before Kubernetes goes on it, where preflight's facts read it", () => {
  const p = plan(THREE_CP);
  for (const n of p.nodes) {
    const marker = n.steps[0];
    assert.equal(marker.id, "kubeadm/cluster-marker", n.name);
    assert.match(marker.apply, /\/etc\/ironroot\/cluster/);
    assert.match(marker.apply, /'ha'/);
  }
  // The facts script reads the same file.
  assert.match(factsScript("/var/lib/etcd"), /cat \/etc\/ironroot\/cluster/);
});

test("kubelet.allowCgroupV1 writes failCgroupV1: false into the cluster's KubeletConfiguration, and only then", () => {
  const allowed = { ...ONE_CP, kubelet: { ...ONE_CP.kubelet, allowCgroupV1: true } };
  assert.match(plan(allowed).nodes[0].kubeadmConfig, /kind: KubeletConfiguration\ncgroupDriver: systemd\nfailCgroupV1: false\n/);
  assert.match(plan(allowed).nodes[0].kubeadmConfig, /  ignorePreflightErrors:\n    - SystemVerification\n/);
  assert.doesNotMatch(plan(ONE_CP).nodes[0].kubeadmConfig, /failCgroupV1/);
});

test("cluster.conntrackMaxPerCore other than kube-proxy's default adds a KubeProxyConfiguration; the default adds none", () => {
  const zero = stack("single", [{ name: "cp-1", address: "192.0.2.10", roles: ["control-plane", "worker"] }], { conntrackMaxPerCore: 0 });
  assert.match(plan(zero).nodes[0].kubeadmConfig, /---\napiVersion: kubeproxy.config.k8s.io\/v1alpha1\nkind: KubeProxyConfiguration\nconntrack:\n  maxPerCore: 0\n$/);
  assert.doesNotMatch(plan(ONE_CP).nodes[0].kubeadmConfig, /KubeProxyConfiguration/);
});

test("cluster.cni: flannel: every node gets flannel's CNI config step, the cni script applies ironroot's flannel manifest with the pod network, and it passes shellcheck", { skip: shellcheckMissing() }, () => {
  const spec = { ...ONE_CP, cluster: { ...ONE_CP.cluster, cni: "flannel" as const } };
  const p = plan(spec);
  const step = p.nodes[0].steps.find((s) => s.id === "kubeadm/cni-config");
  assert.ok(step, "no kubeadm/cni-config step");
  assert.match(step.apply, /10-flannel\.conflist/);
  assert.match(p.cni, /"Network": "10\.244\.0\.0\/16"/);
  assert.match(p.cni, /ghcr\.io\/flannel-io\/flannel:v0\.27\.4/);
  assert.match(p.cni, /rollout status daemonset\/kube-flannel-ds/);
  assert.deepEqual(shellcheckAll([["cni.sh", p.cni]]), []);
  assert.ok(!plan(ONE_CP).nodes[0].steps.some((s) => s.id === "kubeadm/cni-config"), "calico nodes get no flannel step");
});

test("membership order: the initializer from the hosts first, then control planes one at a time, then workers after all of them", () => {
  const p = plan(THREE_CP);
  const order = membershipOrder(p.nodes, "cp-2").map((m) => `${m.node.name} after [${m.after.join(",")}]${m.afterEveryGate ? " and every gate" : ""}`);
  assert.deepEqual(order, [
    "cp-2 after [] and every gate",
    "cp-1 after [cp-2]",
    "cp-3 after [cp-1]",
    "worker-1 after [cp-1,cp-2,cp-3]",
  ]);
  assert.throws(() => membershipOrder(p.nodes, "worker-1"), /initializer worker-1 is not a control plane/);
});
