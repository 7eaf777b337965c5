// The stack config's namespace. Pulumi hands a program every key of the
// stack file; ironroot reads those under `ironroot:` and leaves other
// namespaces to their owners (`aws:region`, `pulumi:tags`). A key under a
// namespace one slip away from ironroot's would be ignored without a word,
// so the loaders keep such keys, whole, for parseStack to report.
export const PROJECT = "ironroot";

/** Edit distance (insertions, deletions, substitutions) between two strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Whether a config key's namespace looks like a misspelling of ironroot's (`ironrot:hosts`, `Ironroot:ssh`). */
export function isMisspelledNamespace(key: string): boolean {
  const colon = key.indexOf(":");
  if (colon <= 0) return false;
  const namespace = key.slice(0, colon);
  return namespace !== PROJECT && editDistance(namespace.toLowerCase(), PROJECT) <= 2;
}

export function misspelledNamespaceProblem(key: string): string {
  const colon = key.indexOf(":");
  const namespace = key.slice(0, colon);
  const name = key.slice(colon + 1);
  return `${key}: the namespace "${namespace}" is not "${PROJECT}", so this setting would be silently ignored: rename the key to ${PROJECT}:${name}`;
}
