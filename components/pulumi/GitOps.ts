import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Plan } from "../plan";
import { repositorySecret } from "../plan/argocd";
import type { ChartSource } from "../plan/gitops";
import {
  joinSealingKey,
  parseSealingKey,
  SEALING_KEY_BITS,
  SEALING_KEY_COMMON_NAME,
  SEALING_KEY_VALIDITY_DAYS,
  sealingKeySecret,
} from "../plan/sealedSecrets";
import { SealingKey } from "./SealingKeyProvider";

export interface GitOpsArgs {
  /** The GitOps slice of the plan, `plan.cluster.gitops`. Required. */
  plan: NonNullable<Plan["cluster"]["gitops"]>;
  /** The root App-of-Apps manifest, `plan.cluster.rootApp`. Required. */
  rootApp: NonNullable<Plan["cluster"]["rootApp"]>;
  /** Admin kubeconfig of the cluster. Treated as a secret whether or not it is one. Required. */
  kubeconfig: pulumi.Input<string>;
  /** Private SSH deploy key for the repo (the `deployKey` secret). Required when `plan.repository` is set. Default: none. */
  deployKey?: pulumi.Input<string>;
  /** Sealing key to restore (the `sealingKey` secret: PEM certificate and key). Default: none, generated once and kept in state. */
  sealingKey?: pulumi.Input<string>;
  /** Let the Kubernetes provider drop this cluster's resources from state when the cluster is gone for good. Default: false. */
  deleteUnreachable?: boolean;
}

// Helm waits for every Deployment and StatefulSet of a release; Argo CD in
// HA (Redis sentinel quorum) takes a few minutes on a fresh cluster.
const RELEASE_TIMEOUT_SECONDS = 900;

/**
 * Argo CD and sealed-secrets on the cluster, the disaster-recovery key
 * restored or generated before the controller starts, the repository
 * credentials, and the root App-of-Apps once Argo CD is ready.
 */
export class GitOps extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly argocd: k8s.helm.v3.Release;
  readonly sealedSecrets: k8s.helm.v3.Release;
  readonly sealingKeySecret: k8s.core.v1.Secret;
  readonly rootApp: k8s.apiextensions.CustomResource;
  /** The sealing key (certificate then private key, PEM), secret: copy it to the DR stack's `sealingKey`. */
  readonly sealingKey: pulumi.Output<string>;
  /** The sealing certificate (public): `kubeseal --cert` works offline with it. */
  readonly sealingCertificate: pulumi.Output<string>;

  constructor(name: string, args: GitOpsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:gitops:GitOps", name, {}, opts);
    const g = args.plan;
    if (g.repository && !args.deployKey) {
      throw new Error(`${name}: gitops.repoUrl ${g.repository.url} needs the deploy key: pass the deployKey secret to GitOps`);
    }

    // clusterIdentifier pins the provider's identity to the cluster name:
    // a rotated or re-rendered kubeconfig updates the provider in place
    // instead of replacing it and, with it, every resource below.
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: pulumi.secret(args.kubeconfig),
        clusterIdentifier: g.clusterIdentifier,
        deleteUnreachable: args.deleteUnreachable ?? false,
      },
      { parent: this },
    );
    const on = { parent: this, provider: this.provider };

    const argocdNs = new k8s.core.v1.Namespace(`${name}-ns-argocd`, { metadata: { name: g.argocd.namespace } }, on);
    const builtIn = ["kube-system", "default"].includes(g.sealedSecrets.namespace);
    const sealedNs = builtIn
      ? undefined
      : new k8s.core.v1.Namespace(`${name}-ns-sealed-secrets`, { metadata: { name: g.sealedSecrets.namespace } }, on);

    const pair =
      g.sealingKeySource === "restore"
        ? restoredKey(name, args.sealingKey)
        : generatedKey(name, this);
    this.sealingCertificate = pair.certificatePem;
    this.sealingKey = pulumi.secret(pulumi.all([pair.certificatePem, pair.privateKeyPem]).apply(([c, k]) => joinSealingKey({ certificatePem: c, privateKeyPem: k })));

    // Before the controller: on start it adopts the labelled key instead of
    // generating its own.
    const keyShape = sealingKeySecret(g.sealedSecrets.namespace, "", "");
    this.sealingKeySecret = new k8s.core.v1.Secret(
      `${name}-sealing-key`,
      {
        metadata: keyShape.metadata,
        type: keyShape.type,
        stringData: pulumi.secret(
          pulumi.all([pair.certificatePem, pair.privateKeyPem]).apply(([c, k]) => sealingKeySecret(g.sealedSecrets.namespace, c, k).stringData),
        ),
      },
      { ...on, dependsOn: sealedNs ? [sealedNs] : [] },
    );

    this.sealedSecrets = new k8s.helm.v3.Release(
      `${name}-sealed-secrets`,
      {
        ...chartArgs(g.sealedSecrets.chart),
        name: "sealed-secrets",
        namespace: g.sealedSecrets.namespace,
        values: g.sealedSecrets.values,
        atomic: true,
        timeout: RELEASE_TIMEOUT_SECONDS,
      },
      { ...on, dependsOn: [this.sealingKeySecret] },
    );

    this.argocd = new k8s.helm.v3.Release(
      `${name}-argocd`,
      {
        ...chartArgs(g.argocd.chart),
        name: "argocd",
        namespace: g.argocd.namespace,
        values: g.argocd.values,
        // atomic implies waiting: the release is only done when every
        // Argo CD workload is ready, and the CRDs are in (they are templates
        // in this chart, installed with the release).
        atomic: true,
        timeout: RELEASE_TIMEOUT_SECONDS,
      },
      { ...on, dependsOn: [argocdNs] },
    );
    pulumi.log.info(`Argo CD: ${g.argocd.ha.reason}`, this);

    const repo = g.repository;
    const repoShape = repo ? repositorySecret(repo.url, "") : undefined;
    const repoSecret =
      repo && repoShape
        ? new k8s.core.v1.Secret(
            `${name}-repository`,
            {
              metadata: repoShape.metadata,
              type: repoShape.type,
              stringData: pulumi.secret(pulumi.output(args.deployKey!).apply((key) => repositorySecret(repo.url, key).stringData)),
            },
            { ...on, dependsOn: [argocdNs] },
          )
        : undefined;

    const wait = g.rootAppWait;
    this.rootApp = new k8s.apiextensions.CustomResource(
      `${name}-root-app`,
      {
        ...args.rootApp,
        metadata: {
          ...args.rootApp.metadata,
          annotations: wait
            ? {
                // The provider polls the live object until both hold, and on
                // timeout reports the fields it last saw.
                "pulumi.com/waitFor": JSON.stringify([
                  "jsonpath={.status.sync.status}=Synced",
                  "jsonpath={.status.health.status}=Healthy",
                ]),
                "pulumi.com/timeoutSeconds": String(wait.timeoutSeconds),
              }
            : { "pulumi.com/skipAwait": "true" },
        },
      },
      {
        ...on,
        // Created after Argo CD (its CRDs and controller) is ready, and so
        // deleted before it on destroy: the controller is still there to
        // honour the resources finalizer.
        dependsOn: [this.argocd, this.sealedSecrets, ...(repoSecret ? [repoSecret] : [])],
      },
    );

    this.registerOutputs({
      sealingCertificate: this.sealingCertificate,
      sealingKey: this.sealingKey,
      argocdHa: g.argocd.ha.ha,
      rootApp: args.rootApp.metadata.name,
    });
  }
}

function chartArgs(c: ChartSource): Pick<k8s.helm.v3.ReleaseArgs, "chart" | "version" | "repositoryOpts"> {
  return c.path ? { chart: c.path } : { chart: c.name, version: c.version, repositoryOpts: { repo: c.repo } };
}

function restoredKey(name: string, sealingKey: pulumi.Input<string> | undefined) {
  if (!sealingKey) throw new Error(`${name}: the plan restores the sealing key but no sealingKey secret was passed to GitOps`);
  // parseSealingKey throws on a bad key; the message names sealingKey and the fix.
  const pair = pulumi.secret(sealingKey).apply(parseSealingKey);
  return { certificatePem: pair.apply((p) => p.certificatePem), privateKeyPem: pulumi.secret(pair.apply((p) => p.privateKeyPem)) };
}

function generatedKey(name: string, parent: pulumi.Resource) {
  const key = new SealingKey(
    `${name}-sealing-keypair`,
    { commonName: SEALING_KEY_COMMON_NAME, validityDays: SEALING_KEY_VALIDITY_DAYS, keyBits: SEALING_KEY_BITS },
    { parent },
  );
  return { certificatePem: key.certificatePem, privateKeyPem: pulumi.secret(key.privateKeyPem) };
}
