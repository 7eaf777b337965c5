// The Kubernetes install as files: per node the kubeadm config and the
// scripts in the order they run, per cluster the scripts that run on the
// first control plane. Join credentials appear only as placeholders
// (`<secret:bootstrapToken>`, `<secret:certificateKey>`): the plan never
// holds them.
import type { KubeadmClusterPlan } from "../plan/kubeadm";
import { clusterUpgrade, stepScripts } from "../plan/kubeadm";

export function renderKubeadm(plan: KubeadmClusterPlan): Map<string, string> {
  const files = new Map<string, string>();
  for (const n of plan.nodes) {
    const dir = `nodes/${n.name}/kubeadm`;
    files.set(`${dir}/kubeadm.yaml`, n.kubeadmConfig);
    stepScripts(n).forEach((s, i) => files.set(`${dir}/${String(i + 1).padStart(2, "0")}-${s.id.replace(/\//g, "-")}.sh`, s.script));
    files.set(`${dir}/${n.initializes ? "init" : "join"}.sh`, n.bootstrap);
  }
  for (const r of plan.removals) {
    const dir = `nodes/${r.name}/removal`;
    files.set(`${dir}/steps.txt`, r.steps.map((s, i) => `${i + 1}. ${s}\n`).join(""));
    if (r.drain) files.set(`${dir}/1-drain.sh`, r.drain);
    if (r.reset) files.set(`${dir}/2-reset.sh`, r.reset);
    files.set(`${dir}/3-forget.sh`, r.forget);
  }
  // What a change of cluster.kubernetesVersion runs on a running cluster,
  // for the first control plane in config order (on the hosts, the one that
  // started the cluster goes first).
  const upgrade = clusterUpgrade(plan, plan.firstControlPlane);
  upgrade.nodes.forEach((u, i) => {
    const dir = `nodes/${u.node}/upgrade`;
    files.set(`${dir}/1-kubeadm.sh`, u.kubeadm);
    if (u.images) files.set(`${dir}/1-images.sh`, u.images);
    files.set(`${dir}/2-${u.first ? "kubeadm-upgrade-apply" : "kubeadm-upgrade-node"}.sh`, u.upgrade);
    files.set(`${dir}/3-drain-then-kubelet.sh`, u.kubelet);
    if (i === 0) files.set("cluster/upgrade/snapshot.sh", upgrade.snapshot);
  });
  files.set("cluster/upgrade/order.txt", upgrade.nodes.map((u, i) => `${i + 1}. ${u.node}${u.first ? " (kubeadm upgrade apply)" : ""}\n`).join(""));
  files.set("cluster/kubeadm/endpoint.yaml", [
    `mode: ${plan.endpoint.mode}`,
    `controlPlaneEndpoint: ${plan.endpoint.controlPlaneEndpoint}`,
    `externalServer: ${plan.endpoint.externalServer}`,
    "certSANs:",
    ...plan.endpoint.certSANs.map((s) => `  - ${s}`),
    "",
  ].join("\n"));
  files.set("cluster/kubeadm/join-credentials.sh", plan.credentials);
  files.set("cluster/kubeadm/cni.sh", plan.cni);
  files.set("cluster/kubeadm/wait-ready.sh", plan.waitReady);
  files.set("cluster/kubeadm/admin-kubeconfig.sh", plan.adminKubeconfig);
  return files;
}
