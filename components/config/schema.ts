// The one description of a stack. Sections are parsed one by one (and hosts
// one by one) so that every problem in a config is reported in a single run;
// rules that span sections run on whatever parsed.
import { z } from "zod";
import { cluster, podCidrProblems, type ClusterConfig } from "./cluster";
import { diskBenchmark, type DiskBenchmarkConfig } from "./diskBenchmark";
import { etcdSnapshotProblems, etcdSnapshots, type EtcdSnapshotsConfig } from "./etcdSnapshots";
import { ConfigError, formatIssues, issueMessage } from "./errors";
import { parseCidrV4, secretRef, type SecretRef } from "./fields";
import { gitops, sealedSecrets, type GitopsConfig, type SealedSecretsConfig } from "./gitops";
import { duplicateHostKeyProblems, host, type HostConfig } from "./hosts";
import { kubelet, type KubeletConfig } from "./kubelet";
import { includes, layers, type Layer } from "./layers";
import { isMisspelledNamespace, misspelledNamespaceProblem } from "./namespace";
import { ssh, type SshConfig } from "./ssh";

/** Secrets are read by name from the stack's encrypted config, never parsed here. */
export const SECRETS = {
  sshPrivateKey: "SSH private key",
  deployKey: "the git deploy key",
  sealingKey: "the sealed-secrets key",
} as const;
export type SecretName = keyof typeof SECRETS;

export const sections = {
  layers,
  ssh,
  hosts: z.array(z.unknown()).min(1, { error: "needs at least one host" }).describe("The machines of the cluster. Required."),
  cluster,
  diskBenchmark,
  kubelet,
  gitops,
  sealedSecrets,
  etcdSnapshots,
  sshPrivateKey: secretRef("sshPrivateKey", SECRETS.sshPrivateKey).optional()
    .describe("Secret. SSH private key (PEM/OpenSSH). One of: this, `ssh.privateKeyPath`, or `ssh.agent`."),
  deployKey: secretRef("deployKey", SECRETS.deployKey).optional()
    .describe("Secret. Private SSH deploy key with read access to `gitops.repoUrl`. Required for SSH repo URLs."),
  sealingKey: secretRef("sealingKey", SECRETS.sealingKey).optional()
    .describe("Secret. The sealed-secrets key to restore (certificate and private key, PEM). Default: generated on first build and exported."),
} as const;
export const hostSchema = host;

/** A host with its SSH settings resolved from `ssh`. */
export type HostSpec = HostConfig & { port: number; user: string };

export interface StackSpec {
  stack: string;
  /** How far `pulumi up` goes; the layers above it are not built. */
  layers: Layer;
  ssh: SshConfig;
  hosts: HostSpec[];
  cluster: ClusterConfig;
  diskBenchmark: DiskBenchmarkConfig;
  kubelet: KubeletConfig;
  /** Absent only on a stack whose `layers` stops before GitOps. */
  gitops?: GitopsConfig;
  sealedSecrets: SealedSecretsConfig;
  etcdSnapshots: EtcdSnapshotsConfig;
  secrets: Partial<Record<SecretName, SecretRef>>;
}

/** A stack that has a GitOps section: what the GitOps plan is built from. */
export type GitopsStackSpec = StackSpec & { gitops: GitopsConfig };

/** The stack as a GitOps stack, when its layers reach GitOps (then gitops is always there). */
export function gitopsSpec(spec: StackSpec): GitopsStackSpec | undefined {
  return spec.gitops && includes(spec.layers, "gitops") ? (spec as GitopsStackSpec) : undefined;
}

type Parsed = {
  layers?: Layer;
  ssh?: SshConfig;
  hosts?: (HostConfig | undefined)[];
  cluster?: ClusterConfig;
  diskBenchmark?: DiskBenchmarkConfig;
  kubelet?: KubeletConfig;
  gitops?: GitopsConfig;
  sealedSecrets?: SealedSecretsConfig;
  etcdSnapshots?: EtcdSnapshotsConfig;
  secrets: Partial<Record<SecretName, SecretRef>>;
};

/**
 * Validate a stack's raw config (keys without the `ironroot:` prefix; secret
 * values replaced by `{secret: name}`) and apply defaults. Throws ConfigError
 * listing every problem. A key with a namespace that looks like a
 * misspelling of ironroot's (`ironrot:hosts`, kept whole by the loaders) is
 * a problem of its own: it would otherwise be silently ignored.
 */
export function parseStack(stackName: string, raw: Record<string, unknown>): StackSpec {
  const problems: string[] = [];
  const parsed: Parsed = { secrets: {} };

  for (const key of Object.keys(raw)) {
    if (isMisspelledNamespace(key)) {
      problems.push(misspelledNamespaceProblem(key));
    } else if (!(key in sections)) {
      problems.push(`${key}: unknown setting: check the spelling against the config reference in README.md`);
    }
  }

  const parseSection = <T>(name: keyof typeof sections, schema: z.ZodType<T>, value: unknown): T | undefined => {
    const r = schema.safeParse(value, { error: issueMessage });
    if (r.success) return r.data;
    problems.push(...formatIssues(r.error.issues, [name]));
    return undefined;
  };

  parsed.layers = parseSection("layers", layers, raw.layers);
  parsed.ssh = parseSection("ssh", ssh, raw.ssh);
  parsed.cluster = parseSection("cluster", cluster, raw.cluster);
  parsed.diskBenchmark = parseSection("diskBenchmark", diskBenchmark, raw.diskBenchmark);
  parsed.kubelet = parseSection("kubelet", kubelet, raw.kubelet);
  // A stack that stops below the GitOps layer may leave gitops out; the plan
  // still renders it (from a placeholder-free default) only when it is given.
  if (raw.gitops === undefined && includes(parsed.layers ?? "gitops", "gitops")) {
    problems.push(`gitops: is required: set gitops.repoUrl to the git repository the cluster pulls its state from (or set layers: "hosts" or "kubernetes" to stop before GitOps)`);
  } else if (raw.gitops !== undefined) {
    parsed.gitops = parseSection("gitops", gitops, raw.gitops);
  }
  parsed.sealedSecrets = parseSection("sealedSecrets", sealedSecrets, raw.sealedSecrets);
  parsed.etcdSnapshots = parseSection("etcdSnapshots", etcdSnapshots, raw.etcdSnapshots);
  for (const name of Object.keys(SECRETS) as SecretName[]) {
    const ref = parseSection(name, sections[name], raw[name]);
    if (ref) parsed.secrets[name] = ref;
  }
  const hostList = parseSection("hosts", sections.hosts, raw.hosts);
  if (hostList) {
    parsed.hosts = hostList.map((h, i) => {
      const r = host.safeParse(h, { error: issueMessage });
      if (r.success) return r.data;
      problems.push(...formatIssues(r.error.issues, ["hosts", i]));
      return undefined;
    });
  }

  problems.push(...crossFieldProblems(parsed));
  if (problems.length > 0) throw new ConfigError(stackName, problems);

  const sshConfig = parsed.ssh!;
  return {
    stack: stackName,
    layers: parsed.layers!,
    ssh: sshConfig,
    hosts: parsed.hosts!.map((h) => ({ ...h!, port: h!.port ?? sshConfig.port, user: h!.user ?? sshConfig.user })),
    cluster: parsed.cluster!,
    diskBenchmark: parsed.diskBenchmark!,
    kubelet: parsed.kubelet!,
    ...(parsed.gitops ? { gitops: parsed.gitops } : {}),
    sealedSecrets: parsed.sealedSecrets!,
    etcdSnapshots: parsed.etcdSnapshots!,
    secrets: parsed.secrets,
  };
}

function crossFieldProblems(p: Parsed): string[] {
  const out: string[] = [];
  const hosts = (p.hosts ?? []).map((h, i) => ({ h, i })).filter((x): x is { h: HostConfig; i: number } => !!x.h);

  const firstByName = new Map<string, number>();
  const firstByAddress = new Map<string, number>();
  for (const { h, i } of hosts) {
    const n = firstByName.get(h.name);
    if (n !== undefined) out.push(`hosts[${i}].name: "${h.name}" is already used by hosts[${n}]: host names must be unique`);
    else firstByName.set(h.name, i);
    const key = h.address.toLowerCase();
    const a = firstByAddress.get(key);
    if (a !== undefined) out.push(`hosts[${i}].address: "${h.address}" is already used by hosts[${a}] (${hosts.find((x) => x.i === a)!.h.name}): each host needs its own address`);
    else firstByAddress.set(key, i);
  }
  out.push(...duplicateHostKeyProblems(hosts));

  // Only judge the control-plane count when every host parsed; otherwise the
  // count would be off and the message misleading.
  if (p.hosts && p.hosts.every((h) => h)) {
    const isCp = ({ h }: { h: HostConfig }) => h.roles.includes("control-plane");
    const cps = hosts.filter((x) => isCp(x) && x.h.remove === undefined).length;
    const removing = hosts.filter((x) => isCp(x) && x.h.remove !== undefined);
    if (cps === 0 && removing.length > 0) {
      out.push(
        `hosts: every control plane is marked remove (${removing.map(({ h, i }) => `hosts[${i}] ${h.name}`).join(", ")}): ` +
          `that would take the whole cluster down; keep at least one control plane, or add its replacement first`,
      );
    } else if (cps === 0) {
      out.push(`hosts: no host has the control-plane role: give at least one host \`roles: [control-plane]\` (1 for a test cluster, 3 or 5 for HA)`);
    } else if (cps % 2 === 0 && removing.length === 0) {
      // While a control plane is being taken out, an even count is the
      // middle of a replacement; preflight warns about it instead.
      out.push(
        `hosts: ${cps} control planes is an even number: etcd needs a majority of members (quorum) to work, ` +
          `so ${cps} members survive no more failures than ${cps - 1}; use ${cps - 1} or ${cps + 1} control planes`,
      );
    }
  }

  if (p.cluster) {
    const pod = parseCidrV4(p.cluster.podCidr)!;
    const svc = parseCidrV4(p.cluster.serviceCidr)!;
    if (pod.start <= svc.end && svc.start <= pod.end) {
      out.push(
        `cluster.serviceCidr: "${p.cluster.serviceCidr}" overlaps cluster.podCidr "${p.cluster.podCidr}": choose two ranges that do not overlap`,
      );
    }
    if (p.cluster.cni === "flannel" && !p.cluster.offlineBundleDir) {
      out.push(
        `cluster.cni: flannel comes from an air-gapped bundle (its CNI plugin is installed from the bundle): ` +
          `set cluster.offlineBundleDir to a bundle from scripts/bundle/build, or use cni: calico`,
      );
    }
    // Counted from the hosts given, parsed or not: each becomes a node.
    out.push(...podCidrProblems(p.cluster.podCidr, p.hosts?.length ?? 0));
    for (const { h, i } of hosts) {
      const ip = parseCidrV4(`${h.address}/32`);
      if (!ip) continue;
      for (const [field, range] of [["podCidr", pod], ["serviceCidr", svc]] as const) {
        if (ip.start >= range.start && ip.start <= range.end) {
          out.push(`hosts[${i}].address: ${h.address} lies inside cluster.${field} "${p.cluster[field]}": move the ${field} to a range the hosts do not use`);
        }
      }
    }
    const ep = p.cluster.endpoint;
    if (ep.mode === "vip") {
      const clash = hosts.find(({ h }) => h.address === ep.address);
      if (clash) out.push(`cluster.endpoint.address: ${ep.address} is the address of hosts[${clash.i}] (${clash.h.name}): the VIP must be a free address on the hosts' network`);
    }
    if (p.gitops?.prune && p.cluster.production && !p.gitops.acknowledgePruneInProduction) {
      out.push(
        `gitops.prune: true on a production stack (cluster.production: true) deletes from the cluster whatever is removed from git; ` +
          `set gitops.acknowledgePruneInProduction: true to confirm, or keep prune false until the path is proven`,
      );
    }
  }

  if (p.ssh) {
    const sources = [
      p.secrets.sshPrivateKey ? "the sshPrivateKey secret" : undefined,
      p.ssh.privateKeyPath ? "ssh.privateKeyPath" : undefined,
      p.ssh.agent ? "ssh.agent" : undefined,
    ].filter((s): s is string => !!s);
    if (sources.length === 0) {
      out.push(
        `ssh: no SSH key configured: set one of ssh.privateKeyPath, ssh.agent: true, or the secret (\`pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519\`)`,
      );
    } else if (sources.length > 1) {
      out.push(`ssh: ${sources.join(" and ")} are both set: keep exactly one SSH key source`);
    }
  }

  if (p.gitops && /^https:\/\//.test(p.gitops.repoUrl) && p.secrets.deployKey) {
    out.push(
      `deployKey: the deployKey secret is set but gitops.repoUrl is an https URL, which does not use it (the key would be silently ignored): ` +
        `use an SSH URL (e.g. "git@host:org/repo.git") or remove the deployKey secret (\`pulumi config rm deployKey\`)`,
    );
  }
  if (p.gitops && !/^https:\/\//.test(p.gitops.repoUrl)) {
    if (!p.secrets.deployKey) {
      out.push(`deployKey: gitops.repoUrl "${p.gitops.repoUrl}" is an SSH URL and needs a deploy key: run \`pulumi config set --secret deployKey < deploy_key\``);
    }
    if (!p.gitops.knownHosts) {
      out.push(
        `gitops.knownHosts: gitops.repoUrl is an SSH URL, so the git host's key must be pinned: set it to the verified \`ssh-keyscan <git host>\` lines`,
      );
    }
  }

  if (p.diskBenchmark) {
    const d = p.diskBenchmark;
    if (d.warnP99Ms > d.failP99Ms) {
      out.push(`diskBenchmark.warnP99Ms: ${d.warnP99Ms} is above diskBenchmark.failP99Ms ${d.failP99Ms}: the warning must come before the failure; lower warnP99Ms or raise failP99Ms`);
    }
    if (p.hosts) {
      d.allowSlowDisk.forEach((name, i) => {
        if (!hosts.some(({ h }) => h.name === name)) {
          out.push(`diskBenchmark.allowSlowDisk[${i}]: "${name}" is not a host in this stack: use a name from hosts[].name`);
        }
      });
    }
  }

  if (p.etcdSnapshots) out.push(...etcdSnapshotProblems(p.etcdSnapshots, hosts.map(({ h }) => h)));

  // A rollout over every node at once restarts every kubelet together.
  const parallelism = p.kubelet?.rollout.parallelism ?? 1;
  if (p.hosts && hosts.length > 1 && parallelism >= hosts.length) {
    out.push(
      `kubelet.rollout.parallelism: ${parallelism} with ${hosts.length} hosts changes every node at once, with nowhere to move their pods: use at most ${hosts.length - 1}`,
    );
  }

  // kubeadm keeps one etcd data dir for the whole cluster.
  const etcdDirs = new Map<string, string[]>();
  for (const { h, i } of hosts.filter(({ h }) => h.roles.includes("control-plane"))) {
    etcdDirs.set(h.etcdDataDir, [...(etcdDirs.get(h.etcdDataDir) ?? []), `hosts[${i}] (${h.name})`]);
  }
  if (etcdDirs.size > 1) {
    const uses = [...etcdDirs.entries()].map(([dir, who]) => `${dir} on ${who.join(", ")}`).join("; ");
    out.push(`hosts[].etcdDataDir: the control planes differ (${uses}): kubeadm keeps one etcd data dir for the whole cluster; give every control plane the same etcdDataDir`);
  }

  if (p.kubelet) {
    const k = p.kubelet;
    if (k.policy === "static" && !k.static) {
      out.push(`kubelet.static: kubelet.policy is "static" but no values are given: set kubelet.static.kubeReserved and kubelet.static.systemReserved, or use policy "sized"`);
    }
    for (const [group, o] of Object.entries(k.groups)) {
      if (o.policy === "static" && !o.static && !k.static) {
        out.push(`kubelet.groups.${group}.static: group "${group}" uses policy "static" but no static values are given: set kubelet.groups.${group}.static`);
      }
      if (p.hosts && !hosts.some(({ h }) => h.group === group)) {
        out.push(`kubelet.groups.${group}: no host is in group "${group}": set hosts[].group: ${group} on its hosts, or remove the override`);
      }
    }
  }
  return out;
}
