// Host preparation of one node as a Pulumi resource, run by runSteps over
// SSH. How preview shows what would change: `check` (which the engine
// calls on every preview and update, before `diff`) probes the host
// read-only and puts the ids of the steps whose probe fails into the
// `pendingSteps` input. The engine then shows it as an ordinary input diff,
// `~ pendingSteps: [] => ["prep/packages","prep/containerd-config"]`, and
// `diff` reports a change exactly when that list is not empty (or the steps
// themselves changed). After create/update every step passes, so the stored
// outputs say `pendingSteps: []` and a second `up` shows no change. `read`
// (refresh) probes again, so drift made by hand appears in the state.
//
// How this code reaches the engine, and where the SSH credentials come
// from: hostResource.ts.
import * as pulumi from "@pulumi/pulumi";
import type { HostStep } from "../plan/step";
import { pendingStepIds, runSteps, type StepResult } from "../host/runSteps";
import type { HostAddress } from "../plan/targets";
import { connect, HostResource, isKnown, reachChanges, sameInput, type ProviderFactory } from "./hostResource";

export interface HostPrepState {
  node: string;
  target: HostAddress;
  steps: HostStep[];
  /** `systemd-detect-virt` from the host's facts: decides which steps are unsupported here. */
  virt?: string;
  /** Set by `check`: ids of steps whose probe fails and that would be applied. */
  pendingSteps?: string[];
  /** Outputs only: what the last create/update did per step. */
  results?: StepResult[];
}

/** Inputs whose change is a change of the resource even when every probe passes. */
const DEFINING_INPUTS = ["node", "steps", "virt"] as const;

/** Input names that differ between the stored state and the new inputs, besides pendingSteps. Pure. */
export function definingChanges(olds: HostPrepState, news: HostPrepState): string[] {
  return [...DEFINING_INPUTS.filter((k) => !sameInput(olds[k], news[k])), ...reachChanges(olds.target, news.target)];
}

export const hostPrepProvider: ProviderFactory = (credentials) => {
  const pending = (s: HostPrepState): Promise<string[]> => pendingStepIds(connect(s.target, credentials), s.steps, s.virt);
  const apply = (s: HostPrepState): Promise<StepResult[]> => runSteps(connect(s.target, credentials), s.steps, { virt: s.virt });

  return {
    async check(_olds: HostPrepState, news: HostPrepState): Promise<pulumi.dynamic.CheckResult> {
      // Probed already by the program (all hosts at once), or not knowable yet.
      if (Array.isArray(news.pendingSteps) || !isKnown(news.target) || !isKnown(news.steps)) return { inputs: news };
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
};

export interface HostPrepArgs {
  /** Node name (the host's name in the stack). Required. */
  node: pulumi.Input<string>;
  /** How to reach the host, without credentials (`keylessTarget`). Required. */
  target: pulumi.Input<HostAddress>;
  /** The node's prep steps from the plan (`NodePlan.prep`), in order. Required. */
  steps: pulumi.Input<HostStep[]>;
  /** `systemd-detect-virt` from the host's facts (`hostFacts`). Default: asked on the host when a step needs it. */
  virt?: pulumi.Input<string>;
  /** Ids of the steps found pending when the program started (`pendingSteps` in host/startup.ts). Default: probed by `check`. */
  pendingSteps?: pulumi.Input<string[]>;
}

/** One node's host preparation. Type token: `pulumi-nodejs:dynamic/ironroot:HostPrep`. */
export class HostPrep extends HostResource {
  declare readonly pendingSteps: pulumi.Output<string[]>;
  declare readonly results: pulumi.Output<StepResult[]>;

  constructor(name: string, args: HostPrepArgs, opts?: pulumi.CustomResourceOptions) {
    super("HostPrep", name, { node: args.node, target: args.target, steps: args.steps, virt: args.virt, pendingSteps: args.pendingSteps, results: undefined }, opts);
  }
}
