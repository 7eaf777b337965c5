// The kubelet configuration file ironroot owns on each node.
//
// Why a drop-in file and not a kubeadm KubeletConfiguration patch: kubeadm
// writes /var/lib/kubelet/config.yaml from one cluster-wide configuration at
// init/join and rewrites it on `kubeadm upgrade`, so per-node values must be
// re-applied through patches at exactly those moments, and a change after
// join means editing a file kubeadm considers its own (the "my reservations
// silently disappeared" reports from kubespray and kubeone users). The kubelet
// drop-in directory (`--config-dir`; alpha 1.28, beta and on by default 1.30,
// GA 1.35) merges `*.conf` files over that base config in name order. One
// file in it belongs to ironroot alone: it can be read back and compared field
// by field, a hand edit is drift, and kubeadm never touches it.
import YAML from "yaml";
import type { KubeletFields } from "./fields";

export const KUBELET_CONFIG_DIR = "/etc/kubernetes/kubelet.conf.d";
/** "50-" leaves room for files before (defaults) and after (site overrides) ours. */
export const KUBELET_DROP_IN = `${KUBELET_CONFIG_DIR}/50-ironroot-reservations.conf`;

/** Oldest minor where the drop-in directory works without a feature gate. */
export const CONFIG_DIR_MIN_MINOR = 30;

/**
 * How the Kubernetes install turns the directory on: the kubelet flag, or the
 * same flag through kubeadm's `nodeRegistration.kubeletExtraArgs` (v1beta4
 * list form) in both InitConfiguration and JoinConfiguration.
 */
export const CONFIG_DIR_ENABLEMENT = {
  kubeletFlag: `--config-dir=${KUBELET_CONFIG_DIR}`,
  kubeadmKubeletExtraArgs: [{ name: "config-dir", value: KUBELET_CONFIG_DIR }],
} as const;

/** Refusal text when the pinned Kubernetes version predates the beta; undefined when fine. */
export function configDirProblem(kubernetesVersion: string): string | undefined {
  const minor = Number(/^1\.(\d+)\./.exec(kubernetesVersion)?.[1]);
  if (minor >= CONFIG_DIR_MIN_MINOR) return undefined;
  return (
    `cluster.kubernetesVersion: ${kubernetesVersion} has no kubelet drop-in config directory on by default ` +
    `(beta since 1.${CONFIG_DIR_MIN_MINOR}), which ironroot uses for kubelet reservations: use 1.${CONFIG_DIR_MIN_MINOR}.0 or later`
  );
}

/**
 * Only the node name goes into the header: policy and group are explained in
 * render's explanation file instead, so the file's bytes change exactly when a
 * field changes and never for a rename of the policy that yields the same numbers.
 */
export interface KubeletFileHeader {
  node: string;
}

/** The exact bytes of the drop-in file for one node. */
export function renderKubeletDropIn(fields: KubeletFields, h: KubeletFileHeader): string {
  const doc = {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    maxPods: fields.maxPods,
    kubeReserved: { ...fields.kubeReserved },
    systemReserved: { ...fields.systemReserved },
    // All four signals are always written: the kubelet sets any signal left
    // out of a non-empty evictionHard to zero, i.e. disables it.
    evictionHard: { ...fields.evictionHard },
  };
  return [
    `# Managed by ironroot: kubelet reservations for node ${h.node}.`,
    "# A hand edit here is drift: `pulumi refresh` shows it, `pulumi up` reverts it.",
    "# Change kubelet.* in the stack config instead.",
    YAML.stringify(doc, { lineWidth: 0, defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" }),
  ].join("\n");
}
