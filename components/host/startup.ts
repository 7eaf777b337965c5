// Program start-up: gather the facts of every host in parallel, run
// preflight, and throw before any resource is registered when a host fails,
// so no host is changed while another one is unfit. Read-only on the hosts,
// so it runs on preview too.
import type { StackSpec } from "../config/schema";
import type { HostFacts } from "../plan/facts";
import { inventory } from "../plan/inventory";
import { assertPreflight, formatReport, preflight, requiredPorts, type HostReport, type Observed, type PreflightOptions } from "../plan/preflight";
import type { HostStep } from "../plan/step";
import { closeAll } from "../ssh/pool";
import { session } from "../ssh/session";
import { targetFor } from "../plan/targets";
import { gatherFacts } from "./gatherFacts";
import { pendingStepIds } from "./runSteps";

export interface HostFactsOptions extends PreflightOptions {
  /** Value of the `sshPrivateKey` secret when the stack uses it (`sshPrivateKeyFromConfig`). Default: none. */
  privateKey?: string;
  /** Where the per-host reports go (the program passes the Pulumi log). Default: standard error. */
  log?: (report: HostReport, text: string) => void;
  /** Keep the SSH connections open for later use in this process. Default: false (closed, so the program can exit). */
  keepConnections?: boolean;
}

export interface GatheredHosts {
  facts: Record<string, HostFacts>;
  reports: HostReport[];
}

/** Facts of every host, after preflight passed. Throws PreflightError listing every failing host. */
export async function hostFacts(spec: StackSpec, opts: HostFactsOptions = {}): Promise<GatheredHosts> {
  const nodes = inventory(spec);
  const observed: Record<string, Observed> = {};
  try {
    await Promise.all(
      nodes.map(async (n) => {
        try {
          observed[n.name] = await gatherFacts(session(targetFor(spec, n.name, opts.privateKey)), n.etcdDataDir, requiredPorts(spec, n));
        } catch (e) {
          observed[n.name] = { error: (e as Error).message };
        }
      }),
    );
  } finally {
    if (!opts.keepConnections) await closeAll();
  }
  const reports = preflight(spec, observed, opts);
  const log = opts.log ?? ((_r: HostReport, text: string) => process.stderr.write(`${text}\n`));
  for (const r of reports) log(r, formatReport(r));
  try {
    assertPreflight(reports);
  } catch (e) {
    // A host that failed stops the run here: close what start-up kept open,
    // or the open connections would keep the program from ending.
    await closeAll();
    throw e;
  }
  const facts: Record<string, HostFacts> = {};
  for (const [name, o] of Object.entries(observed)) if ("facts" in o) facts[name] = o.facts;
  return { facts, reports };
}

/**
 * Per node, the ids of the steps whose read-only probe fails now: what
 * preview shows as `pendingSteps`. Every host at once, over the connections
 * start-up already opened. Done here rather than in the provider's `check`
 * because the engine calls `check` for one resource at a time, so probing
 * there costs a round of SSH per host, one host after another.
 */
export async function pendingSteps(
  spec: StackSpec,
  nodes: { name: string; prep: HostStep[] }[],
  facts: Record<string, HostFacts>,
  opts: { privateKey?: string } = {},
): Promise<Record<string, string[]>> {
  try {
    const probed = await Promise.all(
      nodes.map(async (n) => [n.name, await pendingStepIds(session(targetFor(spec, n.name, opts.privateKey)), n.prep, facts[n.name]?.virt)] as const),
    );
    return Object.fromEntries(probed);
  } finally {
    await closeAll();
  }
}
