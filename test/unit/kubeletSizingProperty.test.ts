// Property: over many node sizes and minimums, a plan that is accepted never
// leaves negative (or below-minimum) allocatable, and the refusal happens
// exactly when it would. Allocatable is recomputed here from the rendered
// fields, so the check covers the numbers that actually reach the kubelet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubelet } from "../../components/config/kubelet";
import { cpuMillis, GI, memoryBytes, MI } from "../../components/plan/kubelet/quantity";
import { sizeNode } from "../../components/plan/kubelet/sizing";

/** mulberry32: small, fixed-seed generator so a failure reproduces exactly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("5000 random nodes: refusal exactly when allocatable < minAllocatable; accepted nodes never go negative", () => {
  const r = rng(20260522);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  let refused = 0;
  for (let i = 0; i < 5000; i++) {
    const useStatic = r() < 0.3;
    const k = kubelet.parse({
      policy: useStatic ? "static" : "sized",
      static: useStatic
        ? {
            kubeReserved: { cpu: `${int(0, 3000)}m`, memory: `${int(0, 8192)}Mi` },
            systemReserved: { cpu: `${int(0, 3000)}m`, memory: `${int(0, 8192)}Mi` },
          }
        : undefined,
      evictionHard: { memoryAvailable: r() < 0.5 ? `${int(0, 1024)}Mi` : `${int(0, 20)}%` },
      minAllocatable: { cpu: `${int(0, 2000)}m`, memory: `${int(0, 4096)}Mi` },
    });
    // Half the nodes small, where the minimums bite; half anywhere up to 1Ti.
    const size = { cpus: int(1, 128), memoryBytes: int(64 * MI, r() < 0.5 ? 8 * GI : 1024 * GI) };
    const s = sizeNode({ node: `n${i}`, group: "default", kubelet: k, size });
    const f = s.fields!;
    const evict = f.evictionHard["memory.available"].endsWith("%")
      ? Math.ceil((Number(f.evictionHard["memory.available"].slice(0, -1)) / 100) * size.memoryBytes)
      : memoryBytes(f.evictionHard["memory.available"]);
    const allocCpu = size.cpus * 1000 - cpuMillis(f.kubeReserved.cpu) - cpuMillis(f.systemReserved.cpu);
    const allocMem = size.memoryBytes - memoryBytes(f.kubeReserved.memory) - memoryBytes(f.systemReserved.memory) - evict;
    const tooSmall = allocCpu < cpuMillis(k.minAllocatable.cpu) || allocMem < memoryBytes(k.minAllocatable.memory);
    const where = `case ${i}: ${JSON.stringify({ size, policy: k.policy, fields: f, min: k.minAllocatable })}`;
    assert.equal(s.problem !== undefined, tooSmall, where);
    assert.deepEqual(s.allocatable, { cpuMillis: allocCpu, memoryBytes: allocMem }, where);
    if (!s.problem) {
      assert.ok(allocCpu >= 0 && allocMem >= 0, where);
    } else {
      refused++;
      assert.match(s.problem, new RegExp(`^n${i}: kubelet reservations leave too little for pods: `), where);
    }
  }
  // Both outcomes must occur, or the property says nothing.
  assert.ok(refused > 100 && refused < 4900, `refused ${refused} of 5000`);
});
