import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { isSecret, settle, valueOf, byType } from "../support/mocks";
import { deletionOrder, dependsOnTransitively, registrations } from "../support/monitorSpy";
import { buildPlan } from "../../components/plan";
import { selfSignedCertificate } from "../../components/plan/x509";
import { GitOps } from "../../components/pulumi/GitOps";
import { gitopsStack } from "../support/gitopsStack";

const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {client-key-data: S0VZ}}]\n";
const DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nDEPLOYKEY\n-----END OPENSSH PRIVATE KEY-----\n";

function restoredKey(): string {
  const key = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const { pem } = selfSignedCertificate(
    { serial: Buffer.from([1, 2, 3]), commonName: "sealed-secrets", notBefore: new Date("2025-01-01Z"), notAfter: new Date("2035-01-01Z") },
    key,
  );
  return pem + key;
}

function gitops(name: string, o: Parameters<typeof gitopsStack>[0], sealingKey?: string, sealedNamespace?: string) {
  const spec = gitopsStack(o);
  if (sealedNamespace) spec.sealedSecrets.namespace = sealedNamespace;
  const plan = buildPlan(spec);
  const gitops = plan.cluster.gitops!;
  return new GitOps(name, {
    plan: gitops,
    rootApp: plan.cluster.rootApp!,
    kubeconfig: KUBECONFIG,
    ...(gitops.repository ? { deployKey: DEPLOY_KEY } : {}),
    ...(sealingKey ? { sealingKey } : {}),
  });
}

const SEALING = restoredKey();
const ha = gitops("ha", { nodes: 3, sealingKey: true, waitForHealthy: true }, SEALING);
const small = gitops("small", { nodes: 2, https: true });
const generated = gitops("gen", { nodes: 3 });
gitops("ns", { nodes: 1, https: true, gitops: {} }, undefined, "sealed");

function reg(name: string) {
  const r = registrations.get(name);
  assert.ok(r, `${name} was not registered; registered: ${[...registrations.keys()].join(", ")}`);
  return r;
}

test("GitOps creates the provider, namespaces, key, both releases, repository Secret and root app", async () => {
  await settle();
  const types = Object.fromEntries(
    ["ha-k8s", "ha-argocd", "ha-sealing-key", "ha-sealed-secrets", "ha-repository", "ha-root-app"].map((n) => [n, reg(n).type]),
  );
  assert.deepEqual(types, {
    "ha-k8s": "pulumi:providers:kubernetes",
    "ha-argocd": "kubernetes:helm.sh/v3:Release",
    "ha-sealing-key": "kubernetes:core/v1:Secret",
    "ha-sealed-secrets": "kubernetes:helm.sh/v3:Release",
    "ha-repository": "kubernetes:core/v1:Secret",
    "ha-root-app": "kubernetes:argoproj.io/v1alpha1:Application",
  });
  assert.equal(byType("ironroot:gitops:GitOps").length, 4);
  assert.equal(reg("ha-ns-argocd").type, "kubernetes:core/v1:Namespace");
  // kube-system exists already: no namespace is made for the controller.
  assert.equal(registrations.get("ha-ns-sealed-secrets"), undefined);
  // Every Kubernetes object goes through this component's provider.
  for (const n of ["ha-argocd", "ha-sealing-key", "ha-sealed-secrets", "ha-repository", "ha-root-app"]) {
    assert.match(reg(n).provider, /::ha-k8s::/, `${n} does not use the GitOps provider`);
  }
});

test("ordering: key Secret before the controller, Argo CD ready before the root app", async () => {
  await settle();
  assert.ok(reg("ha-sealed-secrets").dependsOn.includes("ha-sealing-key"));
  const rootDeps = reg("ha-root-app").dependsOn;
  for (const d of ["ha-argocd", "ha-sealed-secrets", "ha-repository"]) assert.ok(rootDeps.includes(d), `root app does not wait for ${d}`);
  assert.ok(reg("ha-argocd").dependsOn.includes("ha-ns-argocd"), "Argo CD release does not wait for its namespace");
  assert.ok(reg("ha-repository").dependsOn.includes("ha-ns-argocd"));
  assert.ok(dependsOnTransitively("ha-root-app").has("ha-sealing-key"));
});

test("destroy order: the root app goes before Argo CD and the controller, so its finalizer is honoured", async () => {
  await settle();
  const order = deletionOrder(["ha-argocd", "ha-sealed-secrets", "ha-sealing-key", "ha-repository", "ha-root-app"]);
  assert.equal(order[0], "ha-root-app");
  assert.ok(order.indexOf("ha-root-app") < order.indexOf("ha-argocd"));
  assert.ok(order.indexOf("ha-sealed-secrets") < order.indexOf("ha-sealing-key"));
});

test("secrets stay secret: kubeconfig, deploy key, sealing key", async () => {
  await settle();
  assert.deepEqual(reg("ha-k8s").secretPaths, ["kubeconfig"]);
  assert.deepEqual(reg("ha-repository").secretPaths, ["stringData"]);
  assert.deepEqual(reg("ha-sealing-key").secretPaths, ["stringData"]);
  assert.ok(await isSecret(ha.sealingKey));
  assert.equal(await valueOf(ha.sealingKey), SEALING, "the exported key is not the restored one");
  assert.deepEqual(reg("gen-sealing-key").secretPaths, ["stringData"]);
  assert.ok(await isSecret(generated.sealingKey));
});

test("a first build generates the key once, with the private key a secret output", async () => {
  await settle();
  const dyn = [...registrations.values()].filter((r) => r.type === "pulumi-nodejs:dynamic/ironroot:SealingKey");
  // One per stack that has no key to restore; none for the restoring "ha".
  assert.deepEqual(dyn.map((r) => r.name).sort(), ["gen-sealing-keypair", "ns-sealing-keypair", "small-sealing-keypair"]);
  assert.deepEqual(dyn[0].additionalSecretOutputs, ["privateKeyPem"]);
  // Protected: losing it would make every sealed secret in git unreadable.
  assert.deepEqual(dyn.map((r) => r.protect), [true, true, true]);
  // Stacks made before the type token changed adopt the new one without a replace.
  assert.deepEqual(dyn[0].aliasTypes, ["pulumi-nodejs:dynamic/gitops:SealingKey"]);
  assert.ok(reg("gen-sealed-secrets").dependsOn.includes("gen-sealing-key"));
  assert.ok(reg("gen-sealing-key").dependsOn.includes("gen-sealing-keypair"), "the key Secret is not built from the generated key");
});

test("the provider keeps its identity across kubeconfig changes", async () => {
  await settle();
  const inputs = byType("pulumi:providers:kubernetes").find((r) => r.name === "ha-k8s")!.inputs;
  assert.equal(inputs.clusterIdentifier, "lab");
  // Provider config reaches the engine as strings.
  assert.equal(inputs.deleteUnreachable, "false");
});

test("Argo CD values: tuning always, HA with 3 nodes, single replicas with 2", async () => {
  await settle();
  const values = (name: string) => byType("kubernetes:helm.sh/v3:Release").find((r) => r.name === name)!.inputs.values as Record<string, any>;
  for (const n of ["ha-argocd", "small-argocd"]) {
    assert.deepEqual(values(n).configs.params, { "controller.status.processors": 20, "controller.operation.processors": 10 });
  }
  assert.equal(values("ha-argocd")["redis-ha"].enabled, true);
  assert.equal(values("ha-argocd").server.replicas, 2);
  assert.equal(values("small-argocd")["redis-ha"].enabled, false);
  assert.equal(values("small-argocd").repoServer.replicas, 1);
  const release = byType("kubernetes:helm.sh/v3:Release").find((r) => r.name === "ha-argocd")!.inputs;
  assert.equal(release.chart, "argo-cd");
  assert.equal(release.version, "9.1.9");
  assert.equal(release.namespace, "argocd");
  assert.equal(release.atomic, true);
  assert.deepEqual(release.repositoryOpts, { repo: "https://argoproj.github.io/argo-helm" });
  const sealed = byType("kubernetes:helm.sh/v3:Release").find((r) => r.name === "ha-sealed-secrets")!.inputs;
  assert.equal(sealed.chart, "sealed-secrets");
  assert.equal((sealed.values as Record<string, unknown>).keyrenewperiod, "720h");
});

test("a controller namespace other than kube-system is created before the key Secret", async () => {
  await settle();
  assert.equal(reg("ns-ns-sealed-secrets").type, "kubernetes:core/v1:Namespace");
  assert.ok(reg("ns-sealing-key").dependsOn.includes("ns-ns-sealed-secrets"));
});

test("HTTPS repo: no repository Secret; the root app is created without waiting", async () => {
  await settle();
  assert.equal(registrations.get("small-repository"), undefined);
  assert.ok(await isSecret(small.sealingKey));
  const app = byType("kubernetes:argoproj.io/v1alpha1:Application").find((r) => r.name === "small-root-app")!.inputs as Record<string, any>;
  assert.deepEqual(app.metadata.annotations, { "pulumi.com/skipAwait": "true" });
  assert.deepEqual(app.metadata.finalizers, ["resources-finalizer.argocd.argoproj.io"]);
  assert.equal(app.spec.syncPolicy.automated.selfHeal, true);
});

test("waitForHealthy: the root app waits for Synced and Healthy, bounded by the timeout", async () => {
  await settle();
  const app = byType("kubernetes:argoproj.io/v1alpha1:Application").find((r) => r.name === "ha-root-app")!.inputs as Record<string, any>;
  assert.deepEqual(JSON.parse(app.metadata.annotations["pulumi.com/waitFor"]), [
    "jsonpath={.status.sync.status}=Synced",
    "jsonpath={.status.health.status}=Healthy",
  ]);
  assert.equal(app.metadata.annotations["pulumi.com/timeoutSeconds"], "600");
});

test("an SSH repo without the deploy key is refused when the component is built", () => {
  const plan = buildPlan(gitopsStack({ nodes: 1 }));
  assert.throws(
    () => new GitOps("nokey", { plan: plan.cluster.gitops!, rootApp: plan.cluster.rootApp!, kubeconfig: KUBECONFIG }),
    /nokey: gitops.repoUrl git@git.example.net:org\/cluster.git needs the deploy key/,
  );
});
