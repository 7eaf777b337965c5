import { z } from "zod";
import { atMost, quantity, threshold } from "./fields";

const reserved = z.strictObject({
  cpu: quantity.describe("CPU, e.g. `500m`."),
  memory: quantity.describe("Memory, e.g. `500Mi`."),
});

const evictionHard = z
  .strictObject({
    memoryAvailable: threshold.default("100Mi").describe("`memory.available`. Default: `100Mi`."),
    nodefsAvailable: threshold.default("10%").describe("`nodefs.available`. Default: `10%`."),
    nodefsInodesFree: threshold.default("5%").describe("`nodefs.inodesFree`. Default: `5%`."),
    imagefsAvailable: threshold.default("15%").describe("`imagefs.available`. Default: `15%`."),
  })
  .prefault({})
  .describe("Hard eviction thresholds; all four are written to every node (a signal left out would be switched off).");

/** The settings a node group may override. */
const policyFields = {
  policy: z.enum(["sized", "static"])
    .describe("`sized`: reservations computed from each node's CPUs and memory (GKE tiers); `static`: the values in `static`."),
  static: z.strictObject({ kubeReserved: reserved.describe("Kept back for Kubernetes daemons (kubelet, container runtime)."), systemReserved: reserved.describe("Kept back for the OS (sshd, journald, systemd).") })
    .describe("Fixed reservations, used when `policy` is `static`."),
  maxPods: z.number().int().min(10).max(1000).describe("Pods per node (`maxPods`)."),
};

const groupOverride = z.strictObject({
  policy: policyFields.policy.optional(),
  static: policyFields.static.optional(),
  maxPods: policyFields.maxPods.optional(),
});

export const kubelet = z
  .strictObject({
    policy: policyFields.policy.default("sized").describe(`${policyFields.policy.description} Default: \`sized\`.`),
    static: policyFields.static.optional()
      .describe("Fixed reservations, used when `policy` is `static`. Default: none (required with `static`)."),
    maxPods: policyFields.maxPods.default(110).describe("Pods per node (`maxPods`). Default: 110."),
    evictionHard,
    systemReservedPids: z.number().int().min(0).max(100_000, atMost(100_000, "pids reserved for the system are taken from pods; the kernel's default pid_max is 4194304 on 64-bit hosts, far less on some")).default(1000)
      .describe("Process IDs kept back for system daemons (`systemReserved.pid`). Default: 1000."),
    minAllocatable: z
      .strictObject({
        cpu: quantity.default("500m").describe("Least CPU left for pods. Default: `500m`."),
        memory: quantity.default("1Gi").describe("Least memory left for pods, after the memory.available eviction threshold. Default: `1Gi`."),
      })
      .prefault({})
      .describe("The plan refuses reservations that leave less than this for pods."),
    groups: z.record(z.string(), groupOverride).default({})
      .describe("Overrides per node group (a host's `group`), e.g. `{big: {maxPods: 250}}`. Default: none."),
    allowCgroupV1: z.boolean().default(false)
      .describe("Lets the kubelet run on a host booted with cgroup v1 (`failCgroupV1: false`). From Kubernetes 1.35 the kubelet refuses cgroup v1 unless told otherwise, and upstream support for it is being removed: prefer booting the host with cgroup v2 (`systemd.unified_cgroup_hierarchy=1`). Preflight reports every host this applies to. Default: false."),
    rollout: z
      .strictObject({
        parallelism: z.number().int().min(1).max(10, atMost(10, "each node is drained before its kubelet restarts; more at once can drain away the capacity the moved pods need")).default(1).describe("Nodes changed at once on a running cluster. Default: 1."),
        drainTimeoutSeconds: z.number().int().min(10).max(3600, atMost(3600, "an hour: a drain that takes longer is stuck on a PodDisruptionBudget a person must look at")).default(300)
          .describe("Seconds `kubectl drain` may take (PodDisruptionBudgets are honoured) before the node's rollout fails. Default: 300."),
        readyTimeoutSeconds: z.number().int().min(10).max(3600, atMost(3600, "an hour: a kubelet not Ready by then will not become Ready by waiting")).default(300)
          .describe("Seconds the restarted kubelet may take to run the new configuration and be Ready. Default: 300."),
      })
      .prefault({})
      .describe("How a changed kubelet configuration is rolled out on a running cluster."),
  })
  .prefault({})
  .describe("Kubelet reserved resources and eviction.");

export type KubeletConfig = z.output<typeof kubelet>;
