import assert from "node:assert/strict";
import { test } from "node:test";
import { argocdValues, haDecision, repositorySecret } from "../../components/plan/argocd";
import { gitopsPlan } from "../../components/plan/gitops";
import { sealedSecretsValues, sealingKeySecret } from "../../components/plan/sealedSecrets";
import { gitopsStack, KNOWN_HOSTS } from "../support/gitopsStack";

type Stack = ReturnType<typeof gitopsStack>;
const haDecisionOf = (s: Stack) => haDecision(s.gitops.argocd.ha, s.hosts);
const argocdValuesOf = (s: Stack) => argocdValues(s.gitops, s.hosts);

const HA_TABLE: { name: string; nodes: number; tainted?: number[]; ha: "auto" | "on" | "off"; expect: boolean; reason: RegExp }[] = [
  { name: "auto, 3 nodes", nodes: 3, ha: "auto", expect: true, reason: /^HA: 3 schedulable nodes/ },
  { name: "auto, 5 nodes", nodes: 5, ha: "auto", expect: true, reason: /^HA: 5 schedulable nodes/ },
  { name: "auto, 2 nodes", nodes: 2, ha: "auto", expect: false, reason: /^not HA: 2 schedulable node\(s\), and Redis HA needs 3/ },
  { name: "auto, 1 node", nodes: 1, ha: "auto", expect: false, reason: /^not HA: 1 schedulable/ },
  { name: "auto, 3 nodes, one tainted", nodes: 3, tainted: [2], ha: "auto", expect: false, reason: /^not HA: 2 schedulable/ },
  { name: "off, 5 nodes", nodes: 5, ha: "off", expect: false, reason: /^gitops.argocd.ha is off/ },
  { name: "on, 1 node", nodes: 1, ha: "on", expect: true, reason: /only 1 schedulable node\(s\): Redis HA pods stay Pending/ },
  { name: "on, 3 nodes", nodes: 3, ha: "on", expect: true, reason: /^gitops.argocd.ha is on: HA on 3/ },
];

for (const row of HA_TABLE) {
  test(`HA decision: ${row.name}`, () => {
    const d = haDecisionOf(gitopsStack({ nodes: row.nodes, tainted: row.tainted, ha: row.ha }));
    assert.equal(d.ha, row.expect);
    assert.match(d.reason, row.reason);
  });
}

const TOLERATION = { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" };

test("HA values: Redis HA, 2 replicas of server, repo server and ApplicationSet, hard anti-affinity, tuning", () => {
  assert.deepEqual(argocdValuesOf(gitopsStack({ nodes: 3 })), {
    global: { tolerations: [TOLERATION], affinity: { podAntiAffinity: "hard" } },
    crds: { install: true, keep: true },
    configs: {
      params: { "controller.status.processors": 20, "controller.operation.processors": 10 },
      ssh: { knownHosts: `${KNOWN_HOSTS}\n` },
    },
    controller: { replicas: 1 },
    server: { replicas: 2 },
    repoServer: { replicas: 2 },
    applicationSet: { replicas: 2 },
    redis: { enabled: false },
    "redis-ha": { enabled: true, tolerations: [TOLERATION], haproxy: { tolerations: [TOLERATION] } },
  });
});

test("non-HA values: single replicas, plain Redis, soft anti-affinity", () => {
  const v = argocdValuesOf(gitopsStack({ nodes: 2 })) as Record<string, any>;
  assert.deepEqual(v.server, { replicas: 1 });
  assert.deepEqual(v.repoServer, { replicas: 1 });
  assert.deepEqual(v.applicationSet, { replicas: 1 });
  assert.deepEqual(v.redis, { enabled: true });
  assert.deepEqual(v["redis-ha"], { enabled: false });
  assert.equal(v.global.affinity.podAntiAffinity, "soft");
});

test("processor counts come from config", () => {
  const v = argocdValuesOf(gitopsStack({ gitops: { argocd: { statusProcessors: 50, operationProcessors: 25 } } })) as Record<string, any>;
  assert.deepEqual(v.configs.params, { "controller.status.processors": 50, "controller.operation.processors": 25 });
});

test("an HTTPS repo leaves the chart's known hosts alone and needs no repository Secret", () => {
  const spec = gitopsStack({ https: true });
  assert.equal((argocdValuesOf(spec) as Record<string, any>).configs.ssh, undefined);
  assert.equal(gitopsPlan(spec).repository, undefined);
});

test("the repository Secret carries the key it is given and the label Argo CD looks for", () => {
  assert.deepEqual(repositorySecret("git@git.example.net:org/cluster.git", "KEY"), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "ironroot-gitops-repo",
      namespace: "argocd",
      labels: { "argocd.argoproj.io/secret-type": "repository", "app.kubernetes.io/managed-by": "ironroot" },
    },
    type: "Opaque",
    stringData: { type: "git", url: "git@git.example.net:org/cluster.git", sshPrivateKey: "KEY" },
  });
});

test("the sealing key Secret is an active TLS key in the controller's namespace", () => {
  assert.deepEqual(sealingKeySecret("kube-system", "CERT", "KEY"), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "sealed-secrets-key-ironroot",
      namespace: "kube-system",
      labels: { "sealedsecrets.bitnami.com/sealed-secrets-key": "active", "app.kubernetes.io/managed-by": "ironroot" },
    },
    type: "kubernetes.io/tls",
    stringData: { "tls.crt": "CERT", "tls.key": "KEY" },
  });
});

test("sealed-secrets values: kubeseal's default controller name and the renewal period", () => {
  assert.deepEqual(sealedSecretsValues(gitopsStack({ gitops: {} }).sealedSecrets), {
    fullnameOverride: "sealed-secrets-controller",
    namespace: "kube-system",
    keyrenewperiod: "720h",
  });
});

test("the GitOps plan: charts, sources of the key, optional wait", () => {
  const p = gitopsPlan(gitopsStack({ waitForHealthy: true }));
  assert.equal(p.clusterIdentifier, "lab");
  assert.deepEqual(p.argocd.chart, { name: "argo-cd", repo: "https://argoproj.github.io/argo-helm", version: "9.1.9" });
  assert.deepEqual(p.sealedSecrets.chart, { name: "sealed-secrets", repo: "https://bitnami-labs.github.io/sealed-secrets", version: "2.17.7" });
  assert.equal(p.sealingKeySource, "generate");
  assert.deepEqual(p.repository, { url: "git@git.example.net:org/cluster.git", secretName: "ironroot-gitops-repo" });
  assert.deepEqual(p.rootAppWait, { timeoutSeconds: 600 });
  assert.equal(gitopsPlan(gitopsStack({ sealingKey: true })).sealingKeySource, "restore");
  assert.equal(gitopsPlan(gitopsStack()).rootAppWait, undefined);
});

test("air-gapped: a local chart path is carried to the plan", () => {
  const p = gitopsPlan(gitopsStack({ gitops: { argocd: { chartPath: "/srv/charts/argo-cd-9.1.9.tgz" } } }));
  assert.equal(p.argocd.chart.path, "/srv/charts/argo-cd-9.1.9.tgz");
});
