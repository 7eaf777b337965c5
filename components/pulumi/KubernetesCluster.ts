import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { KubeadmClusterPlan, KubeadmNodePlan } from "../plan/kubeadm";
import { shellQuote as quote } from "../plan/shell";
import { stepScript } from "../plan/step";

/** How one host is reached; the host key is always pinned. */
export interface KubernetesHost {
  address: string;
  port: number;
  user: string;
  /** "<type> <base64>", the key the host must present. */
  hostKey: string;
}

export interface KubernetesClusterArgs {
  /** The kubeadm slice of the plan (`plan.cluster.kubeadm`). Required. */
  plan: KubeadmClusterPlan;
  /** SSH reach of every node in the plan, by node name. Required. */
  hosts: Record<string, KubernetesHost>;
  /** SSH private key text for the connections; treated as a secret. Default: none (use `agentSocket`). */
  privateKey?: pulumi.Input<string>;
  /** SSH agent socket to authenticate with instead of a key. Default: none. */
  agentSocket?: string;
  /** Jump host every connection goes through; its host key is pinned too. Default: none (direct). */
  bastion?: KubernetesHost;
  /**
   * Per node name, resources that must finish before Kubernetes goes on that
   * node (disk benchmark gate, kubelet configuration). All of them also come
   * before `kubeadm init`. Default: none.
   */
  gates?: Record<string, pulumi.Resource[]>;
}

/** Every remote command ironroot runs pins the host key: without it @pulumi/command does not check it. */
type PinnedConnection = command.types.input.remote.ConnectionArgs & { hostKey: pulumi.Input<string> };
type PinnedCommandArgs = Omit<command.remote.CommandArgs, "connection"> & { connection: PinnedConnection };

/** kubeadm on every node: packages, endpoint, init, joins, CNI, readiness. */
export class KubernetesCluster extends pulumi.ComponentResource {
  /** The admin kubeconfig, server reachable from the machine running Pulumi. Secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** Fresh join credentials (token, certificate key, CA hash). Secret. */
  readonly joinCredentials: pulumi.Output<string>;
  readonly endpoint: string;
  readonly nodes: { name: string; roles: string[] }[];
  /** Every remote command, by resource name (for tests and dependents). */
  readonly commands: Record<string, command.remote.Command> = {};

  constructor(name: string, args: KubernetesClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ironroot:k8s:KubernetesCluster", name, {}, opts);
    const { plan } = args;
    if (args.privateKey === undefined && args.agentSocket === undefined) {
      throw new Error(`${name}: KubernetesCluster: no SSH credentials: pass privateKey or agentSocket`);
    }
    const auth = {
      ...(args.privateKey !== undefined ? { privateKey: pulumi.secret(args.privateKey) } : {}),
      ...(args.agentSocket !== undefined ? { agentSocket: args.agentSocket } : {}),
    };
    const proxy = args.bastion && { host: args.bastion.address, port: args.bastion.port, user: args.bastion.user, hostKey: args.bastion.hostKey, ...auth };
    const gates = (n: string) => args.gates?.[n] ?? [];
    const allGates = Object.values(args.gates ?? {}).flat();

    const run = (resName: string, node: string, a: Omit<PinnedCommandArgs, "connection">, dependsOn: pulumi.Resource[], secretOutput = false) => {
      const h = args.hosts[node];
      if (!h) throw new Error(`${node}: KubernetesCluster: no SSH settings for this node: pass it in args.hosts`);
      const sudo = (s: string | undefined) => (s === undefined ? undefined : h.user === "root" ? `bash -c ${quote(s)}` : `sudo -n bash -c ${quote(s)}`);
      const full: PinnedCommandArgs = {
        ...a,
        create: sudo(a.create as string | undefined),
        delete: sudo(a.delete as string | undefined),
        connection: { host: h.address, port: h.port, user: h.user, hostKey: h.hostKey, ...auth, ...(proxy ? { proxy } : {}) },
      };
      const cmd = new command.remote.Command(resName, full as command.remote.CommandArgs, {
        parent: this,
        dependsOn,
        ...(secretOutput ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
      });
      this.commands[resName] = cmd;
      return cmd;
    };

    const first = plan.nodes.find((n) => n.initializes)!;
    const prepared: Record<string, command.remote.Command> = {};
    for (const n of plan.nodes) {
      prepared[n.name] = run(`${n.name}-k8s-prepare`, n.name, { create: prepareScript(n), logging: "stdoutAndStderr" }, gates(n.name));
    }

    // Every node's gates and preparation before init: a cluster must not
    // start on a control plane whose disk failed the benchmark.
    const init = run(`${first.name}-kubeadm-init`, first.name,
      { create: first.bootstrap, delete: first.reset, logging: "none" },
      [...allGates, ...Object.values(prepared)]);
    const cni = run(`${name}-cni`, first.name, { create: plan.cni, logging: "stdoutAndStderr" }, [init]);

    const joiners = plan.nodes.filter((n) => !n.initializes);
    // Credentials expire; new ones are made whenever the set of joining
    // nodes changes (a host added), which is exactly when they are needed.
    const credentials = run(`${name}-join-credentials`, first.name,
      { create: plan.credentials, logging: "none", triggers: joiners.map((n) => n.name) }, [init, cni], true);
    this.joinCredentials = pulumi.secret(credentials.stdout);

    const joined: command.remote.Command[] = [init];
    let previousControlPlane: pulumi.Resource = init;
    const controlPlaneJoins: pulumi.Resource[] = [];
    for (const n of joiners.filter((x) => x.isControlPlane)) {
      // One at a time: etcd grows by one member and must reach quorum again.
      const j = this.join(run, n, credentials, [prepared[n.name], credentials, previousControlPlane]);
      previousControlPlane = j;
      controlPlaneJoins.push(j);
      joined.push(j);
    }
    for (const n of joiners.filter((x) => !x.isControlPlane)) {
      joined.push(this.join(run, n, credentials, [prepared[n.name], credentials, init, ...controlPlaneJoins]));
    }
    // Removal: when a node leaves the config, its membership command is
    // deleted first (drain, delete, etcd member removal on the first control
    // plane), then its join command (kubeadm reset on the node itself).
    for (const n of joiners) {
      run(`${n.name}-membership`, first.name, { create: `echo ${n.name} is a member`, delete: n.remove!, logging: "stdoutAndStderr" },
        [this.commands[`${n.name}-kubeadm-join`]]);
    }

    const ready = run(`${name}-nodes-ready`, first.name,
      { create: plan.waitReady, triggers: plan.nodes.map((n) => n.name), logging: "stdoutAndStderr" }, joined);
    const kubeconfig = run(`${name}-admin-kubeconfig`, first.name, { create: plan.adminKubeconfig, logging: "none" }, [ready], true);
    this.kubeconfig = pulumi.secret(kubeconfig.stdout);
    this.endpoint = plan.endpoint.externalServer;
    this.nodes = plan.nodes.map((n) => ({
      name: n.name,
      roles: n.isControlPlane ? (n.initializes ? ["control-plane", "init"] : ["control-plane"]) : ["worker"],
    }));
    this.registerOutputs({ kubeconfig: this.kubeconfig, endpoint: this.endpoint, nodes: this.nodes });
  }

  private join(
    run: (resName: string, node: string, a: Omit<PinnedCommandArgs, "connection">, dependsOn: pulumi.Resource[]) => command.remote.Command,
    n: KubeadmNodePlan,
    credentials: command.remote.Command,
    dependsOn: pulumi.Resource[],
  ): command.remote.Command {
    return run(`${n.name}-kubeadm-join`, n.name, {
      create: n.bootstrap,
      delete: n.reset,
      // Credentials on stdin, never in the command line.
      stdin: pulumi.secret(credentials.stdout),
      logging: "none",
    }, dependsOn);
  }
}

/** The node's idempotent steps (packages, local load balancer) as one script. */
function prepareScript(n: KubeadmNodePlan): string {
  return n.steps.map((s) => `bash -c ${quote(stepScript(s))}`).join(" &&\n");
}

