// Dynamic provider for the disk benchmark: create runs it and keeps the
// results; diff re-runs it only when what was measured or how it is judged
// changes (or the user bumps diskBenchmark.trigger), never on a plain `up`.
// A failed gate makes create/update throw, so whatever depends on this
// resource (Kubernetes) is never installed on a slow control-plane disk.
//
// Pulumi serializes this object into the deployment; it must capture no
// native objects. Modules are loaded inside the methods, by absolute path,
// because the serialized code runs from another directory.
import type * as pulumi from "@pulumi/pulumi";
import type { DiskBenchmarkPlan } from "../plan/diskBenchmark";
import type { DiskBenchmarkResult } from "../plan/diskResult";
import type { SshTarget } from "../ssh/types";
import { loadModule } from "./providerModules";

/** What the provider receives. `privateKey` is a Pulumi secret and never reaches the outputs. */
export interface DiskBenchmarkInputs {
  /** How to reach the node, without the private key. */
  connection: Omit<SshTarget, "privateKey">;
  /** The `sshPrivateKey` secret's value, when the stack uses it. */
  privateKey?: string;
  plan: DiskBenchmarkPlan;
}

/** Settings whose change means the old result no longer answers the question. */
export const RERUN_KEYS = [
  "address", "hostKey", "etcdDataDir", "isControlPlane", "warnP99Ms", "failP99Ms", "runs", "allowSlowDisk",
  "minFreeMb", "randomIops", "randomRuntimeSeconds", "trigger",
] as const;

export type RerunSettings = Record<(typeof RERUN_KEYS)[number], string | number | boolean>;

/** Secret-free state: the settings the result answers, and the result. */
export interface DiskBenchmarkOutputs {
  settings: RerunSettings;
  result: DiskBenchmarkResult;
}

const MODULES = {
  executor: require.resolve("../ssh/executor"),
  run: require.resolve("../ssh/runDiskBenchmark"),
};

export class DiskBenchmarkProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly modules: typeof MODULES = MODULES) {}

  async diff(_id: string, olds: DiskBenchmarkOutputs, news: DiskBenchmarkInputs): Promise<pulumi.dynamic.DiffResult> {
    const now = rerunSettings(news);
    const changed = RERUN_KEYS.filter((k) => JSON.stringify(olds.settings?.[k]) !== JSON.stringify(now[k]));
    // An update, never a replace: there is nothing on the host to recreate.
    return { changes: changed.length > 0, replaces: [], stables: [], deleteBeforeReplace: false };
  }

  async create(inputs: DiskBenchmarkInputs): Promise<pulumi.dynamic.CreateResult<DiskBenchmarkOutputs>> {
    return { id: `${inputs.plan.node}-disk-benchmark`, outs: await this.measure(inputs) };
  }

  async update(_id: string, _olds: DiskBenchmarkOutputs, news: DiskBenchmarkInputs): Promise<pulumi.dynamic.UpdateResult<DiskBenchmarkOutputs>> {
    return { outs: await this.measure(news) };
  }

  /** Nothing to delete on the host: the benchmark leaves no files. */
  async delete(): Promise<void> {}

  private async measure(inputs: DiskBenchmarkInputs): Promise<DiskBenchmarkOutputs> {
    const { session } = loadModule<typeof import("../ssh/executor")>(this.modules.executor);
    const { runDiskBenchmark, enforceDiskGate } = loadModule<typeof import("../ssh/runDiskBenchmark")>(this.modules.run);
    const { log } = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const target: SshTarget = { ...inputs.connection, ...(inputs.privateKey !== undefined ? { privateKey: inputs.privateKey } : {}) };
    const s = session(target);
    const result = await runDiskBenchmark(s, inputs.plan, {
      onProgress: (line) => log.info(`${inputs.plan.node}: ${line}`),
    });
    if (result.verdict === "warn" || result.verdict === "override") log.warn(`${inputs.plan.node}: ${result.message}`);
    enforceDiskGate(s, result);
    return { settings: rerunSettings(inputs), result };
  }
}

export function rerunSettings(inputs: DiskBenchmarkInputs): RerunSettings {
  const { connection: c, plan: p } = inputs;
  return {
    address: c.address,
    hostKey: c.hostKey,
    etcdDataDir: p.etcdDataDir,
    isControlPlane: p.isControlPlane,
    warnP99Ms: p.warnP99Ms,
    failP99Ms: p.failP99Ms,
    runs: p.runs,
    allowSlowDisk: p.allowSlowDisk,
    minFreeMb: p.minFreeMb,
    randomIops: p.randomIops,
    randomRuntimeSeconds: p.randomRuntimeSeconds,
    trigger: p.trigger,
  };
}
