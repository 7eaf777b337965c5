// The GitOps slice of the plan: what the GitOps component installs, in
// order, as data. Secret values are not here; the manifests that carry them
// are built from this plan plus the secret (see argocd.ts, sealedSecrets.ts).
import type { GitopsStackSpec } from "../config/schema";
import { ARGOCD_CHART, argocdValues, haDecision, needsRepositorySecret, REPOSITORY_SECRET_NAME, type HaDecision } from "./argocd";
import { ARGOCD_NAMESPACE } from "./rootApp";
import { SEALED_SECRETS_CHART, sealedSecretsValues, SEALING_KEY_SECRET_NAME } from "./sealedSecrets";

export interface ChartSource {
  name: string;
  version: string;
  /** Chart repository; unused when `path` is set. */
  repo: string;
  /** Air-gapped: a local chart (.tgz or folder). */
  path?: string;
}

export interface GitopsPlan {
  /** Stable identity of the cluster for the Kubernetes provider. */
  clusterIdentifier: string;
  argocd: { namespace: string; chart: ChartSource; ha: HaDecision; values: Record<string, unknown> };
  sealedSecrets: { namespace: string; chart: ChartSource; values: ReturnType<typeof sealedSecretsValues>; keySecretName: string };
  /** Set when Argo CD needs credentials for the repo (SSH URL with a deploy key). */
  repository?: { url: string; secretName: string };
  /** Restore the configured `sealingKey`, or generate one on first build. */
  sealingKeySource: "restore" | "generate";
  rootAppWait?: { timeoutSeconds: number };
}

/** Built from the sections it reads: the cluster name, gitops, sealedSecrets, the hosts (for HA) and which secrets are set. */
export function gitopsPlan(spec: Pick<GitopsStackSpec, "cluster" | "gitops" | "sealedSecrets" | "hosts" | "secrets">): GitopsPlan {
  const g = spec.gitops;
  const s = spec.sealedSecrets;
  return {
    clusterIdentifier: spec.cluster.name,
    argocd: {
      namespace: ARGOCD_NAMESPACE,
      chart: { ...ARGOCD_CHART, version: g.argocd.chartVersion, ...(g.argocd.chartPath ? { path: g.argocd.chartPath } : {}) },
      ha: haDecision(g.argocd.ha, spec.hosts),
      values: argocdValues(g, spec.hosts),
    },
    sealedSecrets: {
      namespace: s.namespace,
      chart: { ...SEALED_SECRETS_CHART, version: s.chartVersion, ...(s.chartPath ? { path: s.chartPath } : {}) },
      values: sealedSecretsValues(s),
      keySecretName: SEALING_KEY_SECRET_NAME,
    },
    ...(needsRepositorySecret(g.repoUrl, !!spec.secrets.deployKey) ? { repository: { url: g.repoUrl, secretName: REPOSITORY_SECRET_NAME } } : {}),
    sealingKeySource: spec.secrets.sealingKey ? "restore" : "generate",
    ...(g.rootApp.waitForHealthy ? { rootAppWait: { timeoutSeconds: g.rootApp.waitTimeoutSeconds } } : {}),
  };
}
