// flannel as the pod network (cluster.cni: flannel): VXLAN between nodes,
// every node's pod subnet from its Node object (--kube-subnet-mgr). The
// manifest is ironroot's own, not upstream's: the pod network comes from
// cluster.podCidr, and the two pieces upstream installs through init
// containers with a shell (the CNI plugin binary and the CNI config) are
// put on each node by the bundle and by a node step instead, so the
// flannel image needs no shell.
import type { HostStep } from "../step";
import { fileHolds, printfLines, shellQuote as q, writeFileAtomically } from "../shell";
import { toYamlDocs } from "./yamlDocs";
import { FLANNEL_IMAGE } from "./versions";

export const FLANNEL_NAMESPACE = "kube-flannel";
export const FLANNEL_DAEMONSET = "kube-flannel-ds";
export const FLANNEL_CNI_CONFIG = "/etc/cni/net.d/10-flannel.conflist";

/** The node's CNI configuration: flannel hands each pod to the bridge plugin, portmap adds hostPorts. */
export const FLANNEL_CNI_CONFLIST = `${JSON.stringify({
  name: "cbr0",
  // 0.4.0: the newest the flannel plugin in the bundle speaks (containernetworking/plugins v0.9.1).
  cniVersion: "0.4.0",
  plugins: [
    { type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } },
    { type: "portmap", capabilities: { portMappings: true } },
  ],
}, null, 2)}\n`;

export function flannelCniConfigStep(): HostStep {
  return {
    id: "kubeadm/cni-config",
    title: `flannel's CNI configuration in ${FLANNEL_CNI_CONFIG}`,
    probe: fileHolds(FLANNEL_CNI_CONFIG, FLANNEL_CNI_CONFLIST),
    apply: writeFileAtomically(FLANNEL_CNI_CONFIG, FLANNEL_CNI_CONFLIST, "0644"),
  };
}

/** Namespace, RBAC, network config and DaemonSet, as one YAML stream. */
export function flannelManifest(podCidr: string): string {
  const labels = { app: "flannel" };
  const netConf = { Network: podCidr, EnableNFTables: false, Backend: { Type: "vxlan" } };
  return toYamlDocs([
    { apiVersion: "v1", kind: "Namespace", metadata: { name: FLANNEL_NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "flannel", namespace: FLANNEL_NAMESPACE } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "flannel" },
      rules: [
        { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
        { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "flannel" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "flannel" },
      subjects: [{ kind: "ServiceAccount", name: "flannel", namespace: FLANNEL_NAMESPACE }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kube-flannel-cfg", namespace: FLANNEL_NAMESPACE, labels },
      data: { "net-conf.json": `${JSON.stringify(netConf, null, 2)}\n` },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: FLANNEL_DAEMONSET, namespace: FLANNEL_NAMESPACE, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            priorityClassName: "system-node-critical",
            serviceAccountName: "flannel",
            tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
            containers: [{
              name: "kube-flannel",
              image: FLANNEL_IMAGE,
              command: ["/opt/bin/flanneld"],
              args: ["--ip-masq", "--kube-subnet-mgr", "--net-config-path=/etc/kube-flannel/net-conf.json"],
              env: [
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              ],
              resources: { requests: { cpu: "100m", memory: "50Mi" } },
              securityContext: { privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
              volumeMounts: [
                { name: "run", mountPath: "/run/flannel" },
                { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
                { name: "xtables-lock", mountPath: "/run/xtables.lock" },
              ],
            }],
            volumes: [
              { name: "run", hostPath: { path: "/run/flannel" } },
              { name: "flannel-cfg", configMap: { name: "kube-flannel-cfg" } },
              { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
            ],
          },
        },
      },
    },
  ]);
}

/** Apply the manifest (from the script itself) and wait for flannel on every node. */
export function flannelScriptBody(podCidr: string): string[] {
  return [
    `${printfLines(flannelManifest(podCidr))} | kubectl apply --server-side --force-conflicts -f -`,
    `kubectl -n ${FLANNEL_NAMESPACE} rollout status daemonset/${FLANNEL_DAEMONSET} --timeout=600s`,
    `echo ${q(`flannel installed (pod network ${podCidr})`)}`,
  ];
}
