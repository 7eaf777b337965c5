// Small stacks for the GitOps tests: N hosts, an SSH or HTTPS repo, optional taints.
import { createHash } from "node:crypto";
import { gitopsSpec, parseStack, type GitopsStackSpec } from "../../components/config/schema";

/** A well-formed ssh-ed25519 host key of its own for host i (not a real key: nothing is contacted). */
function hostKeyFor(i: number): string {
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const point = createHash("sha256").update(`host-${i}`).digest();
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(point)]).toString("base64")}`;
}
export const KNOWN_HOSTS = "git.example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

export interface StackOptions {
  nodes?: number;
  /** Host indexes that carry a NoSchedule taint of their own. */
  tainted?: number[];
  ha?: "auto" | "on" | "off";
  https?: boolean;
  sealingKey?: boolean;
  waitForHealthy?: boolean;
  gitops?: Record<string, unknown>;
}

export function gitopsStack(o: StackOptions = {}): GitopsStackSpec {
  const n = o.nodes ?? 3;
  const hosts = Array.from({ length: n }, (_, i) => ({
    name: `n-${i + 1}`,
    address: `10.0.0.${11 + i}`,
    hostKey: hostKeyFor(i),
    roles: i === 0 ? ["control-plane"] : ["worker"],
    ...((o.tainted ?? []).includes(i) ? { taints: [{ key: "dedicated", value: "db", effect: "NoSchedule" }] } : {}),
  }));
  const raw: Record<string, unknown> = {
    ssh: { privateKeyPath: "/home/op/.ssh/id_ed25519" },
    cluster: { name: "lab" },
    hosts,
    gitops: {
      repoUrl: o.https ? "https://git.example.net/org/cluster.git" : "git@git.example.net:org/cluster.git",
      ...(o.https ? {} : { knownHosts: KNOWN_HOSTS }),
      argocd: { ha: o.ha ?? "auto" },
      rootApp: { waitForHealthy: o.waitForHealthy ?? false },
      ...o.gitops,
    },
    ...(o.https ? {} : { deployKey: { secret: "deployKey" } }),
    ...(o.sealingKey ? { sealingKey: { secret: "sealingKey" } } : {}),
  };
  const spec = gitopsSpec(parseStack("t", raw));
  if (!spec) throw new Error("gitopsStack: the test stack has no GitOps layer");
  return spec;
}
