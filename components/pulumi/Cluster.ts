import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../config/schema";
import type { HostFacts } from "../plan/facts";
import type { Plan } from "../plan";
import type { BundleManifest } from "../plan/kubeadm/bundle";
import { initializer } from "../plan/inventory";
import { keylessTarget } from "../plan/targets";
import { GitOps } from "./GitOps";
import type { HostAddress } from "../plan/targets";
import { HostPrep } from "./HostPrepProvider";
import { KubeletRollout } from "./KubeletRollout";
import { KubernetesCluster } from "./KubernetesCluster";
import { Node } from "./Node";
import { OfflineBundle } from "./OfflineBundleProvider";

export interface ClusterArgs {
  /** The validated stack config. Required. */
  spec: StackSpec;
  /** The plan built from the spec and the host facts. Required. */
  plan: Plan;
  /** Host facts by node name, from start-up (`hostFacts`). Default: none. */
  facts?: Record<string, HostFacts>;
  /** The `deployKey` secret, for SSH repository URLs. Default: none. */
  deployKey?: pulumi.Input<string>;
  /** The `sealingKey` secret to restore. Default: none (generated on the first build). */
  sealingKey?: pulumi.Input<string>;
  /** Per node, the prep steps found pending at start-up. Default: each node's preparation probes for itself. */
  pendingPrep?: Record<string, string[]>;
  /** The parsed bundle.json the plan was built with, when `cluster.offlineBundleDir` is set (`readLocalBundle`). Default: none (packages from the upstream repository). */
  offlineBundle?: BundleManifest;
}

/**
 * The whole stack, in dependency order: every host prepared and its disk
 * benchmarked; kubelet files rolled out node by node; Kubernetes installed
 * once every gate has passed; then Argo CD, the sealing key and the root app.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly nodes: Node[];
  readonly kubelet: KubeletRollout;
  /** Absent when the stack's `layers` is "hosts". */
  readonly kubernetes?: KubernetesCluster;
  /** Air-gapped mode: the bundle's copy on each node, by node name; empty otherwise. */
  readonly offlineBundles: Record<string, OfflineBundle>;
  /** The scheduled etcd snapshot, per control plane. */
  readonly etcdSnapshots: HostPrep[];
  /** Absent when the stack's `layers` stops before GitOps. */
  readonly gitops?: GitOps;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:cluster:Cluster", name, {}, opts);
    const { spec, plan } = args;
    // Dynamic resources keep where each host is, never how to log in: their
    // providers read the key source from the stack config when they connect.
    const keyless = (node: string): HostAddress => keylessTarget(spec, node);

    this.nodes = plan.nodes.map(
      (n) => new Node(n.name, { plan: n, target: keyless(n.name), virt: args.facts?.[n.name]?.virt, pendingSteps: args.pendingPrep?.[n.name] }, { parent: this }),
    );

    // Air-gapped mode: the bundle is on every node, checked, before its
    // Kubernetes packages step runs (that step installs from it).
    const bundleDir = spec.cluster.offlineBundleDir;
    if (bundleDir && !args.offlineBundle) throw new Error(`cluster.offlineBundleDir: the bundle manifest was not read: load ${bundleDir}/bundle.json before building the stack`);
    this.offlineBundles = {};
    if (bundleDir && args.offlineBundle) {
      const files = args.offlineBundle.files;
      plan.nodes.forEach((n, i) => {
        this.offlineBundles[n.name] = new OfflineBundle(
          `${n.name}-offline-bundle`,
          { node: n.name, target: keyless(n.name), bundleDir, kubernetesVersion: spec.cluster.kubernetesVersion, files },
          { parent: this, dependsOn: [this.nodes[i].prep] },
        );
      });
    }

    // kubectl for the rollout runs on the first control plane by name: a
    // stable choice, so reordering hosts changes no kubelet file's inputs.
    const kubectlOn = plan.nodes.filter((n) => n.isControlPlane).map((n) => n.name).sort()[0];
    this.kubelet = new KubeletRollout(
      `${name}-kubelet`,
      {
        nodes: plan.nodes.map((n, i) => {
          if (!n.kubelet.fields) throw new Error(`${n.name}: kubelet reservations: ${n.kubelet.explanation.check}`);
          return { name: n.name, fields: n.kubelet.fields, target: keyless(n.name), dependsOn: [this.nodes[i].prep] };
        }),
        rollout: spec.kubelet.rollout,
        controlPlane: keyless(kubectlOn),
      },
      { parent: this },
    );

    // `layers` stops the stack here for a hosts-only run: prepared,
    // benchmarked, kubelet files written, nothing of Kubernetes.
    this.etcdSnapshots = [];
    if (plan.cluster.layers === "hosts") {
      this.registerOutputs({ nodes: this.nodes.map((n) => n.name) });
      return;
    }

    const kubernetes = new KubernetesCluster(
      `${name}-k8s`,
      {
        plan: plan.cluster.kubeadm,
        hosts: Object.fromEntries(spec.hosts.map((h) => [h.name, keyless(h.name)])),
        // An existing cluster wins: the first control plane the hosts report
        // as a member; on a new cluster, the first control plane.
        initializer: initializer(plan.nodes, (n) => args.facts?.[n]?.kubernetesMember === true),
        installed: Object.fromEntries(plan.nodes.map((n) => {
          const f = args.facts?.[n.name];
          return [n.name, f?.kubernetesMember ? f.kubeadmVersion : undefined];
        })),
        virt: Object.fromEntries(plan.nodes.map((n) => [n.name, args.facts?.[n.name]?.virt])),
        // A node's Kubernetes goes on only after its disk passed the gate,
        // its kubelet file is in place and (air-gapped) its bundle is there.
        gates: Object.fromEntries(plan.nodes.map((n, i) => [
          n.name,
          [this.nodes[i].benchmark.run, this.kubelet.configs[i], ...(this.offlineBundles[n.name] ? [this.offlineBundles[n.name]] : [])],
        ])),
      },
      { parent: this },
    );

    // The snapshot timer uses the etcd client certificates kubeadm creates,
    // so it goes on once the node is in the cluster.
    this.kubernetes = kubernetes;
    this.etcdSnapshots = plan.nodes
      .filter((n) => n.etcdSnapshot.length > 0)
      .map((n) => {
        return new HostPrep(
          `${n.name}-etcd-snapshots`,
          { node: n.name, target: keyless(n.name), steps: n.etcdSnapshot, virt: args.facts?.[n.name]?.virt },
          { parent: this, dependsOn: [kubernetes.members[n.name]] },
        );
      });

    if (!plan.cluster.gitops || !plan.cluster.rootApp) {
      this.registerOutputs({ nodes: this.nodes.map((n) => n.name) });
      return;
    }
    this.gitops = new GitOps(
      `${name}-gitops`,
      {
        plan: plan.cluster.gitops,
        rootApp: plan.cluster.rootApp,
        kubeconfig: kubernetes.kubeconfig,
        ...(args.deployKey !== undefined ? { deployKey: args.deployKey } : {}),
        ...(args.sealingKey !== undefined ? { sealingKey: args.sealingKey } : {}),
      },
      { parent: this, dependsOn: [kubernetes] },
    );

    this.registerOutputs({ nodes: this.nodes.map((n) => n.name) });
  }
}
