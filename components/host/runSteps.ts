// Runs host steps over a session: probe; only if it fails, apply and probe
// again, which must now pass. A dry run only probes. Steps a container
// cannot apply (HostStep.unsupportedIn) are reported, not failed.
import { shellQuote } from "../plan/shell";
import type { HostStep } from "../plan/step";
import { collapseLockWaits } from "./lockWaits";
import { HostError, lastLines, type HostSession } from "../ssh/types";

export type StepStatus = "ok" | "changed" | "would-change" | "unsupported";

export interface StepResult {
  id: string;
  status: StepStatus;
  /** Why a step is unsupported here. */
  reason?: string;
}

export interface RunStepsOptions {
  /** Probe only; change nothing. Default: false. */
  dryRun?: boolean;
  /** `systemd-detect-virt` of the host (from its facts); asked once when not given. */
  virt?: string;
  /** Progress lines (step status and the output of applies), already masked. */
  onLine?: (line: string) => void;
}

/** The step bodies are function bodies (they `return`); this wraps them the same way stepScript does. */
export function probeCommand(step: HostStep): string {
  return `set -euo pipefail\nprobe() {\n${step.probe}\n}\nif probe; then exit 0; fi\nexit 1\n`;
}

/** Held while a step applies; in /run, so a reboot frees it. */
export const STEP_LOCK = "/run/ironroot-step.lock";
/** Who holds the lock: step, pid and start time, for the message of the one waiting. */
export const STEP_HOLDER = "/run/ironroot-step.holder";
/** How long a step waits for an earlier one before it gives up. */
export const STEP_LOCK_WAIT_SECONDS = 600;

/**
 * The apply under the host's step lock. A step whose connection was lost
 * may still run on the host (nothing signals it); the next run's apply
 * waits for it, says so once, and probes again before changing anything.
 * The apply itself runs in a subshell without the lock's descriptor, so a
 * daemon it starts never holds the lock; the shell around it keeps the lock
 * until the apply and everything it waits for is done.
 */
export function applyCommand(step: HostStep): string {
  return [
    "set -euo pipefail",
    `probe() {\n${step.probe}\n}`,
    `apply() {\n${step.apply}\n}`,
    `exec 9>>${STEP_LOCK}`,
    "if ! flock -n 9; then",
    `  echo "waiting for an earlier ironroot step that still runs on this host: $(cat ${STEP_HOLDER} 2>/dev/null || echo unknown)" >&2`,
    `  if ! flock -w ${STEP_LOCK_WAIT_SECONDS} 9; then`,
    `    echo "an earlier ironroot step still holds ${STEP_LOCK} after ${STEP_LOCK_WAIT_SECONDS} s: $(cat ${STEP_HOLDER} 2>/dev/null || echo unknown); see whether it still runs (ps -ef), then run again" >&2`,
    "    exit 75",
    "  fi",
    "  if probe; then",
    `    echo "${step.id}: done by the earlier run meanwhile"`,
    "    exit 0",
    "  fi",
    "fi",
    `printf '%s (pid %s, since %s)\\n' ${shellQuote(step.id)} "$$" "$(date -u +%FT%TZ)" >${STEP_HOLDER}`,
    "( exec 9>&-; apply )",
    "",
  ].join("\n");
}

export async function runSteps(s: HostSession, steps: HostStep[], opts: RunStepsOptions = {}): Promise<StepResult[]> {
  const t = s.target;
  const endpoint = `${t.address}:${t.port}`;
  const say = (line: string) => opts.onLine?.(`${t.name}: ${line}`);
  let virt = opts.virt;
  const results: StepResult[] = [];
  for (const step of steps) {
    if ((await s.run(probeCommand(step), { what: `probing step ${step.id} (${step.title})` })).code === 0) {
      results.push({ id: step.id, status: "ok" });
      say(`${step.id}: ok`);
      continue;
    }
    if (step.unsupportedIn) {
      virt ??= (await s.run("systemd-detect-virt || true")).stdout.trim();
      if (step.unsupportedIn.virt.includes(virt)) {
        results.push({ id: step.id, status: "unsupported", reason: step.unsupportedIn.reason });
        say(`${step.id}: unsupported in ${virt}: ${step.unsupportedIn.reason}`);
        continue;
      }
    }
    if (opts.dryRun) {
      results.push({ id: step.id, status: "would-change" });
      say(`${step.id}: would change (${step.title})`);
      continue;
    }
    say(`${step.id}: applying (${step.title})`);
    const applied = await s.run(applyCommand(step), { what: `step ${step.id} (${step.title})`, onLine: collapseLockWaits((l) => say(`${step.id}: ${l}`)) });
    if (applied.code !== 0) {
      throw new HostError(t.name, endpoint, `step ${step.id} (${step.title})`, `apply failed with exit status ${applied.code}: ${lastLines(applied.stderr || applied.stdout)}`);
    }
    if ((await s.run(probeCommand(step), { what: `probing step ${step.id} (${step.title})` })).code !== 0) {
      throw new HostError(t.name, endpoint, `step ${step.id} (${step.title})`, "the change was applied but the probe still fails, so the host is not in the desired state");
    }
    results.push({ id: step.id, status: "changed" });
    say(`${step.id}: changed`);
  }
  return results;
}

/** Probe only: the ids of the steps that would change on the host now (what preview shows as pendingSteps). */
export async function pendingStepIds(s: HostSession, steps: HostStep[], virt?: string): Promise<string[]> {
  const results = await runSteps(s, steps, { dryRun: true, virt });
  return results.filter((r) => r.status === "would-change").map((r) => r.id);
}
