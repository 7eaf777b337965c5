// The kubelet drop-in file of one node as a Pulumi resource. Its inputs are
// the reservation fields themselves, so `pulumi preview` shows a policy change
// as Pulumi's own per-field input diff (`~ kubeReserved: { ~ memory: ... }`).
// `read` returns what is on the host as both state and inputs: after
// `pulumi refresh` a hand edit appears as drift, and the next `up` reverts it.
//
// How this code reaches the engine, and where the SSH credentials come
// from: hostResource.ts.
import * as pulumi from "@pulumi/pulumi";
import { parseKubeletDropIn } from "../plan/kubelet/diff";
import { FIELD_PATHS, fieldValue, type KubeletFields } from "../plan/kubelet/fields";
import { renderKubeletDropIn } from "../plan/kubelet/dropIn";
import { applyKubeletDropIn, readKubeletDropIn, removeKubeletDropIn } from "../host/kubeletRollout";
import type { HostAddress } from "../plan/targets";
import { connect, HostResource, reachChanges, sameInput, type ProviderFactory } from "./hostResource";

export interface KubeletConfigState extends KubeletFields {
  node: string;
  path: string;
  target: HostAddress;
  controlPlane?: HostAddress;
  drainTimeoutSeconds: number;
  readyTimeoutSeconds: number;
  /** Fields in the live file that ironroot does not write; always [] as an input. */
  unmanaged: string[];
  /** Outputs only: the field changes the last create/update made. */
  lastChanges?: string[];
}

/** Inputs besides the fields whose change is shown and applied. */
const OTHER_INPUTS = ["node", "path", "drainTimeoutSeconds", "readyTimeoutSeconds"] as const;

/**
 * The inputs that differ, as dotted field paths (`kubeReserved.memory`) for
 * the reservation fields and top-level names for the rest. Pure: the engine's
 * diff and the tests use the same answer.
 */
export function changedInputs(olds: KubeletConfigState, news: KubeletConfigState): string[] {
  const out: string[] = [];
  for (const path of FIELD_PATHS) {
    if (!sameInput(fieldValue(olds, path), fieldValue(news, path))) out.push(path);
  }
  if (!sameInput([...(olds.unmanaged ?? [])].sort(), [...(news.unmanaged ?? [])].sort())) out.push("unmanaged");
  for (const key of OTHER_INPUTS) {
    if (!sameInput(olds[key], news[key])) out.push(key);
  }
  // controlPlane is only where kubectl runs: another one is no change of the file.
  out.push(...reachChanges(olds.target, news.target));
  return out;
}

export const kubeletConfigProvider: ProviderFactory = (credentials) => {
  /** create and update: bring the node's file to the fields, the safe way on a running cluster. */
  const applyState = async (s: KubeletConfigState): Promise<string[]> => {
    const fields = { maxPods: s.maxPods, kubeReserved: s.kubeReserved, systemReserved: s.systemReserved, evictionHard: s.evictionHard };
    const r = await applyKubeletDropIn(connect(s.target, credentials), {
      nodeName: s.node,
      path: s.path,
      content: renderKubeletDropIn(fields, { node: s.node }),
      fields,
      controlPlane: s.controlPlane ? connect(s.controlPlane, credentials) : undefined,
      drainTimeoutSeconds: s.drainTimeoutSeconds,
      readyTimeoutSeconds: s.readyTimeoutSeconds,
    });
    return r.changes;
  };

  return {
    async diff(_id: pulumi.ID, olds: KubeletConfigState, news: KubeletConfigState): Promise<pulumi.dynamic.DiffResult> {
      const changed = changedInputs(olds, news);
      // Another node or another file is another resource: write the new one, remove the old.
      const replaces = changed.filter((k) => k === "path" || k === "node");
      return { changes: changed.length > 0, replaces, deleteBeforeReplace: replaces.length > 0 };
    },

    async create(inputs: KubeletConfigState): Promise<pulumi.dynamic.CreateResult> {
      const lastChanges = await applyState(inputs);
      return { id: `${inputs.node}:${inputs.path}`, outs: { ...inputs, lastChanges } };
    },

    async update(_id: pulumi.ID, _olds: KubeletConfigState, news: KubeletConfigState): Promise<pulumi.dynamic.UpdateResult> {
      const lastChanges = await applyState(news);
      return { outs: { ...news, lastChanges } };
    },

    async read(id: pulumi.ID, props: KubeletConfigState): Promise<pulumi.dynamic.ReadResult> {
      const text = await readKubeletDropIn(connect(props.target, credentials), props.path);
      // A deleted file is a deleted resource: refresh drops it, `up` writes it again.
      if (text === undefined) return { id: undefined, props: {} };
      let live: ReturnType<typeof parseKubeletDropIn>;
      try {
        live = parseKubeletDropIn(text);
      } catch (e) {
        live = { fields: {}, unmanaged: [`(unreadable: ${(e as Error).message})`] };
      }
      const { lastChanges: _ignored, ...inputs } = props;
      const liveState: KubeletConfigState = {
        ...inputs,
        maxPods: live.fields.maxPods as number,
        kubeReserved: (live.fields.kubeReserved ?? {}) as KubeletFields["kubeReserved"],
        systemReserved: (live.fields.systemReserved ?? {}) as KubeletFields["systemReserved"],
        evictionHard: (live.fields.evictionHard ?? {}) as KubeletFields["evictionHard"],
        unmanaged: live.unmanaged,
      };
      return { id, props: { ...liveState, lastChanges: props.lastChanges ?? [] }, inputs: liveState };
    },

    async delete(_id: pulumi.ID, props: KubeletConfigState): Promise<void> {
      // No kubelet restart here: restarting without a drain is exactly what the
      // rollout avoids. The kubelet drops the reservations at its next restart.
      await removeKubeletDropIn(connect(props.target, credentials), props.path);
    },
  };
};

export interface KubeletConfigArgs {
  /** Kubernetes node name (the host's name in the stack). Required. */
  node: pulumi.Input<string>;
  /** Drop-in file path on the host. Default: `/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf`. */
  path?: pulumi.Input<string>;
  /** The reservation fields from the plan (`kubeletPlans`). Required. */
  fields: pulumi.Input<KubeletFields>;
  /** How to reach the node, without credentials. Required. */
  target: pulumi.Input<HostAddress>;
  /** A control plane with /etc/kubernetes/admin.conf, for cordon/drain/uncordon on a running cluster. Default: none (write only). */
  controlPlane?: pulumi.Input<HostAddress>;
  /** `kubectl drain --timeout`. Default: 300. */
  drainTimeoutSeconds?: pulumi.Input<number>;
  /** How long the restarted kubelet may take to run the new config and be Ready. Default: 300. */
  readyTimeoutSeconds?: pulumi.Input<number>;
}

/** One node's kubelet drop-in file. Type token: `pulumi-nodejs:dynamic/ironroot:KubeletConfig`. */
export class KubeletConfig extends HostResource {
  declare readonly kubeReserved: pulumi.Output<KubeletFields["kubeReserved"]>;
  declare readonly systemReserved: pulumi.Output<KubeletFields["systemReserved"]>;
  declare readonly lastChanges: pulumi.Output<string[]>;

  constructor(name: string, args: KubeletConfigArgs, opts?: pulumi.CustomResourceOptions) {
    const fields = pulumi.output(args.fields);
    super(
      "KubeletConfig",
      name,
      {
        node: args.node,
        path: args.path ?? "/etc/kubernetes/kubelet.conf.d/50-ironroot-reservations.conf",
        maxPods: fields.maxPods,
        kubeReserved: fields.kubeReserved,
        systemReserved: fields.systemReserved,
        evictionHard: fields.evictionHard,
        unmanaged: [],
        target: args.target,
        controlPlane: args.controlPlane,
        drainTimeoutSeconds: args.drainTimeoutSeconds ?? 300,
        readyTimeoutSeconds: args.readyTimeoutSeconds ?? 300,
        lastChanges: undefined,
      },
      opts,
    );
  }
}
