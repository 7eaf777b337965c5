// cluster.endpoint.mode: vip. kube-vip as a static pod on every control
// plane announces the VIP by ARP from the leader; needs a shared layer 2.
//
// Kubernetes 1.29 split kubeadm's admin.conf: it is now bound to the
// cluster-admin ClusterRole, which does not exist yet while `kubeadm init`
// runs, and only the new super-admin.conf (system:masters, first control
// plane only) works then. kube-vip must therefore use super-admin.conf on
// the first control plane during init, then go back to admin.conf.
// Upstream: https://github.com/kube-vip/kube-vip/issues/684
import YAML from "yaml";
import { kubeVipImage, minorNumber } from "./versions";

export const KUBE_VIP_MANIFEST = "/etc/kubernetes/manifests/kube-vip.yaml";
export const ADMIN_CONF = "/etc/kubernetes/admin.conf";
export const SUPER_ADMIN_CONF = "/etc/kubernetes/super-admin.conf";

/** Whether this Kubernetes release has the super-admin.conf split (1.29+). */
export function needsSuperAdminDuringInit(kubernetesVersion: string): boolean {
  return minorNumber(kubernetesVersion) >= 29;
}

export function kubeVipManifest(opts: { address: string; interface: string; port: number; tag: string; kubeconfig: string }): string {
  const env: Record<string, string> = {
    vip_arp: "true",
    port: String(opts.port),
    vip_interface: opts.interface,
    // The pinned release's generator (v0.8.x): vip_subnet (vip_cidr is gone
    // upstream) and, below, vip_nodename from the pod's node.
    vip_subnet: "32",
    cp_enable: "true",
    cp_namespace: "kube-system",
    vip_leaderelection: "true",
    vip_leasename: "plndr-cp-lock",
    vip_leaseduration: "5",
    vip_renewdeadline: "3",
    vip_retryperiod: "1",
    address: opts.address,
  };
  return YAML.stringify(
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "kube-vip", namespace: "kube-system" },
      spec: {
        containers: [
          {
            name: "kube-vip",
            image: kubeVipImage(opts.tag),
            imagePullPolicy: "IfNotPresent",
            args: ["manager"],
            env: [
              ...Object.entries(env).map(([name, value]): Record<string, unknown> => ({ name, value })),
              { name: "vip_nodename", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
            ],
            securityContext: { capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
            volumeMounts: [{ mountPath: ADMIN_CONF, name: "kubeconfig" }],
          },
        ],
        hostAliases: [{ hostnames: ["kubernetes"], ip: "127.0.0.1" }],
        hostNetwork: true,
        volumes: [{ name: "kubeconfig", hostPath: { path: opts.kubeconfig } }],
      },
    },
    { lineWidth: 0, sortMapEntries: false },
  );
}
