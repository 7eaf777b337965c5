// The code behind every ironroot dynamic resource, by kind. The stub each
// resource keeps in state (hostResource.ts) loads this module from the
// checkout the engine runs in and calls `configure` once, then `call` for
// each operation; package.json's "ironroot.providers" names this file, so
// moving it means changing that one line.
import * as pulumi from "@pulumi/pulumi";
import { sshCredentials, type SshCredentials } from "../config/ssh";
import { onDebug } from "../ssh/pool";
import { HostError } from "../ssh/types";
import { diskBenchmarkProvider } from "./DiskBenchmarkProvider";
import type { ProviderFactory, ProviderKind, RemovalMarks } from "./hostResource";
import { clusterReadyProvider } from "./ClusterReadyProvider";
import { hostPrepProvider } from "./HostPrepProvider";
import { kubernetesNodeProvider } from "./KubernetesNodeProvider";
import { kubeletConfigProvider } from "./KubeletConfigProvider";
import { nodeRemovalProvider } from "./NodeRemovalProvider";
import { kubernetesUpgradeProvider } from "./KubernetesUpgradeProvider";
import { offlineBundleProvider } from "./OfflineBundleProvider";
import { sealingKeyProvider } from "./SealingKeyProvider";

const FACTORIES: Record<ProviderKind, ProviderFactory> = {
  HostPrep: hostPrepProvider,
  DiskBenchmarkRun: diskBenchmarkProvider,
  KubeletConfig: kubeletConfigProvider,
  OfflineBundle: offlineBundleProvider,
  SealingKey: sealingKeyProvider,
  KubernetesNode: kubernetesNodeProvider,
  ClusterReady: clusterReadyProvider,
  NodeRemoval: nodeRemovalProvider,
  KubernetesUpgrade: kubernetesUpgradeProvider,
};

let credentials: () => SshCredentials = () => {
  throw new Error("ssh: the provider was not configured with the stack config; this is a bug in ironroot, please report it");
};

/** Hosts the stack config marks `remove`, with how; no delete ever tries to reach a dead one. */
let marks: RemovalMarks = new Map();

/** The stack config, as the engine hands it to dynamic providers (secrets decrypted). Read when a host is reached, not before. */
export function configure(config: { get(key: string): string | undefined }): void {
  credentials = () => sshCredentials((key) => config.get(key));
  onDebug((m) => pulumi.log.debug(m));
  marks = removalMarks(config.get("ironroot:hosts"));
}

/** The hosts marked `remove` in the raw `ironroot:hosts` JSON; the program has validated it already. */
export function removalMarks(rawHosts: string | undefined): RemovalMarks {
  try {
    const hosts: unknown = JSON.parse(rawHosts ?? "[]");
    if (!Array.isArray(hosts)) return new Map();
    return new Map(hosts.filter((h) => (h?.remove === "dead" || h?.remove === true) && typeof h.name === "string").map((h) => [h.name as string, h.remove]));
  } catch {
    return new Map();
  }
}

/** The host a resource's state is about: every kind keeps it as `target` or `connection`. */
function hostOf(props: unknown): string | undefined {
  const p = props as { target?: { name?: string }; connection?: { name?: string } } | undefined;
  return p?.target?.name ?? p?.connection?.name;
}

/**
 * Run `method` of the provider of `kind`. A method a kind does not define
 * behaves as the engine's default would. A delete that cannot reach its host
 * succeeds with a warning: a host that is gone must not block `up`, and
 * nothing on it could be cleaned up anyway.
 */
export async function call(kind: ProviderKind, method: string, args: unknown[]): Promise<unknown> {
  const provider = FACTORIES[kind](credentials, marks) as unknown as Record<string, ((...a: unknown[]) => Promise<unknown>) | undefined>;
  const fn = provider[method];
  if (!fn) return defaultResult(method, args);
  if (method !== "delete") return fn.apply(provider, args);
  const host = hostOf(args[1]);
  if (host && marks.get(host) === "dead") {
    pulumi.log.info(`${host}: marked dead: removed from the stack without contacting it`);
    return undefined;
  }
  try {
    return await fn.apply(provider, args);
  } catch (e) {
    if (!(e instanceof HostError && e.what === "connecting")) throw e;
    pulumi.log.warn(`${e.message}: removed from the stack without cleaning up on the host`);
    return undefined;
  }
}

function defaultResult(method: string, args: unknown[]): unknown {
  switch (method) {
    case "check":
      return { inputs: args[1] };
    case "diff":
      return {};
    case "read":
      return { id: args[0], props: args[1] };
    case "delete":
      return undefined;
    default:
      throw new Error(`this resource cannot ${method}`);
  }
}
