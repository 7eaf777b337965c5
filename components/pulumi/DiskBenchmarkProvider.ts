// Dynamic provider for the disk benchmark: create runs it and keeps the
// results; diff re-runs it only when what was measured or how it is judged
// changes (or the user bumps diskBenchmark.trigger), never on a plain `up`.
// A failed gate makes create/update throw, so whatever depends on this
// resource (Kubernetes) is never installed on a slow control-plane disk.
//
// How this code reaches the engine, and where the SSH credentials come
// from: hostResource.ts.
import * as pulumi from "@pulumi/pulumi";
import type { DiskBenchmarkPlan } from "../plan/diskBenchmark/script";
import type { DiskBenchmarkResult } from "../plan/diskBenchmark/gate";
import { enforceDiskGate, runDiskBenchmark } from "../host/diskBenchmark";
import type { HostAddress } from "../plan/targets";
import { connect, HostResource, type ProviderFactory } from "./hostResource";

/** What the provider receives: where the node is and what to measure. */
export interface DiskBenchmarkInputs {
  /** How to reach the node, without credentials. */
  connection: HostAddress;
  plan: DiskBenchmarkPlan;
}

/** Settings whose change means the old result no longer answers the question. */
export const RERUN_KEYS = [
  "address", "hostKey", "etcdDataDir", "isControlPlane", "warnP99Ms", "failP99Ms", "runs", "allowSlowDisk",
  "minFreeMb", "randomIops", "randomRuntimeSeconds", "trigger", "kubernetesVersion",
] as const;

export type RerunSettings = Record<(typeof RERUN_KEYS)[number], string | number | boolean>;

/** Secret-free state: the settings the result answers, and the result. */
export interface DiskBenchmarkOutputs {
  settings: RerunSettings;
  result: DiskBenchmarkResult;
}

export const diskBenchmarkProvider: ProviderFactory = (credentials) => {
  const measure = async (inputs: DiskBenchmarkInputs): Promise<DiskBenchmarkOutputs> => {
    const s = connect(inputs.connection, credentials);
    const result = await runDiskBenchmark(s, inputs.plan, {
      onProgress: (line) => pulumi.log.info(`${inputs.plan.node}: ${line}`),
    });
    if (result.verdict === "warn" || result.verdict === "override") pulumi.log.warn(`${inputs.plan.node}: ${result.message}`);
    enforceDiskGate(s, result);
    return { settings: rerunSettings(inputs), result };
  };
  return {
    async diff(_id: string, olds: DiskBenchmarkOutputs, news: DiskBenchmarkInputs): Promise<pulumi.dynamic.DiffResult> {
      const now = rerunSettings(news);
      // A result recorded before the version was part of the settings stands
      // until the version changes: no fio run just for a newer ironroot.
      const changed = RERUN_KEYS.filter((k) => !(k === "kubernetesVersion" && olds.settings?.[k] === undefined))
        .filter((k) => JSON.stringify(olds.settings?.[k]) !== JSON.stringify(now[k]));
      // An update, never a replace: there is nothing on the host to recreate.
      return { changes: changed.length > 0, replaces: [], stables: [], deleteBeforeReplace: false };
    },
    async create(inputs: DiskBenchmarkInputs): Promise<pulumi.dynamic.CreateResult<DiskBenchmarkOutputs>> {
      return { id: `${inputs.plan.node}-disk-benchmark`, outs: await measure(inputs) };
    },
    async update(_id: string, _olds: DiskBenchmarkOutputs, news: DiskBenchmarkInputs): Promise<pulumi.dynamic.UpdateResult<DiskBenchmarkOutputs>> {
      return { outs: await measure(news) };
    },
    /** Nothing to delete on the host: the benchmark leaves no files. */
    async delete(): Promise<void> {},
  };
};

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
    kubernetesVersion: p.kubernetesVersion ?? "",
  };
}

type Inputs = { [K in keyof DiskBenchmarkInputs]: pulumi.Input<DiskBenchmarkInputs[K]> };

/** The dynamic resource that holds one node's benchmark result. Type token: `pulumi-nodejs:dynamic/ironroot:DiskBenchmarkRun`. */
export class DiskBenchmarkRun extends HostResource {
  declare readonly settings: pulumi.Output<DiskBenchmarkOutputs["settings"]>;
  declare readonly result: pulumi.Output<DiskBenchmarkOutputs["result"]>;

  constructor(name: string, args: Inputs, opts?: pulumi.CustomResourceOptions) {
    super("DiskBenchmarkRun", name, { ...args, settings: undefined, result: undefined }, opts);
  }
}
