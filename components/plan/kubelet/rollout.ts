// Rollout order on a running cluster: `parallelism` chains, node i waits for
// node i - parallelism. With parallelism 1 the nodes go one after another and
// a failure stops everything after it; with p, at most p nodes are drained at
// once. Order is the plan's node order (control planes first, as they join).

/** For each node, the node it must wait for (undefined for the head of a chain). */
export function rolloutPredecessors(names: readonly string[], parallelism: number): (string | undefined)[] {
  const p = Math.max(1, Math.floor(parallelism));
  return names.map((_, i) => (i >= p ? names[i - p] : undefined));
}
