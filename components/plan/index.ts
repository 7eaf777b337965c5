// The plan: everything `pulumi up` will apply, as data. Pure and
// deterministic: no Pulumi, no SSH, no clock, no randomness.
import type { Layer } from "../config/layers";
import { gitopsSpec, type StackSpec } from "../config/schema";
import { gitopsPlan, type GitopsPlan } from "./gitops";
import { diskBenchmarkPlan, type DiskBenchmarkPlan } from "./diskBenchmark/script";
import { etcdSnapshotPlan } from "./etcdSnapshot";
import { inventory, type InventoryNode } from "./inventory";
import { planKubeadm, type KubeadmClusterPlan, type KubeadmOptions } from "./kubeadm";
import { kubeletPlans, type KubeletNodePlan, type NodeSize } from "./kubelet";
import { prepSteps } from "./prep";
import { rootApplication } from "./rootApp";
import type { HostStep } from "./step";

export interface NodePlan extends InventoryNode {
  /** Host preparation, in order. */
  prep: HostStep[];
  /** The etcd disk benchmark and its gate (runs before Kubernetes goes on the node). */
  diskBenchmark: DiskBenchmarkPlan;
  /** Kubelet reservations: the drop-in file and why it holds these numbers. */
  kubelet: KubeletNodePlan;
  /** Scheduled etcd snapshots (control planes; empty on workers). Applied after the node has joined. */
  etcdSnapshot: HostStep[];
}

export interface ClusterPlan {
  name: string;
  /** How far `pulumi up` goes (`layers`): the parts above it are planned but not applied. */
  layers: Layer;
  /** Node names in the order they enter the cluster. */
  joinOrder: string[];
  /** The root App-of-Apps; absent when the stack stops before GitOps. */
  rootApp?: ReturnType<typeof rootApplication>;
  /** Argo CD, sealed-secrets and their key: what the GitOps component installs; absent when the stack stops before GitOps. */
  gitops?: GitopsPlan;
  /** The Kubernetes install: packages, endpoint, init/join/remove scripts. */
  kubeadm: KubeadmClusterPlan;
}

export interface Plan {
  stack: string;
  nodes: NodePlan[];
  cluster: ClusterPlan;
}

/** Inputs that come from outside the spec (files read by the caller). */
export interface PlanInputs {
  kubeadm?: KubeadmOptions;
  /** CPUs and memory per node name (host facts); without them sized kubelet reservations stay uncomputed. */
  nodeSizes?: Record<string, NodeSize>;
}

export function buildPlan(spec: StackSpec, inputs: PlanInputs = {}): Plan {
  const nodeList = inventory(spec);
  const kubelet = kubeletPlans(spec, nodeList, inputs.nodeSizes);
  const gitops = gitopsSpec(spec);
  const nodes = nodeList.map((n, i) => ({ ...n, prep: prepSteps(spec.cluster.kubernetesVersion), diskBenchmark: diskBenchmarkPlan(spec, n), kubelet: kubelet[i], etcdSnapshot: etcdSnapshotPlan(spec, n) }));
  return {
    stack: spec.stack,
    nodes,
    cluster: {
      name: spec.cluster.name,
      layers: spec.layers,
      joinOrder: nodes.map((n) => n.name),
      ...(gitops ? { rootApp: rootApplication(gitops.gitops), gitops: gitopsPlan(gitops) } : {}),
      kubeadm: planKubeadm(spec, nodes, inputs.kubeadm),
    },
  };
}
