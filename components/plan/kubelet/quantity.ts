// Kubernetes quantities as the kubelet reads them, reduced to integers so the
// sizing arithmetic is exact and every rendered value has one spelling:
// CPU in millicores ("75m"), memory in mebibytes ("1844Mi"). One spelling per
// value keeps `pulumi preview` and render diffs free of "1Gi => 1024Mi" noise.

export const MI = 1024 * 1024;
export const GI = 1024 * MI;

const QUANTITY = /^(\d+(?:\.\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

const FACTOR: Record<string, number> = {
  "": 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: MI, Gi: GI, Ti: 1024 * GI, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

function parse(q: string, what: string): { value: number; suffix: string } {
  const m = QUANTITY.exec(q.trim());
  if (!m) throw new Error(`${JSON.stringify(q)} is not a Kubernetes quantity (${what})`);
  return { value: Number(m[1]), suffix: m[2] ?? "" };
}

/** "500m" -> 500, "2" -> 2000, "0.5" -> 500. Rounded up: a reservation never shrinks by rounding. */
export function cpuMillis(q: string): number {
  const { value, suffix } = parse(q, "CPU");
  if (suffix === "m") return Math.ceil(value);
  return Math.ceil(value * FACTOR[suffix] * 1000 - 1e-9);
}

/** "512Mi" -> 536870912, "1G" -> 1e9; "m" (milli-bytes) is rounded up to whole bytes. */
export function memoryBytes(q: string): number {
  const { value, suffix } = parse(q, "memory");
  if (suffix === "m") return Math.ceil(value / 1000);
  return Math.ceil(value * FACTOR[suffix]);
}

export function formatCpu(millis: number): string {
  return `${millis}m`;
}

/** Whole mebibytes, rounded up, so "1G" (953.67Mi) reserves 954Mi rather than less than asked. */
export function formatMemory(bytes: number): string {
  return `${Math.ceil(bytes / MI)}Mi`;
}

/** Memory in Mi with two decimals, for explanations only (never rendered into kubelet files). */
export function mebibytes(bytes: number): string {
  return `${(bytes / MI).toFixed(2)}Mi`;
}
