// Node sizes handed to render as JSON (one file per host, `<host>.json`), so
// the plan can be reviewed offline with real numbers. Accepts the gathered
// host facts or just `{cpus, memoryBytes}`; extra keys are ignored.
import type { NodeSize } from "./sizing";

export function nodeSizeFromJson(value: unknown, source: string): NodeSize {
  const v = value as { cpus?: unknown; memoryBytes?: unknown } | null;
  const cpus = v?.cpus;
  const memoryBytes = v?.memoryBytes;
  if (typeof cpus !== "number" || !(cpus > 0)) {
    throw new Error(`${source}: cpus: expected a positive number of CPUs, got ${JSON.stringify(cpus)}: write e.g. {"cpus": 4, "memoryBytes": 8589934592}`);
  }
  if (typeof memoryBytes !== "number" || !Number.isInteger(memoryBytes) || memoryBytes <= 0) {
    throw new Error(`${source}: memoryBytes: expected a positive whole number of bytes, got ${JSON.stringify(memoryBytes)}: write e.g. {"cpus": 4, "memoryBytes": 8589934592}`);
  }
  return { cpus, memoryBytes };
}
