// Host preparation of one node as a Pulumi resource, backed by the SSH
// executor. How preview shows what would change: `check` (which the engine
// calls on every preview and update, before `diff`) probes the host
// read-only and puts the ids of the steps whose probe fails into the
// `pendingSteps` input. The engine then shows it as an ordinary input diff,
// `~ pendingSteps: [] => ["prep/packages","prep/containerd-config"]`, and
// `diff` reports a change exactly when that list is not empty (or the steps
// themselves changed). After create/update every step passes, so the stored
// outputs say `pendingSteps: []` and a second `up` shows no change. `read`
// (refresh) probes again, so drift made by hand appears in the state.
//
// The provider is serialized into the state and run by the engine's
// dynamic-provider host: it captures only plain values and requires its
// modules inside the methods, by absolute path.
import * as pulumi from "@pulumi/pulumi";
import type { HostStep } from "../plan/step";
import type { StepResult } from "../ssh/runSteps";
import type { SshTarget } from "../ssh/types";
import { loadModule } from "./providerModules";

/** A host to connect to; the private key travels separately, as a secret. */
export type KeylessTarget = Omit<SshTarget, "privateKey">;

export interface HostPrepState {
  node: string;
  target: KeylessTarget;
  privateKey?: string;
  steps: HostStep[];
  /** `systemd-detect-virt` from the host's facts: decides which steps are unsupported here. */
  virt?: string;
  /** Set by `check`: ids of steps whose probe fails and that would be applied. */
  pendingSteps?: string[];
  /** Outputs only: what the last create/update did per step. */
  results?: StepResult[];
}

const MODULES = {
  executor: require.resolve("../ssh/executor"),
  runSteps: require.resolve("../ssh/runSteps"),
};

/** Inputs whose change is a change of the resource even when every probe passes. */
const DEFINING_INPUTS = ["node", "steps", "virt"] as const;
const TARGET_FIELDS = ["address", "port", "user", "hostKey"] as const;

function isKnown(v: unknown): boolean {
  // The engine passes this sentinel for values not known during preview.
  if (v === "04da6b54-80e4-46f7-96ec-b56ff0331ba9") return false;
  if (Array.isArray(v)) return v.every(isKnown);
  if (v && typeof v === "object") return Object.values(v).every(isKnown);
  return true;
}

/** Probe only: ids of steps that would change now. */
async function pending(s: HostPrepState): Promise<string[]> {
  const { session } = loadModule<typeof import("../ssh/executor")>(MODULES.executor);
  const { runSteps } = loadModule<typeof import("../ssh/runSteps")>(MODULES.runSteps);
  const results = await runSteps(session({ ...s.target, privateKey: s.privateKey }), s.steps, { dryRun: true, virt: s.virt });
  return results.filter((r) => r.status === "would-change").map((r) => r.id);
}

async function apply(s: HostPrepState): Promise<StepResult[]> {
  const { session } = loadModule<typeof import("../ssh/executor")>(MODULES.executor);
  const { runSteps } = loadModule<typeof import("../ssh/runSteps")>(MODULES.runSteps);
  return runSteps(session({ ...s.target, privateKey: s.privateKey }), s.steps, { virt: s.virt });
}

/** Input names that differ between the stored state and the new inputs, besides pendingSteps. Pure. */
export function definingChanges(olds: HostPrepState, news: HostPrepState): string[] {
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const out: string[] = DEFINING_INPUTS.filter((k) => !same(olds[k], news[k]));
  for (const f of TARGET_FIELDS) if (!same(olds.target?.[f], news.target?.[f])) out.push(`target.${f}`);
  return out;
}

export const hostPrepProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: HostPrepState, news: HostPrepState): Promise<pulumi.dynamic.CheckResult> {
    if (!isKnown(news.target) || !isKnown(news.steps) || !isKnown(news.privateKey ?? null)) return { inputs: news };
    return { inputs: { ...news, pendingSteps: await pending(news) } };
  },

  async diff(_id: pulumi.ID, olds: HostPrepState, news: HostPrepState): Promise<pulumi.dynamic.DiffResult> {
    const wouldChange = Array.isArray(news.pendingSteps) && isKnown(news.pendingSteps) ? news.pendingSteps : await pending(news);
    return { changes: wouldChange.length > 0 || definingChanges(olds, news).length > 0 };
  },

  async create(inputs: HostPrepState): Promise<pulumi.dynamic.CreateResult> {
    const results = await apply(inputs);
    return { id: inputs.node, outs: { ...inputs, pendingSteps: [], results } };
  },

  async update(_id: pulumi.ID, _olds: HostPrepState, news: HostPrepState): Promise<pulumi.dynamic.UpdateResult> {
    const results = await apply(news);
    return { outs: { ...news, pendingSteps: [], results } };
  },

  async read(id: pulumi.ID, props: HostPrepState): Promise<pulumi.dynamic.ReadResult> {
    const drift = await pending(props);
    const { results: _last, ...inputs } = props;
    return { id, props: { ...props, pendingSteps: drift }, inputs: { ...inputs, pendingSteps: drift } };
  },

  // Preparation is not undone: removing a node from the stack must not
  // uninstall containerd or turn swap back on under whatever runs there now.
  async delete(): Promise<void> {},
};

export interface HostPrepArgs {
  /** Node name (the host's name in the stack). Required. */
  node: pulumi.Input<string>;
  /** How to reach the host, without the private key (`targetFor` minus `privateKey`). Required. */
  target: pulumi.Input<KeylessTarget>;
  /** Private key text when the stack uses the `sshPrivateKey` secret; stored as a secret. Default: none (key file or agent). */
  privateKey?: pulumi.Input<string>;
  /** The node's prep steps from the plan (`NodePlan.prep`), in order. Required. */
  steps: pulumi.Input<HostStep[]>;
  /** `systemd-detect-virt` from the host's facts (`hostFacts`). Default: asked on the host when a step needs it. */
  virt?: pulumi.Input<string>;
}

/** One node's host preparation. Type token: `pulumi-nodejs:dynamic/host:HostPrep`. */
export class HostPrep extends pulumi.dynamic.Resource {
  declare readonly pendingSteps: pulumi.Output<string[]>;
  declare readonly results: pulumi.Output<StepResult[]>;
  declare readonly privateKey: pulumi.Output<string | undefined>;

  constructor(name: string, args: HostPrepArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      hostPrepProvider,
      name,
      {
        node: args.node,
        target: args.target,
        privateKey: args.privateKey === undefined ? undefined : pulumi.secret(args.privateKey),
        steps: args.steps,
        virt: args.virt,
        pendingSteps: undefined,
        results: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "privateKey"] },
      "host",
      "HostPrep",
    );
  }
}
