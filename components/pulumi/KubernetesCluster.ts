import * as pulumi from "@pulumi/pulumi";
import { clusterUpgrade, membershipOrder, type KubeadmClusterPlan, type KubeadmNodePlan } from "../plan/kubeadm";
import type { HostAddress } from "../plan/targets";
import { ClusterReady } from "./ClusterReadyProvider";
import { HostPrep } from "./HostPrepProvider";
import { KubernetesNode, type KubernetesNodeState } from "./KubernetesNodeProvider";
import { KubernetesUpgrade } from "./KubernetesUpgradeProvider";
import { rolloutSummary } from "../plan/kubeadm/upgrade";
import { NodeRemoval } from "./NodeRemovalProvider";

export interface KubernetesClusterArgs {
  /** The kubeadm slice of the plan (`plan.cluster.kubeadm`). Required. */
  plan: KubeadmClusterPlan;
  /** SSH reach of every node in the plan, by node name (`keylessTarget`). Required. */
  hosts: Record<string, HostAddress>;
  /** The control plane that starts the cluster if none runs (`initializer` in plan/inventory.ts, from the hosts' facts). Required. */
  initializer: string;
  /** `systemd-detect-virt` per node, from the facts. Default: asked on the host when a step needs it. */
  virt?: Record<string, string | undefined>;
  /**
   * Per node name, resources that must finish before Kubernetes goes on that
   * node (disk benchmark gate, kubelet configuration, offline bundle). All of
   * them also come before the initializer starts the cluster. Default: none.
   */
  gates?: Record<string, pulumi.Resource[]>;
  /**
   * The Kubernetes version each member runs (kubeadm's, from the facts),
   * by node name. When one differs from the plan, the upgrade is printed
   * node by node and runs one node at a time in kubeadm's order, after
   * every node's gates; otherwise each node's upgrade resource only checks
   * its own node. Default: none (no member known).
   */
  installed?: Record<string, string | undefined>;
}

/**
 * kubeadm on every node: its version (`<node>-k8s-upgrade`: a running
 * member is upgraded there, one node at a time in kubeadm's order, when
 * the pinned version moves), its install steps (`<node>-k8s-install`), then its
 * membership (`<node>-kubernetes`), both named by the node, then the pod
 * network and readiness (`<name>-ready`). The initializer goes first; the other control planes
 * join one at a time (etcd grows one member at a time and must reach quorum
 * again); workers join after them. Hosts marked `remove` are taken out
 * next (`<node>-removal`), one at a time, then readiness is checked.
 */
export class KubernetesCluster extends pulumi.ComponentResource {
  /** The admin kubeconfig, server reachable from the machine running Pulumi. Secret. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly endpoint: string;
  readonly nodes: { name: string; roles: string[] }[];
  /** Each node's install steps, by node name. */
  readonly installs: Record<string, HostPrep> = {};
  /** Each node's version (`<node>-k8s-upgrade`), by node name. */
  readonly upgrades: Record<string, KubernetesUpgrade> = {};
  /** Each node's membership, by node name. */
  readonly members: Record<string, KubernetesNode> = {};
  readonly ready: ClusterReady;
  /** Each host marked `remove`, by node name. */
  readonly removals: Record<string, NodeRemoval> = {};

  constructor(name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:k8s:KubernetesCluster", name, {}, opts);
    const { plan } = args;
    const reach = (node: string): HostAddress => {
      const h = args.hosts[node];
      if (!h) throw new Error(`${node}: KubernetesCluster: no SSH settings for this node: pass it in args.hosts`);
      return h;
    };
    const gates = (n: string) => args.gates?.[n] ?? [];
    const controlPlanes = plan.nodes.filter((n) => n.isControlPlane).map((n) => reach(n.name));
    const upgrade = clusterUpgrade(plan, args.initializer);
    const summary = rolloutSummary(upgrade, args.installed ?? {});
    if (summary) pulumi.log.info(summary);
    let previousUpgrade: pulumi.Resource[] = Object.values(args.gates ?? {}).flat();
    for (const u of upgrade.nodes) {
      // Before the node's install steps, which would otherwise put the new
      // packages under a running kubelet without a drain.
      this.upgrades[u.node] = new KubernetesUpgrade(`${u.node}-k8s-upgrade`, {
        node: u.node,
        target: reach(u.node),
        version: u.version,
        plan: u,
        controlPlanes,
        ...(u.first ? { checks: { snapshot: upgrade.snapshot, etcdMembers: upgrade.etcdMembers }, others: plan.nodes.filter((n) => n.name !== u.node).map((n) => reach(n.name)) } : {}),
        drainTimeoutSeconds: plan.upgrade.drainTimeoutSeconds,
        readyTimeoutSeconds: plan.upgrade.readyTimeoutSeconds,
      }, { parent: this, dependsOn: summary ? previousUpgrade : gates(u.node) });
      previousUpgrade = [this.upgrades[u.node]];
    }
    for (const { node: n, after, afterEveryGate } of membershipOrder(plan.nodes, args.initializer)) {
      // The node's install steps (packages, load balancer, CNI config) run
      // on every node at once, as soon as its own gates pass; membership
      // then follows the plan's order.
      const install = new HostPrep(`${n.name}-k8s-install`, {
        node: n.name,
        target: reach(n.name),
        steps: n.steps,
        ...(args.virt?.[n.name] ? { virt: args.virt[n.name] } : {}),
      }, { parent: this, dependsOn: [...gates(n.name), this.upgrades[n.name]] });
      this.installs[n.name] = install;
      const dependsOn = [...(afterEveryGate ? Object.values(args.gates ?? {}).flat() : gates(n.name)), ...after.map((m) => this.members[m]), install];
      this.members[n.name] = new KubernetesNode(`${n.name}-kubernetes`, memberInputs(plan, n, args, controlPlanes), { parent: this, dependsOn });
    }

    // Hosts marked `remove` go once every node that stays is a member
    // (their pods need somewhere to go), one at a time, and before the
    // readiness check: a dead node still in the cluster would keep the pod
    // network's DaemonSet rollout from ever completing.
    let previous: pulumi.Resource[] = Object.values(this.members);
    for (const r of plan.removals) {
      previous = [this.removals[r.name] = new NodeRemoval(`${r.name}-removal`, {
        node: r.name,
        isControlPlane: r.isControlPlane,
        dead: r.dead,
        steps: r.steps,
        ...(r.dead ? {} : { target: reach(r.name), drain: r.drain, reset: r.reset }),
        controlPlanes,
        forget: r.forget,
      }, { parent: this, dependsOn: previous })];
    }
    this.ready = new ClusterReady(`${name}-ready`, {
      controlPlanes,
      cni: plan.cni,
      waitReady: plan.waitReady,
      adminKubeconfig: plan.adminKubeconfig,
      // By name: reordering hosts is no change.
      nodes: plan.nodes.map((n) => n.name).sort(),
    }, { parent: this, dependsOn: [...Object.values(this.members), ...Object.values(this.removals)] });
    this.kubeconfig = pulumi.secret(this.ready.kubeconfig);
    this.endpoint = plan.endpoint.externalServer;
    this.nodes = plan.nodes
      .map((n) => ({ name: n.name, roles: n.isControlPlane ? ["control-plane"] : ["worker"] }))
      .sort((a, b) => a.name.localeCompare(b.name));
    this.registerOutputs({ kubeconfig: this.kubeconfig, endpoint: this.endpoint, nodes: this.nodes });
  }
}

/** One node's resource inputs: a pure function of the plan, so tests can compare two configs. */
export function memberInputs(
  plan: KubeadmClusterPlan,
  n: KubeadmNodePlan,
  args: Pick<KubernetesClusterArgs, "hosts" | "initializer">,
  controlPlanes: HostAddress[],
): KubernetesNodeState {
  return {
    node: n.name,
    target: args.hosts[n.name],
    isControlPlane: n.isControlPlane,
    ...(n.init ? { init: n.init } : {}),
    join: n.join,
    ...(n.staleMember ? { staleMember: n.staleMember } : {}),
    credentials: plan.credentials,
    controlPlanes,
    initializer: args.initializer,
  };
}
