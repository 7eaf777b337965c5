// Host-tier harness: the lab hosts written by `scripts/lab up` into
// stacks/Pulumi.lab.yaml (or $IRONROOT_LAB_STACK). Without them, host tests
// skip with a message naming exactly what is missing.
import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { loadStackFile } from "../../components/config/load";
import type { StackSpec } from "../../components/config/schema";
import { credentialsFrom, type SshCredentials } from "../../components/config/ssh";

export interface Lab {
  spec?: StackSpec;
  /** Set when there is no lab: the reason, to pass to `test(..., { skip })`. */
  skip?: string;
}

/** The lab stack's key source, as a provider reads it from the stack config. */
export function labCredentials(spec: StackSpec): () => SshCredentials {
  return () => credentialsFrom(spec.ssh);
}

export function lab(): Lab {
  const file = resolve(process.env.IRONROOT_LAB_STACK ?? resolve(__dirname, "../../stacks/Pulumi.lab.yaml"));
  if (!existsSync(file)) {
    return {
      skip: `no lab hosts: ${file} does not exist; run \`sudo scripts/lab up 3\` first (needs root, systemd-nspawn, debootstrap; \`scripts/lab check\` says what is missing)`,
    };
  }
  const stack = basename(file).replace(/^Pulumi\.(.*)\.yaml$/, "$1");
  return { spec: loadStackFile(dirname(file), stack) };
}

/** The lab's hosts by role, and why a 3 control plane + worker cluster test cannot run on it (undefined when it can). */
export function clusterShape(spec: StackSpec | undefined): { controlPlanes: StackSpec["hosts"]; workers: StackSpec["hosts"]; skip?: string } {
  const controlPlanes = spec?.hosts.filter((h) => h.roles.includes("control-plane")) ?? [];
  const workers = spec?.hosts.filter((h) => !h.roles.includes("control-plane")) ?? [];
  const skip = spec && (controlPlanes.length !== 3 || workers.length < 1)
    ? `the lab has ${controlPlanes.length} control plane(s) and ${workers.length} worker(s); this test wants 3 and at least 1: run \`sudo scripts/lab up 4\``
    : undefined;
  return { controlPlanes, workers, ...(skip ? { skip } : {}) };
}

/** Leaves a lab host as the other tests expect it: no cluster, no bundle, nothing on the kubelet's port. */
export const RESET_CLUSTER_HOST =
  "kubeadm reset -f >/dev/null 2>&1; systemctl disable --now kubelet >/dev/null 2>&1; rm -rf /var/lib/ironroot/bundle /etc/ironroot/cluster /etc/cni/net.d/*; pkill -f 'TCP-LISTEN:10250' || true";
