// Runs host steps over a session: probe; only if it fails, apply and probe
// again, which must now pass. A dry run only probes. Steps a container
// cannot apply (HostStep.unsupportedIn) are reported, not failed.
import { stepScript, type HostStep, type StepMode } from "../plan/step";
import { collapseLockWaits } from "./lockWaits";
import { HostError, failedWith, type HostSession, type RunOptions, type RunResult } from "../ssh/types";

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

/**
 * A step's script (stepScript, byte for byte what render writes) runs from
 * standard input with its mode as argument, so what runs on the host is what
 * a reader of the rendered file sees.
 */
function runStep(s: HostSession, script: string, mode: StepMode, opts: RunOptions): Promise<RunResult> {
  return s.run(`bash -s -- ${mode}`, { ...opts, stdin: script });
}

export async function runSteps(s: HostSession, steps: HostStep[], opts: RunStepsOptions = {}): Promise<StepResult[]> {
  const t = s.target;
  const endpoint = `${t.address}:${t.port}`;
  const say = (line: string) => opts.onLine?.(`${t.name}: ${line}`);
  let virt = opts.virt;
  const results: StepResult[] = [];
  for (const step of steps) {
    const script = stepScript(step);
    if ((await runStep(s, script, "probe", { what: `probing step ${step.id} (${step.title})` })).code === 0) {
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
    const applied = await runStep(s, script, "apply", { what: `step ${step.id} (${step.title})`, onLine: collapseLockWaits((l) => say(`${step.id}: ${l}`)) });
    if (applied.code !== 0) {
      throw new HostError(t.name, endpoint, `step ${step.id} (${step.title})`, `apply failed with ${failedWith(applied)}`);
    }
    if ((await runStep(s, script, "probe", { what: `probing step ${step.id} (${step.title})` })).code !== 0) {
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
