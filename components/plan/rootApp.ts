import type { GitopsConfig } from "../config/gitops";

export const ARGOCD_NAMESPACE = "argocd";

/**
 * The root App-of-Apps: one Application that points at a folder of further
 * Applications, so one sync brings up everything the repo declares.
 * selfHeal is always on (hand edits are reverted); prune follows the stack's
 * policy because deleting what disappears from git is the dangerous part.
 */
export function rootApplication(g: GitopsConfig) {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: {
      name: g.rootApp.name,
      namespace: ARGOCD_NAMESPACE,
      // Deleting the root app also deletes what it deployed, in order, instead
      // of orphaning it.
      finalizers: ["resources-finalizer.argocd.argoproj.io"],
    },
    spec: {
      project: g.rootApp.project,
      source: { repoURL: g.repoUrl, targetRevision: g.revision, path: g.path },
      destination: { server: "https://kubernetes.default.svc", namespace: g.rootApp.namespace },
      syncPolicy: {
        automated: { prune: g.prune, selfHeal: true },
        syncOptions: ["CreateNamespace=true"],
      },
    },
  };
}
