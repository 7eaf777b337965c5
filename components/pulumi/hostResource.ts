// The one way ironroot's dynamic resources are made.
//
// Pulumi keeps a dynamic resource's provider in the stack's state, as code,
// and runs that code again for refresh, destroy and node removal: in another
// process, maybe from another clone, after a `git mv`, or on another
// machine. So what ironroot stores is a stub that names the resource's kind
// and nothing else. At each call the stub finds the ironroot checkout the
// engine runs in (the project folder), loads the providers entry that its
// package.json names ("ironroot": {"providers": ...}) and hands the call on.
// The code that runs is always the checkout's own, the way a Pulumi package's
// provider plugin is the installed version, and no path, key or module of
// the machine that created the state is in it.
//
// Credentials never enter state either: the engine gives dynamic providers
// the stack's whole config (`configure`), and the providers entry reads the
// SSH key source from it at call time, so a rotated key just works.
import * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import type { SshCredentials } from "../config/ssh";
import { session } from "../ssh/session";
import { withCredentials, type HostAddress } from "../plan/targets";
import { type HostSession } from "../ssh/types";

/** Every kind of dynamic resource ironroot has; the type token is `pulumi-nodejs:dynamic/ironroot:<kind>`. */
export type ProviderKind = "HostPrep" | "DiskBenchmarkRun" | "KubeletConfig" | "OfflineBundle" | "SealingKey" | "KubernetesNode" | "ClusterReady" | "NodeRemoval" | "KubernetesUpgrade";

/** Type tokens earlier releases used, so existing stacks adopt the new names without a replace. */
const FORMER_MODULE: Partial<Record<ProviderKind, string>> = {
  HostPrep: "host",
  KubeletConfig: "host",
  OfflineBundle: "host",
  SealingKey: "gitops",
};

/** What a provider entry module exports (components/pulumi/providers.ts). */
export interface ProviderEntry {
  configure(config: { get(key: string): string | undefined }): void;
  call(kind: ProviderKind, method: string, args: unknown[]): Promise<unknown>;
}

/**
 * The provider object Pulumi serializes into state for `kind`. Its code runs
 * in the engine's provider process, by value: it may use only Node's
 * built-ins and what it finds in the checkout it runs in.
 */
export function storedProvider(kind: ProviderKind): pulumi.dynamic.ResourceProvider {
  const load = (): ProviderEntry => {
    const path: typeof import("node:path") = require("node:path");
    const fs: typeof import("node:fs") = require("node:fs");
    for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
      const manifest = path.join(dir, "package.json");
      const entry = fs.existsSync(manifest) ? JSON.parse(fs.readFileSync(manifest, "utf8"))?.ironroot?.providers : undefined;
      if (typeof entry === "string") {
        const file = path.join(dir, entry);
        // The engine's provider process has no TypeScript loader of its own.
        if (file.endsWith(".ts") && !require.extensions[".ts"]) {
          require(require.resolve("ts-node", { paths: [dir] })).register({ transpileOnly: true, project: path.join(dir, "tsconfig.json") });
        }
        return require(file);
      }
      if (path.dirname(dir) === dir) {
        throw new Error(`ironroot: the ${kind} provider runs in ${process.cwd()}, which is not inside an ironroot checkout: run pulumi from the project folder`);
      }
    }
  };
  return {
    configure: async (req) => load().configure(req.config),
    check: async (olds, news) => (await load().call(kind, "check", [olds, news])) as pulumi.dynamic.CheckResult,
    diff: async (id, olds, news) => (await load().call(kind, "diff", [id, olds, news])) as pulumi.dynamic.DiffResult,
    create: async (inputs) => (await load().call(kind, "create", [inputs])) as pulumi.dynamic.CreateResult,
    read: async (id, props) => (await load().call(kind, "read", [id, props])) as pulumi.dynamic.ReadResult,
    update: async (id, olds, news) => (await load().call(kind, "update", [id, olds, news])) as pulumi.dynamic.UpdateResult,
    delete: async (id, props) => {
      await load().call(kind, "delete", [id, props]);
    },
  };
}

// One stub per kind: Pulumi serializes a provider object once per process.
const STUBS = new Map<ProviderKind, pulumi.dynamic.ResourceProvider>();

/** Base class of every ironroot dynamic resource: the stored stub, the type token and the aliases, one way. */
export abstract class HostResource extends pulumi.dynamic.Resource {
  constructor(kind: ProviderKind, name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions = {}) {
    let stub = STUBS.get(kind);
    if (!stub) STUBS.set(kind, (stub = storedProvider(kind)));
    const former = FORMER_MODULE[kind];
    const aliases = former ? [...(opts.aliases ?? []), { type: `pulumi-nodejs:dynamic/${former}:${kind}` }] : opts.aliases;
    super(stub, name, props, { ...opts, ...(aliases ? { aliases } : {}) }, "ironroot", kind);
  }
}

/** Where a host is: the fields whose change means another machine (or another pin). */
const REACH_FIELDS = ["address", "port", "user", "hostKey"] as const;

/** Whether two input values are the same for a diff (absent and null count as the same). */
export function sameInput(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** `target.<field>` for each reach field that differs; timeouts and credentials are not a change of host. */
export function reachChanges(olds: HostAddress | undefined, news: HostAddress | undefined, prefix = "target"): string[] {
  return REACH_FIELDS.filter((f) => !sameInput(olds?.[f], news?.[f])).map((f) => `${prefix}.${f}`);
}

/** Whether a value holds no preview-time unknown anywhere inside it. */
export function isKnown(v: unknown): boolean {
  if (v === unknownValue) return false;
  if (Array.isArray(v)) return v.every(isKnown);
  if (v && typeof v === "object") return Object.values(v).every(isKnown);
  return true;
}

/** Hosts the current stack config marks `remove`, by name: `true` (drain and reset) or "dead". */
export type RemovalMarks = ReadonlyMap<string, true | "dead">;

/** The provider of one kind, given how to get the SSH credentials when it needs them and the hosts being removed. */
export type ProviderFactory = (credentials: () => SshCredentials, removing?: RemovalMarks) => pulumi.dynamic.ResourceProvider;

/** A session to `address` with the credentials the stack names now. */
export function connect(address: HostAddress, credentials: () => SshCredentials): HostSession {
  return session(withCredentials(address, credentials()));
}
