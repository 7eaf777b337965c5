// Comparing two plans of the same stack on different hosts: swap the old
// addresses (and host keys) for the new ones everywhere, then every
// remaining difference is something that was derived from an address, which
// is exactly what must not exist for a rebuild on new hosts to work.
import { isDeepStrictEqual } from "node:util";

/** old value -> new value; exact addresses, names or keys. */
export type Swaps = Map<string, string>;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Replace each old value by its new one where it stands as a whole token:
 * "10.0.0.1" must not match inside "10.0.0.11" or "110.0.0.1". All swaps
 * happen in one pass, so an address that is another's replacement is not
 * swapped twice.
 */
export function swapText(text: string, swaps: Swaps): string {
  if (swaps.size === 0) return text;
  const olds = [...swaps.keys()].sort((a, b) => b.length - a.length).map(escape);
  const re = new RegExp(`(?<![A-Za-z0-9.-])(${olds.join("|")})(?![A-Za-z0-9-]|\\.[A-Za-z0-9])`, "g");
  return text.replace(re, (m) => swaps.get(m)!);
}

/** The same value with every string, and every object key, swapped. */
export function swapDeep<T>(value: T, swaps: Swaps): T {
  if (typeof value === "string") return swapText(value, swaps) as T;
  if (Array.isArray(value)) return value.map((v) => swapDeep(v, swaps)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [swapText(k, swaps), swapDeep(v, swaps)])) as T;
  }
  return value;
}

/** Paths (`a.b[2].c`) where two values differ, with both sides, for a message. */
export function differences(a: unknown, b: unknown, path = ""): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...differences(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  if (typeof a === "string" && typeof b === "string" && a.includes("\n")) {
    const al = a.split("\n");
    const bl = b.split("\n");
    const i = al.findIndex((l, n) => l !== bl[n]);
    return [`${path || "(value)"}, line ${i + 1}: ${JSON.stringify(al[i])} vs ${JSON.stringify(bl[i])}`];
  }
  return [`${path || "(value)"}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}

/** Old -> new for every host, matched by name (a rebuild keeps the names). */
export function hostSwaps(
  oldHosts: { name: string; address: string; hostKey?: string }[],
  newHosts: { name: string; address: string; hostKey?: string }[],
): Swaps {
  const swaps: Swaps = new Map();
  for (const o of oldHosts) {
    const n = newHosts.find((h) => h.name === o.name);
    if (!n) continue;
    if (o.address !== n.address) swaps.set(o.address, n.address);
    if (o.hostKey && n.hostKey && o.hostKey !== n.hostKey) swaps.set(o.hostKey, n.hostKey);
  }
  return swaps;
}
