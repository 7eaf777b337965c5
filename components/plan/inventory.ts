import { activeHosts, type Role } from "../config/hosts";
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
 * The nodes: every host not marked `remove` (those are planned apart, in
 * kubeadm/removal.ts). Join order: the first control plane in config order
 * initializes a new cluster, the other control planes join next (etcd grows
 * one member at a time), then the workers. Config order, not names,
 * decides, so adding a host at the end never reorders existing nodes.
 */
export function inventory(spec: StackSpec): InventoryNode[] {
  const hosts = activeHosts(spec.hosts);
  const cps = hosts.filter((h) => h.roles.includes("control-plane"));
  const workers = hosts.filter((h) => !h.roles.includes("control-plane"));
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

/**
 * The control plane that starts the cluster when none runs yet: the first
 * control plane (config order) that the hosts report as a member already
 * (an existing cluster wins), else the first control plane. Other nodes
 * join whichever control plane answers, so this only matters on the very
 * first `up`, and moving hosts around in the config never changes a node.
 */
export function initializer(nodes: InventoryNode[], isMember: (node: string) => boolean = () => false): string {
  const cps = nodes.filter((n) => n.isControlPlane);
  if (cps.length === 0) throw new Error("hosts: no control plane: the config check should have refused this");
  return (cps.find((n) => isMember(n.name)) ?? cps[0]).name;
}
