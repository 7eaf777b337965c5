// Small stacks for the GitOps tests: N hosts, an SSH or HTTPS repo, optional taints.
import { gitopsSpec, parseStack, type GitopsStackSpec } from "../../components/config/schema";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILm19oHNvtVfJ5h7e5oTvdp/OfDgP/9tsZgNPxt1CoqE";
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
    hostKey: KEY,
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
