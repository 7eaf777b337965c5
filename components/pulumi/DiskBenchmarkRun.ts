import * as pulumi from "@pulumi/pulumi";
import type { DiskBenchmarkInputs, DiskBenchmarkOutputs } from "./DiskBenchmarkProvider";
import { DiskBenchmarkProvider } from "./DiskBenchmarkProvider";

type Inputs = { [K in keyof DiskBenchmarkInputs]: pulumi.Input<DiskBenchmarkInputs[K]> };

// One provider object for every node: Pulumi serializes it once and caches it.
const provider = new DiskBenchmarkProvider();

/** The dynamic resource that holds one node's benchmark result (see DiskBenchmarkProvider). */
export class DiskBenchmarkRun extends pulumi.dynamic.Resource {
  declare readonly settings: pulumi.Output<DiskBenchmarkOutputs["settings"]>;
  declare readonly result: pulumi.Output<DiskBenchmarkOutputs["result"]>;

  constructor(name: string, args: Inputs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...args, settings: undefined, result: undefined }, opts, "ironroot", "DiskBenchmarkRun");
  }
}
