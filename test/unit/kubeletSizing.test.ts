// The sizing formula against the tiers GKE publishes. Expected values are
// worked out by hand from the tiers (see docs/kubelet.md) and written as
// literals, so a change to the arithmetic cannot pass unnoticed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubelet } from "../../components/config/kubelet";
import { GI, MI } from "../../components/plan/kubelet/quantity";
import { sizedCpuMillis, sizedMemoryBytes, sizeNode } from "../../components/plan/kubelet/sizing";

const defaults = () => kubelet.parse({});

test("CPU reservation per core count matches the GKE tiers", () => {
  // 1: 6% of 1000m = 60m; 2: +1% of 1000m = 70m; 4: +0.5% of 2000m = 80m;
  // above 4: +0.25% (2.5m) per core.
  const table: [number, number][] = [
    [1, 60], [2, 70], [3, 75], [4, 80], [8, 90], [16, 110], [32, 150], [64, 230],
  ];
  for (const [cores, millis] of table) assert.equal(sizedCpuMillis(cores), millis, `${cores} cores`);
});

test("memory reservation per node size matches the GKE tiers (rounded up to whole Mi)", () => {
  // 25% of the first 4Gi (1024Mi max), 20% of the next 4 (819.2Mi), 10% of the
  // next 8 (819.2Mi), 6% of the next 112 (6881.28Mi), 2% above 128Gi.
  const table: [number, number][] = [
    [1, 256], // 1024 * 25%
    [2, 512],
    [3, 768],
    [4, 1024],
    [6, 1434], // 1024 + 409.6
    [8, 1844], // 1024 + 819.2 = 1843.2
    [12, 2253], // 1843.2 + 10% of 4096 (409.6) = 2252.8
    [16, 2663], // 1843.2 + 819.2 = 2662.4
    [32, 3646], // 2662.4 + 6% of 16384 (983.04) = 3645.44
    [64, 5612], // 2662.4 + 6% of 49152 (2949.12) = 5611.52
    [128, 9544], // 2662.4 + 6881.28 = 9543.68
    [192, 10855], // 9543.68 + 2% of 65536 (1310.72) = 10854.4
    [256, 12166], // 9543.68 + 2% of 131072 (2621.44) = 12165.12
  ];
  for (const [gib, mi] of table) assert.equal(sizedMemoryBytes(gib * GI) / MI, mi, `${gib}Gi`);
});

test("a 4-core 16Gi node: split, eviction and allocatable, with the tiers that produced them", () => {
  const s = sizeNode({ node: "w1", group: "default", kubelet: defaults(), size: { cpus: 4, memoryBytes: 16 * GI } });
  assert.equal(s.problem, undefined);
  assert.deepEqual(s.fields, {
    maxPods: 110,
    kubeReserved: { cpu: "40m", memory: "1332Mi" },
    systemReserved: { cpu: "40m", memory: "1331Mi", pid: "1000" },
    evictionHard: { "memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%", "imagefs.available": "15%" },
  });
  // 16384 - 2663 - 100 = 13621Mi; 4000 - 80 = 3920m
  assert.deepEqual(s.allocatable, { cpuMillis: 3920, memoryBytes: 13621 * MI });
  const e = s.explanation;
  assert.deepEqual(e.total, { cpu: "80m", memory: "2663Mi" });
  assert.deepEqual(e.tiers?.memory.map((l) => [l.range, l.rate, l.contribution]), [
    ["0Gi-4Gi", "25%", "1024.00Mi"],
    ["4Gi-8Gi", "20%", "819.20Mi"],
    ["8Gi-16Gi", "10%", "819.20Mi"],
  ]);
  assert.deepEqual(e.tiers?.cpu.map((l) => [l.range, l.rate, l.contribution]), [
    ["0-1 cores", "6%", "60.00m"],
    ["1-2 cores", "1%", "10.00m"],
    ["2-4 cores", "0.5%", "10.00m"],
  ]);
  assert.deepEqual(e.allocatable, { cpu: "3920m", memory: "13621.00Mi" });
  assert.match(e.check, /^ok/);
});

test("the odd unit of an uneven total goes to kubeReserved", () => {
  const s = sizeNode({ node: "n", group: "default", kubelet: defaults(), size: { cpus: 3, memoryBytes: 8 * GI } });
  // 75m -> 38m + 37m; 1844Mi -> 922Mi + 922Mi
  assert.deepEqual(s.fields?.kubeReserved, { cpu: "38m", memory: "922Mi" });
  assert.deepEqual(s.fields?.systemReserved, { cpu: "37m", memory: "922Mi", pid: "1000" });
});

test("static policy takes the configured values, canonically spelled", () => {
  const k = kubelet.parse({
    policy: "static",
    static: { kubeReserved: { cpu: "0.5", memory: "500Mi" }, systemReserved: { cpu: "500m", memory: "1G" } },
    systemReservedPids: 2000,
  });
  const s = sizeNode({ node: "n", group: "default", kubelet: k, size: { cpus: 8, memoryBytes: 32 * GI } });
  assert.deepEqual(s.fields?.kubeReserved, { cpu: "500m", memory: "500Mi" });
  // 1G = 953.67Mi, rounded up so the reservation is never smaller than asked
  assert.deepEqual(s.fields?.systemReserved, { cpu: "500m", memory: "954Mi", pid: "2000" });
  assert.equal(s.explanation.tiers, undefined);
});

test("group overrides replace policy, static values and maxPods for that group only", () => {
  const k = kubelet.parse({
    groups: {
      big: { maxPods: 250 },
      fixed: { policy: "static", static: { kubeReserved: { cpu: "1", memory: "2Gi" }, systemReserved: { cpu: "250m", memory: "512Mi" } } },
    },
  });
  const size = { cpus: 16, memoryBytes: 64 * GI };
  const big = sizeNode({ node: "b", group: "big", kubelet: k, size });
  const fixed = sizeNode({ node: "f", group: "fixed", kubelet: k, size });
  const plain = sizeNode({ node: "p", group: "default", kubelet: k, size });
  assert.equal(big.fields?.maxPods, 250);
  assert.equal(plain.fields?.maxPods, 110);
  assert.deepEqual(big.fields?.kubeReserved, plain.fields?.kubeReserved);
  assert.deepEqual(fixed.fields?.kubeReserved, { cpu: "1000m", memory: "2048Mi" });
  assert.equal(fixed.explanation.policy, "static");
});

test("refuses a node whose reservations leave less than minAllocatable, naming host, reservation and capacity", () => {
  const s = sizeNode({ node: "tiny", group: "default", kubelet: defaults(), size: { cpus: 1, memoryBytes: 1 * GI } });
  // 1024 - 256 - 100 = 668Mi < 1Gi
  assert.equal(
    s.problem,
    "tiny: kubelet reservations leave too little for pods: memory: kubeReserved 128Mi + systemReserved 128Mi + evictionHard memory.available 100.00Mi " +
      "of capacity 1024.00Mi leaves 668.00Mi, below kubelet.minAllocatable.memory 1024Mi: use a bigger host or lower kubelet.minAllocatable",
  );
  assert.match(s.explanation.check, /^refused: memory/);
});

test("a static reservation above capacity is refused with the static config path as the fix", () => {
  const k = kubelet.parse({
    policy: "static",
    static: { kubeReserved: { cpu: "1", memory: "1Gi" }, systemReserved: { cpu: "1", memory: "1Gi" } },
  });
  const s = sizeNode({ node: "small", group: "default", kubelet: k, size: { cpus: 2, memoryBytes: 4 * GI } });
  assert.match(s.problem ?? "", /^small: kubelet reservations leave too little for pods: CPU: kubeReserved 1000m \+ systemReserved 1000m of capacity 2000m leaves 0m, below kubelet.minAllocatable.cpu 500m: lower kubelet.static/);
  assert.equal(s.allocatable?.cpuMillis, 0);
});

test("without host facts a sized node says what it could not compute, and a static node is rendered but not checked", () => {
  const sized = sizeNode({ node: "n", group: "default", kubelet: defaults() });
  assert.equal(sized.fields, undefined);
  assert.match(sized.explanation.check, /^not computed, no kubelet file rendered: the sized policy needs this host's CPUs and memory/);
  const k = kubelet.parse({ policy: "static", static: { kubeReserved: { cpu: "500m", memory: "500Mi" }, systemReserved: { cpu: "500m", memory: "500Mi" } } });
  const stat = sizeNode({ node: "n", group: "default", kubelet: k });
  assert.equal(stat.fields?.kubeReserved.memory, "500Mi");
  assert.match(stat.explanation.check, /^not checked/);
});

test("a percentage memory.available threshold counts against allocatable as a share of capacity", () => {
  const k = kubelet.parse({ evictionHard: { memoryAvailable: "5%" } });
  const s = sizeNode({ node: "n", group: "default", kubelet: k, size: { cpus: 4, memoryBytes: 16 * GI } });
  // 16384 - 2663 - 819.2 = 12901.8Mi
  assert.equal(s.explanation.allocatable?.memory, "12901.80Mi");
  assert.equal(s.fields?.evictionHard["memory.available"], "5%");
});
