import { shellQuote } from "./shell";

/**
 * A host step is data, not a side effect. runSteps (host/runSteps.ts) runs
 * `probe`; only if it fails does it run `apply`, then `probe` again, which
 * must now succeed.
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

/** Held while a step applies; in /run, so a reboot frees it. */
export const STEP_LOCK = "/run/ironroot-step.lock";
/** Who holds the lock: step, pid and start time, for the message of the one waiting. */
export const STEP_HOLDER = "/run/ironroot-step.holder";
/** How long a step waits for an earlier one before it gives up. */
export const STEP_LOCK_WAIT_SECONDS = 600;
/** The exit status of an apply that gave up waiting for the step lock. */
export const STEP_LOCK_TIMEOUT_EXIT = 75;

/** The modes of a step script: its first argument. */
export type StepMode = "probe" | "apply" | "run";

/**
 * The one script of a step: what render writes and, byte for byte, what
 * runSteps sends to the host (on stdin, with the mode as argument).
 *
 * - `probe`: read-only; exit status 0 when the host is already as desired.
 * - `apply`: the change, under the host's step lock. A step whose connection
 *   was lost may still run on the host (nothing signals it); the next apply
 *   waits for it, says so once, and probes again before changing anything.
 *   The change runs in a subshell without the lock's descriptor, so a daemon
 *   it starts never holds the lock.
 * - `run` (the default, for a person running the file): probe, apply if
 *   needed, probe again.
 */
export function stepScript(step: HostStep): string {
  const lines = [
    "#!/usr/bin/env bash",
    `# ${step.title}`,
    `# step: ${step.id}`,
    "# Usage: $0 [probe|apply|run]. probe is read-only; run (the default) applies only when the probe fails.",
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
    "locked_apply() {",
    `  exec 9>>${STEP_LOCK}`,
    "  if ! flock -n 9; then",
    `    echo "waiting for an earlier ironroot step that still runs on this host: $(cat ${STEP_HOLDER} 2>/dev/null || echo unknown)" >&2`,
    `    if ! flock -w ${STEP_LOCK_WAIT_SECONDS} 9; then`,
    `      echo "an earlier ironroot step still holds ${STEP_LOCK} after ${STEP_LOCK_WAIT_SECONDS} s: $(cat ${STEP_HOLDER} 2>/dev/null || echo unknown); see whether it still runs (ps -ef), then run again" >&2`,
    `      exit ${STEP_LOCK_TIMEOUT_EXIT}`,
    "    fi",
    "    if probe; then",
    `      echo "${step.id}: done by the earlier run meanwhile"`,
    "      exit 0",
    "    fi",
    "  fi",
    `  printf '%s (pid %s, since %s)\\n' ${shellQuote(step.id)} "$$" "$(date -u +%FT%TZ)" >${STEP_HOLDER}`,
    "  ( exec 9>&-; apply )",
    "}",
    "",
    'case "${1:-run}" in',
    "  probe) if probe; then exit 0; fi; exit 1 ;;",
    "  apply) locked_apply ;;",
    "  run)",
    "    if probe; then",
    `      echo "${step.id}: already in place"`,
    "      exit 0",
    "    fi",
    "    locked_apply",
    "    probe",
    `    echo "${step.id}: changed"`,
    "    ;;",
    '  *) echo "usage: $0 [probe|apply|run]" >&2; exit 2 ;;',
    "esac",
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
