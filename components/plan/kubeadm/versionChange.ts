// What a change of cluster.kubernetesVersion means against the version a
// host runs. kubeadm upgrades one minor at a time and never downgrades
// (kubernetes.io: "Skipping MINOR versions when upgrading is unsupported").
// ironroot judges this at preflight, before any host is touched, so a
// wrong pin is refused whole instead of stopping half-way through an up.

export type VersionChange =
  | { kind: "none" }
  /** A newer patch of the same minor, or the next minor. */
  | { kind: "upgrade" }
  | { kind: "downgrade" }
  /** More than one minor up: the minors to pass through, in order ("1.36", "1.37"). */
  | { kind: "skip"; through: string[] };

function parts(version: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`not a Kubernetes version: ${JSON.stringify(version)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** How going from `installed` to `wanted` (both "1.36.3": facts drop kubeadm's "v") would happen. */
export function versionChange(installed: string, wanted: string): VersionChange {
  const [im, iMinor, iPatch] = parts(installed);
  const [wm, wMinor, wPatch] = parts(wanted);
  if (im !== wm) return wm < im ? { kind: "downgrade" } : { kind: "skip", through: [] };
  if (wMinor === iMinor) return wPatch === iPatch ? { kind: "none" } : wPatch > iPatch ? { kind: "upgrade" } : { kind: "downgrade" };
  if (wMinor < iMinor) return { kind: "downgrade" };
  if (wMinor === iMinor + 1) return { kind: "upgrade" };
  return { kind: "skip", through: Array.from({ length: wMinor - iMinor - 1 }, (_, i) => `${im}.${iMinor + 1 + i}`) };
}

/**
 * The preflight error for a host whose Kubernetes is `installed` while the
 * stack pins `wanted`, or undefined when `wanted` is the same or an upgrade
 * ironroot drives (a newer patch, or the next minor: plan/kubeadm/upgrade.ts).
 */
export function versionChangeProblem(installed: string, wanted: string): string | undefined {
  const change = versionChange(installed, wanted);
  const back = `pin cluster.kubernetesVersion back to "${installed}"`;
  switch (change.kind) {
    case "none":
    case "upgrade":
      return undefined;
    case "downgrade":
      return `Kubernetes ${installed} is installed and cluster.kubernetesVersion is ${wanted}, which is older: kubeadm cannot downgrade a cluster: ${back}`;
    case "skip":
      return (
        `Kubernetes ${installed} is installed and cluster.kubernetesVersion is ${wanted}, which skips ${change.through.join(", ") || "a major version"}: ` +
        `kubeadm upgrades one minor at a time: pin each minor in turn and run \`pulumi up\` for each (${[installed, ...change.through.map((m) => `${m}.x`), wanted].join(" -> ")}), or ${back}`
      );
  }
}
