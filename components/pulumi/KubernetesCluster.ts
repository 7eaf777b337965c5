import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { KubeadmClusterPlan, KubeadmNodePlan } from "../plan/kubeadm";
import { shellQuote as quote } from "../plan/shell";
import { stepScript } from "../plan/step";
import type { HostAddress } from "../ssh/types";
import { commandConnection, commandText, type CommandAuth } from "./remoteCommand";

export interface KubernetesClusterArgs {
  /** The kubeadm slice of the plan (`plan.cluster.kubeadm`). Required. */
  plan: KubeadmClusterPlan;
  /** SSH reach of every node in the plan, by node name (`keylessTarget`; its bastion, timeouts and retries apply). Required. */
  hosts: Record<string, HostAddress>;
  /** The SSH key text (kept secret) or the agent socket the commands authenticate with. Required. */
  auth: CommandAuth;
  /**
   * Per node name, resources that must finish before Kubernetes goes on that
   * node (disk benchmark gate, kubelet configuration). All of them also come
   * before `kubeadm init`. Default: none.
   */
  gates?: Record<string, pulumi.Resource[]>;
}

type CommandArgs = Omit<command.remote.CommandArgs, "connection">;

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
    const gates = (n: string) => args.gates?.[n] ?? [];
    const allGates = Object.values(args.gates ?? {}).flat();

    const run = (resName: string, node: string, a: CommandArgs, dependsOn: pulumi.Resource[], secretOutput = false) => {
      const h = args.hosts[node];
      if (!h) throw new Error(`${node}: KubernetesCluster: no SSH settings for this node: pass it in args.hosts`);
      const wrap = (s: string | undefined) => (s === undefined ? undefined : commandText(h, s));
      const full: command.remote.CommandArgs = {
        ...a,
        create: wrap(a.create as string | undefined),
        delete: wrap(a.delete as string | undefined),
        connection: commandConnection(h, args.auth),
      };
      const cmd = new command.remote.Command(resName, full, {
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
    run: (resName: string, node: string, a: CommandArgs, dependsOn: pulumi.Resource[]) => command.remote.Command,
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

