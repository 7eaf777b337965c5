// The manifests ironroot applies, checked against the published schemas:
// Argo CD's CRDs (@kubernetes-models/argo-cd is generated from them) and the
// Kubernetes core API (kubernetes-models). Both packages are ESM-only, hence
// the dynamic imports.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import YAML from "yaml";
import { loadStackFile } from "../../components/config/load";
import { gitopsSpec } from "../../components/config/schema";
import { buildPlan } from "../../components/plan";
import { repositorySecret } from "../../components/plan/argocd";
import { rootApplication } from "../../components/plan/rootApp";
import { sealingKeySecret } from "../../components/plan/sealedSecrets";
import { renderPlan } from "../../components/render/render";

interface Validatable {
  validate(): void;
}
type Ctor = new (data: unknown) => Validatable;

async function models(): Promise<{ Application: Ctor; Secret: Ctor }> {
  const argo = (await import("@kubernetes-models/argo-cd/argoproj.io/v1alpha1")) as unknown as { Application: Ctor };
  const core = (await import("kubernetes-models/v1")) as unknown as { Secret: Ctor };
  return { Application: argo.Application, Secret: core.Secret };
}

const spec = gitopsSpec(loadStackFile(resolve(__dirname, "../../stacks"), "example"))!;
const rendered = renderPlan(buildPlan(spec));

test("the rendered root Application is valid against Argo CD's Application CRD schema", async () => {
  const { Application } = await models();
  const doc = YAML.parse(rendered.get("cluster/root-app.yaml")!);
  assert.deepEqual(doc, rootApplication(spec.gitops));
  new Application(doc).validate();
});

test("the rendered repository and sealing key Secrets are valid core/v1 Secrets", async () => {
  const { Secret } = await models();
  const repo = YAML.parse(rendered.get("gitops/repository-secret.yaml")!);
  const key = YAML.parse(rendered.get("gitops/sealing-key-secret.yaml")!);
  new Secret(repo).validate();
  new Secret(key).validate();
  // What the schema cannot say: Argo CD finds repositories by this label and
  // these keys; the controller finds keys by its label and reads tls.crt/tls.key.
  assert.equal(repo.metadata.labels["argocd.argoproj.io/secret-type"], "repository");
  assert.deepEqual(Object.keys(repo.stringData).sort(), ["sshPrivateKey", "type", "url"]);
  assert.equal(key.type, "kubernetes.io/tls");
  assert.equal(key.metadata.labels["sealedsecrets.bitnami.com/sealed-secrets-key"], "active");
  assert.deepEqual(Object.keys(key.stringData).sort(), ["tls.crt", "tls.key"]);
});

test("the validators really reject broken manifests", async () => {
  const { Application, Secret } = await models();
  const app = rootApplication(spec.gitops);
  const broken: unknown[] = [
    { ...app, spec: { ...app.spec, syncPolicy: { automated: { prune: "false", selfHeal: true } } } },
    { ...app, spec: { ...app.spec, source: { path: "applications" } } }, // repoURL is required
    { ...app, spec: { ...app.spec, destination: { server: 42 } } },
  ];
  for (const doc of broken) assert.throws(() => new Application(doc).validate(), /must be|must have required property/);
  assert.throws(() => new Secret(repositorySecret("git@h:o/r.git", 7 as unknown as string)).validate(), /stringData\/sshPrivateKey must be string/);
  assert.throws(() => new Secret({ ...sealingKeySecret("kube-system", "c", "k"), type: ["kubernetes.io/tls"] }).validate(), /type must be string/);
});

test("render writes placeholders, never secret values, into the GitOps files", () => {
  assert.match(rendered.get("gitops/repository-secret.yaml")!, /sshPrivateKey: <secret:deployKey>\n/);
  assert.match(rendered.get("gitops/sealing-key-secret.yaml")!, /tls.key: <secret:sealingKey.privateKey>\n/);
  for (const [path, content] of rendered) {
    assert.ok(!/BEGIN [A-Z ]*PRIVATE KEY/.test(content), `${path} contains a private key`);
  }
});
