// The default API endpoint (cluster.endpoint.mode: local-lb): haproxy on
// every node, listening on 127.0.0.1, forwarding to every control plane.
//
// Why haproxy from the distribution, as a plain systemd service:
// - it must work before kubelet exists (kubeadm init itself talks to the
//   endpoint), so it cannot be a static pod or need a container image;
// - it checks each API server's /readyz (readable without credentials) and
//   stops sending to one that is down or still starting, where a TCP-only
//   check would route to an API server whose etcd is not ready; and it
//   closes the connections already open to one marked down. Without that,
//   a kubelet's one long-lived connection stays on an API server whose etcd
//   restarts (a control plane's kubeadm upgrade) until that API server
//   itself goes: in the lab the worker then missed its heartbeats, went
//   NotReady and had its pods counted unavailable;
// - it comes from the Debian archive, signed and patched with the OS.
// This is the pattern Talos calls KubePrism and kubespray localhost load
// balancing: no VIP and no shared layer 2 needed.
import type { InventoryNode } from "../inventory";
import type { HostStep } from "../step";
import { fileHolds, writeFileAtomically } from "../shell";

export const HAPROXY_CONFIG_PATH = "/etc/haproxy/haproxy.cfg";

export function haproxyConfig(controlPlanes: InventoryNode[], localPort: number, apiServerPort: number): string {
  return [
    "# Written by ironroot: the node-local API server load balancer (cluster.endpoint.mode: local-lb).",
    "# Changes here are overwritten on the next run.",
    "global",
    "    maxconn 4000",
    "",
    "defaults",
    "    mode tcp",
    "    timeout connect 5s",
    "    # watches and exec/log streams stay open for a long time",
    "    timeout client 1h",
    "    timeout server 1h",
    "    timeout check 3s",
    "",
    "frontend kube-apiserver",
    `    bind 127.0.0.1:${localPort}`,
    "    default_backend control-planes",
    "",
    "backend control-planes",
    "    balance roundrobin",
    "    option httpchk",
    "    http-check send meth GET uri /readyz",
    "    http-check expect status 200",
    "    default-server check check-ssl verify none inter 2s fall 3 rise 2 on-marked-down shutdown-sessions",
    ...controlPlanes.map((n) => `    server ${n.name} ${n.address}:${apiServerPort}`),
    "",
  ].join("\n");
}

export function localLoadBalancerStep(config: string): HostStep {
  return {
    id: "kubeadm/local-lb",
    title: "haproxy on 127.0.0.1 forwards to every control plane's API server",
    probe: [
      fileHolds(HAPROXY_CONFIG_PATH, config),
      "systemctl is-enabled --quiet haproxy",
      "systemctl is-active --quiet haproxy",
    ].join(" &&\n  "),
    apply: [
      "export DEBIAN_FRONTEND=noninteractive",
      "if ! command -v haproxy >/dev/null; then",
      "  apt-get -o DPkg::Lock::Timeout=300 install -y haproxy ||",
      "    { apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y haproxy; }",
      "fi",
      writeFileAtomically(`${HAPROXY_CONFIG_PATH}.ironroot-new`, config, "0644"),
      // Check before it replaces a working config, so a bad one never takes
      // the endpoint down.
      `haproxy -c -q -f ${HAPROXY_CONFIG_PATH}.ironroot-new`,
      `mv -f ${HAPROXY_CONFIG_PATH}.ironroot-new ${HAPROXY_CONFIG_PATH}`,
      "systemctl enable --quiet haproxy",
      "systemctl reload-or-restart haproxy",
    ].join("\n"),
  };
}
