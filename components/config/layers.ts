import { z } from "zod";

/** The layers of a stack, in the order `pulumi up` builds them. */
export const LAYERS = ["hosts", "kubernetes", "gitops"] as const;
export type Layer = (typeof LAYERS)[number];

export const layers = z
  .enum(LAYERS, {
    error: (iss) =>
      `${JSON.stringify(iss.input)} is not a layer: use "hosts" (prepare and benchmark hosts only), "kubernetes" (hosts, then Kubernetes) or "gitops" (everything)`,
  })
  .default("gitops")
  .describe(
    "How far `pulumi up` goes. `hosts`: prepare each host, gate its disk and write its kubelet file, nothing else " +
      "(to vet new machines, or to get them ready before the cluster goes on); `kubernetes`: also install Kubernetes; " +
      "`gitops`: also Argo CD, the sealing key and the root app. Lowering it to `hosts` while hosts run Kubernetes is " +
      "refused by preflight. Lowering `gitops` to `kubernetes` is not detected yet: preview lists the GitOps resources " +
      "it would delete; do not apply such a preview. Default: `gitops`.",
  );

/** Whether `layer` is part of a stack that goes up to `upTo`. */
export function includes(upTo: Layer, layer: Layer): boolean {
  return LAYERS.indexOf(layer) <= LAYERS.indexOf(upTo);
}
