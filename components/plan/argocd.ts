// Argo CD as Helm values and the manifests that go with them. The argo-cd
// chart (argoproj/argo-helm) is used rather than the upstream install.yaml /
// ha/install.yaml: one Helm release is one resource with a wait, the HA
// switches and the controller tuning are plain values instead of patches to
// a few thousand lines of YAML, and an air-gapped site points `chartPath` at
// a local .tgz. The chart renders the same manifests upstream publishes.
import { activeHosts } from "../config/hosts";
import type { GitopsConfig } from "../config/gitops";
import type { HostSpec } from "../config/schema";
import { ARGOCD_NAMESPACE } from "./rootApp";

export const ARGOCD_CHART = { name: "argo-cd", repo: "https://argoproj.github.io/argo-helm" } as const;
export const REPOSITORY_SECRET_NAME = "ironroot-gitops-repo";

/** Redis HA (sentinel) places its 3 replicas on 3 different nodes: fewer cannot run it. */
export const HA_MIN_NODES = 3;

// kubeadm taints control planes; Argo CD is cluster infrastructure and may
// run there, so that a 3-control-plane cluster without workers can be HA.
const controlPlaneToleration = () => ({ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" });

export interface HaDecision {
  ha: boolean;
  /** Nodes that Argo CD pods can be scheduled on. */
  eligibleNodes: number;
  /** One sentence for the preview log and docs. */
  reason: string;
}

/** Hosts whose own taints keep ordinary pods away do not count towards HA. */
export function eligibleNodes(hosts: HostSpec[]): string[] {
  return activeHosts(hosts)
    .filter((h) => !h.taints.some((t) => t.effect === "NoSchedule" || t.effect === "NoExecute"))
    .map((h) => h.name);
}

export function haDecision(mode: GitopsConfig["argocd"]["ha"], hosts: HostSpec[]): HaDecision {
  const n = eligibleNodes(hosts).length;
  if (mode === "off") return { ha: false, eligibleNodes: n, reason: "gitops.argocd.ha is off: single replicas" };
  if (mode === "on") {
    return {
      ha: true,
      eligibleNodes: n,
      reason:
        n >= HA_MIN_NODES
          ? `gitops.argocd.ha is on: HA on ${n} schedulable nodes`
          : `gitops.argocd.ha is on with only ${n} schedulable node(s): Redis HA pods stay Pending until there are ${HA_MIN_NODES}`,
    };
  }
  return n >= HA_MIN_NODES
    ? { ha: true, eligibleNodes: n, reason: `HA: ${n} schedulable nodes (at least ${HA_MIN_NODES} needed)` }
    : {
        ha: false,
        eligibleNodes: n,
        reason: `not HA: ${n} schedulable node(s), and Redis HA needs ${HA_MIN_NODES} on separate nodes; single replicas instead`,
      };
}

/** Helm values for the argo-cd chart (keys as in the chart's values.yaml). */
export function argocdValues(gitops: GitopsConfig, hosts: HostSpec[]) {
  const a = gitops.argocd;
  const { ha } = haDecision(a.ha, hosts);
  const replicas = ha ? 2 : 1;
  const values: Record<string, unknown> = {
    global: {
      tolerations: [controlPlaneToleration()],
      // "hard": two replicas never share a node, so one lost node never
      // takes a whole component down. Only meaningful with HA.
      affinity: { podAntiAffinity: ha ? "hard" : "soft" },
    },
    crds: { install: true, keep: true },
    configs: {
      // Land in argocd-cmd-params-cm, which the controller reads at start.
      params: {
        "controller.status.processors": a.statusProcessors,
        "controller.operation.processors": a.operationProcessors,
      },
      ...(gitops.knownHosts
        ? // Replaces the chart's built-in list of public git hosts: only
          // the keys pinned in the stack config are trusted.
          { ssh: { knownHosts: ensureTrailingNewline(gitops.knownHosts) } }
        : {}),
    },
    // The application controller shards by destination cluster; ironroot
    // manages one cluster, so one replica is all a second one could share.
    // A lost controller pod is restarted by its StatefulSet.
    controller: { replicas: 1 },
    server: { replicas },
    repoServer: { replicas },
    applicationSet: { replicas },
    redis: { enabled: !ha },
    "redis-ha": ha
      ? {
          enabled: true,
          tolerations: [controlPlaneToleration()],
          haproxy: { tolerations: [controlPlaneToleration()] },
        }
      : { enabled: false },
  };
  return values;
}

function ensureTrailingNewline(s: string): string {
  return s.endsWith("\n") ? s : `${s}\n`;
}

export function isSshRepoUrl(url: string): boolean {
  return !/^https:\/\//.test(url);
}

/**
 * The repository Secret Argo CD discovers by label. The deploy key is a
 * parameter so that render passes a placeholder and Pulumi a secret.
 */
export function repositorySecret(repoUrl: string, sshPrivateKey: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: REPOSITORY_SECRET_NAME,
      namespace: ARGOCD_NAMESPACE,
      labels: { "argocd.argoproj.io/secret-type": "repository", "app.kubernetes.io/managed-by": "ironroot" },
    },
    type: "Opaque",
    stringData: { type: "git", url: repoUrl, sshPrivateKey },
  };
}

/** Whether the stack needs a repository Secret: an SSH URL with a deploy key. */
export function needsRepositorySecret(repoUrl: string, hasDeployKey: boolean): boolean {
  return isSshRepoUrl(repoUrl) && hasDeployKey;
}
