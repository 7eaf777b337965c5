import * as pulumi from "@pulumi/pulumi";
import type { DiskBenchmarkPlan } from "../plan/diskBenchmark/script";
import type { DiskBenchmarkResult } from "../plan/diskBenchmark/gate";
import type { HostAddress } from "../plan/targets";
import { DiskBenchmarkRun } from "./DiskBenchmarkProvider";

export interface DiskBenchmarkArgs {
  /** This node's benchmark from the plan (`NodePlan.diskBenchmark`): script, thresholds, runs, trigger. Required. */
  plan: DiskBenchmarkPlan;
  /** How to reach the node, without credentials (`keylessTarget`). Required. */
  connection: HostAddress;
}

/**
 * Proves a node's disk is fast enough for etcd before Kubernetes goes on it:
 * fio on the etcd data dir's filesystem, judged by the gate. Make the
 * Kubernetes install `dependsOn` every control plane's DiskBenchmark; a
 * failed gate fails this resource and so stops the deployment there. One
 * per node, all independent, so the engine runs them in parallel.
 */
export class DiskBenchmark extends pulumi.ComponentResource {
  /** Secret-free results: percentiles per run and their median, spread, IOPS, verdict. */
  readonly result: pulumi.Output<DiskBenchmarkResult>;
  /** The resource that carries the result; depend on it (or on this component) to run after the gate. */
  readonly run: DiskBenchmarkRun;

  constructor(name: string, args: DiskBenchmarkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:host:DiskBenchmark", name, {}, opts);
    this.run = new DiskBenchmarkRun(`${name}-run`, { connection: args.connection, plan: args.plan }, { parent: this });
    this.result = this.run.result;
    this.registerOutputs({ result: this.result });
  }
}
