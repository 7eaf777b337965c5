import type { Role } from "../config/hosts";
import type { HostSpec, StackSpec } from "../config/schema";

export interface InventoryNode {
  name: string;
  address: string;
  port: number;
  user: string;
  roles: Role[];
  group: string;
  labels: Record<string, string>;
  taints: HostSpec["taints"];
  etcdDataDir: string;
  isControlPlane: boolean;
  /** The control plane that runs `kubeadm init`; every other node joins. */
  initializes: boolean;
  /** Position in the join order, 0 = the initializing control plane. */
  joinIndex: number;
}

/**
 * Join order: the first control plane in config order initializes the
 * cluster, the other control planes join next (etcd grows one member at a
 * time), then the workers. Config order, not names, decides, so adding a
 * host at the end never reorders existing nodes.
 */
export function inventory(spec: StackSpec): InventoryNode[] {
  const cps = spec.hosts.filter((h) => h.roles.includes("control-plane"));
  const workers = spec.hosts.filter((h) => !h.roles.includes("control-plane"));
  return [...cps, ...workers].map((h, joinIndex) => ({
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    roles: h.roles,
    group: h.group,
    labels: h.labels,
    taints: h.taints,
    etcdDataDir: h.etcdDataDir,
    isControlPlane: h.roles.includes("control-plane"),
    initializes: joinIndex === 0,
    joinIndex,
  }));
}
