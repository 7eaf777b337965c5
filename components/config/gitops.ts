import { z } from "zod";
import { absolutePath, atMost, dnsLabel } from "./fields";

const GIT_URL = /^(https:\/\/|ssh:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)\S+$/;

/**
 * Credentials in the URL would sit in plain text in the stack file, the plan
 * and Argo CD's repository Secret. Messages about them never repeat the URL.
 */
export function repoUrlCredentialProblem(url: string): string | undefined {
  const authority = /^(https|ssh):\/\/([^/?#]*)/i.exec(url);
  if (!authority) return undefined;
  const scheme = authority[1].toLowerCase();
  const userinfo = authority[2].includes("@") ? authority[2].slice(0, authority[2].lastIndexOf("@")) : undefined;
  if (scheme === "https" && userinfo !== undefined) {
    return (
      `the https URL carries credentials before "@" (not repeated here), which would sit in plain text in the stack file and in Argo CD: ` +
      `remove the user and password from the URL and give repository credentials as a secret instead ` +
      `(for a private repository: an SSH URL and the deployKey secret), and revoke the token`
    );
  }
  if (scheme === "ssh" && userinfo?.includes(":")) {
    return `the ssh URL carries a password before "@" (not repeated here): remove the password from the URL: SSH repositories authenticate with the deployKey secret`;
  }
  return undefined;
}

/** A URL of any scheme with whatever stands before "@" in its authority masked. */
function withoutUserinfo(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@");
}

const repoUrl = z.string().check((ctx) => {
  const credentials = repoUrlCredentialProblem(ctx.value);
  if (credentials) {
    ctx.issues.push({ code: "custom", input: "<redacted>", message: credentials });
  } else if (!GIT_URL.test(ctx.value)) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `${JSON.stringify(withoutUserinfo(ctx.value))} is not a git repository URL: use "git@host:org/repo.git", "ssh://git@host/org/repo.git" or "https://host/org/repo.git"`,
    });
  }
});

export const gitops = z
  .strictObject({
    repoUrl: repoUrl
      .describe("The git repository the cluster pulls its state from, without credentials in it. Required."),
    path: z.string().min(1).default("applications").describe("Folder of Argo CD Applications in the repo. Default: `applications`."),
    revision: z.string().min(1).default("HEAD").describe("Branch, tag or commit to follow. Default: `HEAD`."),
    prune: z.boolean().default(false)
      .describe("Let Argo CD delete resources removed from git. Default: false (turn on once the path is proven)."),
    acknowledgePruneInProduction: z.boolean().default(false)
      .describe("Required, as true, to enable `prune` on a `cluster.production` stack. Default: false."),
    knownHosts: z.string().optional()
      .describe("SSH known_hosts lines of the git host (`ssh-keyscan` output, verified). Required for SSH repo URLs."),
    rootApp: z
      .strictObject({
        name: dnsLabel("application name").default("infrastructure-root").describe("Default: `infrastructure-root`."),
        project: z.string().min(1).default("default").describe("Argo CD project. Default: `default`."),
        namespace: dnsLabel("namespace").default("default").describe("Destination namespace. Default: `default`."),
        waitForHealthy: z.boolean().default(false).describe("Wait until the root app is Synced and Healthy. Default: false."),
        waitTimeoutSeconds: z.number().int().min(30).max(7200, atMost(7200, "two hours: an app not healthy by then needs a person, not a longer wait")).default(600).describe("Default: 600."),
      })
      .prefault({})
      .describe("The root App-of-Apps."),
    argocd: z
      .strictObject({
        chartVersion: z.string().regex(/^\d+\.\d+\.\d+$/).default("9.1.9")
          .describe("Pinned argo-cd Helm chart version. Default: `9.1.9`."),
        chartPath: absolutePath.optional()
          .describe("Air-gapped mode: local path of the argo-cd chart (a .tgz or folder). Default: none (chart repository)."),
        ha: z.enum(["auto", "on", "off"]).default("auto")
          .describe("`auto`: HA with 3 or more nodes, single replicas otherwise. Default: `auto`."),
        statusProcessors: z.number().int().min(1).max(500, atMost(500, "Argo CD's own guidance is 50 for 1000 applications; each processor costs controller memory")).default(20).describe("`controller.status.processors`. Default: 20."),
        operationProcessors: z.number().int().min(1).max(250, atMost(250, "Argo CD's own guidance is 25 for 1000 applications; each processor costs controller memory")).default(10).describe("`controller.operation.processors`. Default: 10."),
      })
      .prefault({})
      .describe("Argo CD installation."),
  })
  .describe("GitOps: Argo CD and the root App-of-Apps. Required.");

export const sealedSecrets = z
  .strictObject({
    namespace: dnsLabel("namespace").default("kube-system").describe("Namespace of the controller and its key. Default: `kube-system`."),
    chartVersion: z.string().regex(/^\d+\.\d+\.\d+$/).default("2.17.7")
      .describe("Pinned sealed-secrets Helm chart version. Default: `2.17.7`."),
    chartPath: absolutePath.optional().describe("Air-gapped mode: local chart path. Default: none."),
    keyRenewPeriod: z.string().regex(/^\d+h$/).default("720h")
      .describe("How often the controller adds a new sealing key (`--key-renew-period`). Default: `720h` (30 days)."),
  })
  .prefault({})
  .describe("The sealed-secrets controller and its disaster-recovery key.");

export type GitopsConfig = z.output<typeof gitops>;
export type SealedSecretsConfig = z.output<typeof sealedSecrets>;
