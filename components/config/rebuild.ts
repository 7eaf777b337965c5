// Disaster recovery: a new stack from an old stack's file and a new host
// list (the command is scripts/rebuild.ts). The new stack file keeps the old one's encrypted values untouched, with the
// keys that decrypt them (encryptionsalt / secretsprovider / encryptedkey), so
// the same passphrase or KMS key opens them. Only the host list (and, when
// asked, the API endpoint's address) changes. Everything is checked before
// the file is written, and nothing here connects to any host.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import YAML from "yaml";
import { ConfigError } from "./errors";
import { isEncrypted, PROJECT, rawConfigFromStackConfig, stackFilePath } from "./load";
import { parseStack, type StackSpec } from "./schema";

export interface RebuildOptions {
  from: string;
  to: string;
  /** A YAML list of hosts, a map with `hosts:`, or a stack file (its `ironroot:hosts`). */
  hostsFile: string;
  stacksDir: string;
  /** New `cluster.endpoint.address` (vip) or `.host` (dns). */
  endpointAddress?: string;
  force?: boolean;
}

export interface Rebuilt {
  path: string;
  spec: StackSpec;
  /** What to run next, in order. */
  commands: string[];
  /** Things that are fine but worth a look. */
  notes: string[];
}

export class RebuildError extends Error {
  constructor(readonly problems: string[]) {
    super(`the rebuild cannot go ahead; nothing was written and no host was contacted:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RebuildError";
  }
}

const KEY_FIELDS = ["encryptionsalt", "secretsprovider", "encryptedkey"] as const;

/** Read, check, and (only if every check passes) write the new stack file. */
export function rebuild(o: RebuildOptions): Rebuilt {
  const from = stackFilePath(o.stacksDir, o.from);
  const to = stackFilePath(o.stacksDir, o.to);
  const problems: string[] = [];
  if (o.from === o.to) throw new RebuildError([`--to: "${o.to}" is the old stack itself: give the new stack its own name, e.g. ${o.from}-dr`]);
  if (!/^[A-Za-z0-9_.-]+$/.test(o.to)) throw new RebuildError([`--to: "${o.to}" is not a usable stack name: use letters, digits, "-", "_" and "."`]);
  if (!existsSync(from)) throw new RebuildError([`--from: ${from} does not exist: the old stack's file must be in the repo (git is the backup)`]);
  if (existsSync(to) && !o.force) throw new RebuildError([`--to: ${to} already exists: pick another name, or pass --force to replace it`]);

  const doc = YAML.parseDocument(readFileSync(from, "utf8"));
  if (doc.errors.length > 0) throw new RebuildError([`${from}: not valid YAML: ${doc.errors[0].message.split("\n")[0]}`]);
  const old = doc.toJS() as Record<string, unknown>;
  const config = (old.config ?? {}) as Record<string, unknown>;

  problems.push(...secretsProviderProblems(old, config, o.from, o.to));

  const hosts = readHosts(o.hostsFile, problems);
  if (hosts) doc.setIn(["config", `${PROJECT}:hosts`], doc.createNode(hosts));
  const notes: string[] = [];
  if (hosts) shapeProblems(config[`${PROJECT}:hosts`], hosts, problems, notes);

  const endpoint = (config[`${PROJECT}:cluster`] as { endpoint?: { mode?: string } } | undefined)?.endpoint;
  if (o.endpointAddress) {
    if (endpoint?.mode === "vip") doc.setIn(["config", `${PROJECT}:cluster`, "endpoint", "address"], o.endpointAddress);
    else if (endpoint?.mode === "dns") doc.setIn(["config", `${PROJECT}:cluster`, "endpoint", "host"], o.endpointAddress);
    else problems.push(`--endpoint-address: cluster.endpoint.mode is "${endpoint?.mode ?? "local-lb"}", which has no address to replace: drop the option`);
  } else if (endpoint?.mode === "vip") {
    notes.push(`cluster.endpoint.address (the VIP) is kept as it was; if the new hosts are on another network, pass --endpoint-address <free address on it>`);
  } else if (endpoint?.mode === "dns") {
    notes.push(`cluster.endpoint.host is kept: point its DNS record / load balancer at the new control planes before \`pulumi up\``);
  }

  const text = doc.toString({ lineWidth: 0 });
  let spec: StackSpec | undefined;
  const raw = rawFromText(text);
  try {
    spec = parseStack(o.to, raw);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  problems.push(...drProblems(raw, o, dirname(resolve(o.stacksDir))));
  if (problems.length > 0) throw new RebuildError(problems);

  // The parsed new file must hold the old ciphertexts unchanged: a
  // re-serialization that touched one would make it undecryptable.
  const written = YAML.parse(text) as Record<string, unknown>;
  for (const k of KEY_FIELDS) {
    if (written[k] !== old[k]) throw new Error(`internal: ${k} changed while writing ${to}`);
  }
  for (const [k, v] of Object.entries(config)) {
    if (isEncrypted(v) && JSON.stringify((written.config as Record<string, unknown>)[k]) !== JSON.stringify(v)) {
      throw new Error(`internal: the encrypted value of ${k} changed while writing ${to}`);
    }
  }
  writeFileSync(to, text);
  return { path: to, spec: spec!, commands: commandsFor(o, old), notes };
}

function rawFromText(text: string): Record<string, unknown> {
  return rawConfigFromStackConfig((YAML.parse(text) as { config?: Record<string, unknown> } | null)?.config ?? {});
}

/**
 * Ciphertexts open only with the key they were made with. A passphrase stack
 * carries its salt, a KMS/Vault stack its encrypted data key; the Pulumi
 * Cloud provider keeps the key per stack on the service, so its ciphertexts
 * cannot be copied and the service must re-encrypt them.
 */
function secretsProviderProblems(old: Record<string, unknown>, config: Record<string, unknown>, from: string, to: string): string[] {
  const hasSecure = Object.values(config).some(isEncrypted);
  if (!hasSecure) return [];
  const provider = typeof old.secretsprovider === "string" ? old.secretsprovider : undefined;
  if (old.encryptionsalt || (old.encryptedkey && provider)) return [];
  return [
    `secretsprovider: stack "${from}" has encrypted values but no encryptionsalt or encryptedkey in its file, so its secrets are held by the Pulumi Cloud ` +
      `service per stack and cannot be copied as text: create the new stack with \`pulumi stack init ${to} --copy-config-from ${from}\` ` +
      `(the service re-encrypts them), then set the new hosts with \`pulumi config set --path --json hosts '[...]' -s ${to}\``,
  ];
}

type HostLike = { name?: unknown; address?: unknown; roles?: unknown; labels?: unknown };

/**
 * The new host list against the old one: a rebuild brings back the same
 * cluster, so fewer control planes is refused (quorum and Argo CD's HA were
 * planned for them); labels no new host carries and old addresses used again
 * are reported, as they are fine only when meant.
 */
function shapeProblems(oldHosts: unknown, newHosts: unknown[], problems: string[], notes: string[]): void {
  const before = (Array.isArray(oldHosts) ? oldHosts : []) as HostLike[];
  const after = newHosts as HostLike[];
  const cps = (hs: HostLike[]) => hs.filter((h) => Array.isArray(h.roles) && h.roles.includes("control-plane")).length;
  if (cps(after) < cps(before)) {
    problems.push(
      `--hosts: ${cps(after)} control plane(s) in the new list, ${cps(before)} in the old stack: a rebuild brings back the same cluster (etcd quorum and Argo CD's HA were planned for ${cps(before)}): give ${cps(before)} of the new hosts roles: [control-plane]`,
    );
  }
  const labels = (hs: HostLike[]) => new Set(hs.flatMap((h) => Object.entries((h.labels ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`)));
  const kept = labels(after);
  for (const l of labels(before)) {
    if (!kept.has(l)) notes.push(`label ${l} was on an old host and is on no new host: workloads that select it will not be scheduled until a host has it`);
  }
  for (const h of after) {
    const old = before.find((b) => b.address === h.address);
    if (old) notes.push(`${String(h.name)} has the address ${String(h.address)} of the old host ${String(old.name)}: fine if the provider gave it back; otherwise the host list is stale`);
  }
}

function readHosts(file: string, problems: string[]): unknown[] | undefined {
  if (!existsSync(file)) {
    problems.push(`--hosts: ${file} does not exist: write the new hosts as a YAML list (name, address, hostKey, roles), like hosts: in the stack file`);
    return undefined;
  }
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, "utf8"));
  } catch (e) {
    problems.push(`--hosts: ${file}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    return undefined;
  }
  const d = doc as Record<string, unknown> | unknown[] | null;
  const list = Array.isArray(d)
    ? d
    : (d as { hosts?: unknown })?.hosts ?? ((d as { config?: Record<string, unknown> })?.config ?? {})[`${PROJECT}:hosts`];
  if (!Array.isArray(list) || list.length === 0) {
    problems.push(`--hosts: ${file} holds no hosts: give a YAML list of hosts, a map with hosts:, or a stack file with ${PROJECT}:hosts`);
    return undefined;
  }
  return list;
}

/** What a rebuild needs beyond a valid config, each named with how to get it. */
export function drProblems(raw: Record<string, unknown>, o: Pick<RebuildOptions, "from" | "to">, projectDir: string): string[] {
  const out: string[] = [];
  // From the raw config, so these are reported even when the schema refuses
  // something else: every missing piece in one run.
  if (!raw.sealingKey) {
    out.push(
      `sealingKey: missing: without the old cluster's sealed-secrets key every SealedSecret in git stays undecryptable on the new cluster; ` +
        `copy it from the old stack's export into the old stack's config and commit that, so this and every later rebuild has it: ` +
        `\`pulumi stack output sealingKey --show-secrets -s ${o.from} | pulumi config set --secret sealingKey -s ${o.from}\` ` +
        `(from an offline copy: \`pulumi config set --secret sealingKey -s ${o.from} < sealing-key.pem\`), then run this again`,
    );
  }
  // The schema already refuses an SSH repo URL without deployKey/knownHosts;
  // here only what the schema cannot see: the SSH key file on this machine.
  const keyPath = (raw.ssh as { privateKeyPath?: unknown } | undefined)?.privateKeyPath;
  if (typeof keyPath === "string" && keyPath !== "") {
    const path = keyPath.startsWith("~/") ? resolve(homedir(), keyPath.slice(2)) : isAbsolute(keyPath) ? keyPath : resolve(projectDir, keyPath);
    if (!existsSync(path)) {
      out.push(`ssh.privateKeyPath: ${keyPath} (${relative(process.cwd(), path) || path}) does not exist on this machine: restore the SSH key from your offline copy, or store it in the stack with \`pulumi config set --secret sshPrivateKey -s ${o.to} < key\` and remove ssh.privateKeyPath`);
    }
  }
  return out;
}

function commandsFor(o: RebuildOptions, old: Record<string, unknown>): string[] {
  const provider = typeof old.secretsprovider === "string" ? old.secretsprovider : old.encryptionsalt ? "passphrase" : undefined;
  const secrets = provider === "passphrase" || (!provider && old.encryptionsalt)
    ? `export PULUMI_CONFIG_PASSPHRASE_FILE=<file with the passphrase of stack ${o.from}>`
    : provider
      ? `# the ${provider} key must be reachable with your credentials`
      : "";
  return [
    ...(secrets ? [secrets] : []),
    `pulumi stack init ${o.to}${provider ? ` --secrets-provider='${provider}'` : ""}`,
    `git diff --no-index stacks/Pulumi.${o.from}.yaml stacks/Pulumi.${o.to}.yaml   # only hosts (and the endpoint) may differ`,
    `pulumi preview --diff -s ${o.to}`,
    `pulumi up -s ${o.to}`,
  ];
}
