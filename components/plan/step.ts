/**
 * A host step is data, not a side effect. runSteps (host/runSteps.ts) runs `probe`; only if
 * it fails does it run `apply`, then `probe` again, which must now succeed.
 * So every step is idempotent, a dry run is "probe only", and a second run
 * changes nothing.
 */
export interface HostStep {
  /** Stable identifier, `<area>/<name>`, e.g. `prep/swap-off`. */
  id: string;
  /** What the step makes true, for people: "Swap is off, now and on boot". */
  title: string;
  /** Read-only shell; exit status 0 means the host is already as desired. */
  probe: string;
  /** Shell that brings the host to the desired state; safe to re-run. */
  apply: string;
  /**
   * Virtualization types (as `systemd-detect-virt` names them) where the
   * change cannot be applied, e.g. loading a kernel module inside a
   * container, and why. runSteps reports these as skipped, not failed.
   */
  unsupportedIn?: { virt: string[]; reason: string };
}

/** The same step as one standalone script: what `render` writes and shellcheck reads. */
export function stepScript(step: HostStep): string {
  const lines = [
    "#!/usr/bin/env bash",
    `# ${step.title}`,
    `# step: ${step.id}`,
    "# The probe is read-only; the change runs only when the probe fails.",
    "set -euo pipefail",
    "",
    "probe() {",
    indent(step.probe),
    "}",
    "",
    "apply() {",
    indent(step.apply),
    "}",
    "",
    "if probe; then",
    `  echo "${step.id}: already in place"`,
    "  exit 0",
    "fi",
    "apply",
    "probe",
    `echo "${step.id}: changed"`,
    "",
  ];
  return lines.join("\n");
}

function indent(s: string): string {
  return s
    .trimEnd()
    .split("\n")
    .map((l) => (l === "" ? "" : `  ${l}`))
    .join("\n");
}
