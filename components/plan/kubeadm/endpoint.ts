// The API endpoint: what every kubeconfig and join points at, and what the
// API server certificate must cover.
import { isIP } from "node:net";
import type { ClusterConfig } from "../../config/cluster";
import type { InventoryNode } from "../inventory";

export interface EndpointPlan {
  mode: ClusterConfig["endpoint"]["mode"];
  /** `controlPlaneEndpoint` in kubeadm: host:port. */
  controlPlaneEndpoint: string;
  /** Port every API server listens on. */
  apiServerPort: number;
  /** Every name and address clients use, for the API server certificate. */
  certSANs: string[];
  /** Server URL for the admin kubeconfig handed to the operator's machine. */
  externalServer: string;
}

export function endpointPlan(cluster: ClusterConfig, nodes: InventoryNode[]): EndpointPlan {
  // By name, not config order: moving hosts around changes no node's files.
  const cps = nodes.filter((n) => n.isControlPlane).sort((a, b) => a.name.localeCompare(b.name));
  const ep = cluster.endpoint;
  const base = ["127.0.0.1", "localhost", ...cps.map((n) => n.address)];
  switch (ep.mode) {
    case "local-lb":
      return {
        mode: ep.mode,
        // Every node, control planes included, reaches the API through its own
        // load balancer, so no node depends on one control plane being up.
        controlPlaneEndpoint: `127.0.0.1:${ep.localPort}`,
        apiServerPort: ep.port,
        certSANs: unique(base),
        // 127.0.0.1 means nothing on the operator's machine: hand out the
        // first control plane directly.
        externalServer: `https://${hostPort(cps[0].address, ep.port)}`,
      };
    case "vip":
      return {
        mode: ep.mode,
        controlPlaneEndpoint: hostPort(ep.address, ep.port),
        apiServerPort: ep.port,
        certSANs: unique([...base, ep.address]),
        externalServer: `https://${hostPort(ep.address, ep.port)}`,
      };
    case "dns":
      return {
        mode: ep.mode,
        controlPlaneEndpoint: hostPort(ep.host, ep.port),
        // The external load balancer may listen on another port than the
        // API servers; they keep kubeadm's default.
        apiServerPort: 6443,
        certSANs: unique([...base, ep.host]),
        externalServer: `https://${hostPort(ep.host, ep.port)}`,
      };
  }
}

function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
