// The GitOps slice of `render`: Helm values and the manifests that carry
// secrets, with placeholders where the secrets go.
import { repositorySecret } from "../plan/argocd";
import type { GitopsPlan } from "../plan/gitops";
import { sealingKeySecret } from "../plan/sealedSecrets";
import { secretPlaceholder, toYaml } from "./yaml";

export function renderGitops(g: GitopsPlan): [string, string][] {
  const files: [string, string][] = [
    [
      "gitops/argocd-values.yaml",
      `# argo-cd chart ${g.argocd.chart.version}${g.argocd.chart.path ? ` from ${g.argocd.chart.path}` : ""}: ${g.argocd.ha.reason}\n` +
        toYaml(g.argocd.values),
    ],
    [
      "gitops/sealed-secrets-values.yaml",
      `# sealed-secrets chart ${g.sealedSecrets.chart.version}${g.sealedSecrets.chart.path ? ` from ${g.sealedSecrets.chart.path}` : ""}\n` +
        toYaml(g.sealedSecrets.values),
    ],
    [
      "gitops/sealing-key-secret.yaml",
      `# ${g.sealingKeySource === "restore" ? "restored from the sealingKey secret" : "generated on first build, kept in Pulumi state, exported as sealingKey"}\n` +
        toYaml(sealingKeySecret(g.sealedSecrets.namespace, secretPlaceholder("sealingKey.certificate"), secretPlaceholder("sealingKey.privateKey"))),
    ],
  ];
  if (g.repository) {
    files.push(["gitops/repository-secret.yaml", toYaml(repositorySecret(g.repository.url, secretPlaceholder("deployKey")))]);
  }
  return files;
}
