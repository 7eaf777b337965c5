// The kubelet drop-in file on a host: read it, write it, and roll a change
// out on a running cluster without taking the node's pods down uncontrolled.
// What the file says is decided by the plan (components/plan/kubelet); this
// module only moves it and drives kubectl.
import { diffKubeletFields, formatChange, parseKubeletDropIn } from "../plan/kubelet/diff";
import type { KubeletFields } from "../plan/kubelet/fields";
import { cpuMillis, memoryBytes } from "../plan/kubelet/quantity";
import { shellQuote } from "../plan/shell";
import { HostError, lastLines, type HostSession } from "../ssh/types";
import { ADMIN_CONF } from "../plan/kubeadm/kubeVip";
import { cordonAndDrain, kubectl } from "./drain";

/** Exit status of the read command when the file does not exist. */
const ABSENT = 3;

function endpoint(s: HostSession): string {
  return `${s.target.address}:${s.target.port}`;
}

function fail(s: HostSession, what: string, cause: string): HostError {
  return new HostError(s.target.name, endpoint(s), what, cause);
}

/**
 * The live file, or undefined when there is none. Something else at the
 * path (a directory) counts as no file: writing moves it aside.
 */
export async function readKubeletDropIn(s: HostSession, path: string): Promise<string | undefined> {
  const r = await s.run(`if [ -f ${shellQuote(path)} ]; then cat -- ${shellQuote(path)}; else exit ${ABSENT}; fi`);
  if (r.code === ABSENT) return undefined;
  if (r.code !== 0) throw fail(s, `reading ${path}`, `exit status ${r.code}: ${lastLines(r.stderr)}`);
  return r.stdout;
}

/** Writes the file (atomically, mode 0644) only when its content differs. */
export async function writeKubeletDropIn(s: HostSession, path: string, content: string): Promise<{ changed: boolean }> {
  const live = await readKubeletDropIn(s, path);
  if (live === content) return { changed: false };
  await s.putFile(path, content, 0o644);
  return { changed: true };
}

/** Removes the file; the kubelet falls back to its base config at its next restart. */
export async function removeKubeletDropIn(s: HostSession, path: string): Promise<void> {
  await s.check(`removing ${path}`, `rm -f -- ${shellQuote(path)}`);
}

/**
 * Where the node stands:
 * - `fresh`: no kubelet running (before kubeadm): the file is simply written
 *   and read when the kubelet first starts;
 * - `unregistered`: a kubelet runs but no cluster knows the node: nothing is
 *   scheduled there, so a restart is harmless;
 * - `registered`: a node of a running cluster: cordon, drain, write, restart.
 */
export type KubeletState = { kind: "fresh" } | { kind: "unregistered" } | { kind: "registered"; wasCordoned: boolean };

export async function kubeletState(node: HostSession, nodeName: string, controlPlane?: HostSession): Promise<KubeletState> {
  // `is-active` is non-zero for "activating" too: a kubelet crash-looping
  // before kubeadm has configured it is not a running node.
  const active = await node.run("systemctl is-active --quiet kubelet.service");
  if (active.code !== 0) return { kind: "fresh" };
  if (!controlPlane) return { kind: "unregistered" };
  const hasAdmin = await controlPlane.run(`test -e ${ADMIN_CONF}`);
  if (hasAdmin.code !== 0) return { kind: "unregistered" };
  const r = await controlPlane.run(kubectl(`get node ${shellQuote(nodeName)} -o jsonpath={.spec.unschedulable}`));
  if (r.code !== 0) {
    if (/NotFound|not found/.test(r.stderr)) return { kind: "unregistered" };
    throw fail(controlPlane, `looking up node ${nodeName} in the cluster`, lastLines(r.stderr));
  }
  return { kind: "registered", wasCordoned: r.stdout.trim() === "true" };
}

export interface ApplyKubeletOptions {
  /** Kubernetes node name (the host name in the stack). */
  nodeName: string;
  path: string;
  content: string;
  /** The fields in `content`; used to prove the restarted kubelet runs them. */
  fields: KubeletFields;
  /** A control plane with /etc/kubernetes/admin.conf, for kubectl. Absent before the cluster exists. */
  controlPlane?: HostSession;
  drainTimeoutSeconds: number;
  readyTimeoutSeconds: number;
  /** Progress lines, e.g. for the Pulumi log. */
  log?: (line: string) => void;
}

export interface ApplyKubeletResult {
  changed: boolean;
  /** What was done: nothing, a plain write, or the full cordon/drain/restart cycle. */
  path: "unchanged" | "written" | "written-restarted" | "rolled-out";
  /** The fields that differed before the change (`kubeReserved.memory: 500Mi => 1332Mi`). */
  changes: string[];
}

/**
 * Brings the node's drop-in file to `content`. A node whose file already
 * matches is not touched (no cordon, no restart). A failure throws a
 * HostError naming the node and what was being done; the caller stops there,
 * so the nodes after it stay as they were.
 */
export async function applyKubeletDropIn(node: HostSession, o: ApplyKubeletOptions): Promise<ApplyKubeletResult> {
  const log = o.log ?? (() => {});
  const write = async () => {
    const put = await node.putFile(o.path, o.content, 0o644);
    if (put.movedAside) log(`${o.nodeName}: ${put.movedAside}`);
  };
  const liveText = await readKubeletDropIn(node, o.path);
  if (liveText === o.content) return { changed: false, path: "unchanged", changes: [] };
  const changes = diffKubeletFields(liveText === undefined ? undefined : safeParse(liveText), o.fields).map(formatChange);

  const state = await kubeletState(node, o.nodeName, o.controlPlane);
  if (state.kind === "fresh") {
    await write();
    log(`${o.nodeName}: wrote ${o.path} (no kubelet running yet)`);
    return { changed: true, path: "written", changes };
  }
  if (state.kind === "unregistered") {
    await write();
    await node.check("restarting the kubelet", "systemctl restart kubelet.service");
    log(`${o.nodeName}: wrote ${o.path} and restarted the kubelet (node not registered in a cluster)`);
    return { changed: true, path: "written-restarted", changes };
  }

  const cp = o.controlPlane!;
  const name = shellQuote(o.nodeName);
  await cordonAndDrain(cp, { nodeName: o.nodeName, wasCordoned: state.wasCordoned, drainTimeoutSeconds: o.drainTimeoutSeconds, purpose: "changing its kubelet configuration", log });

  const leftCordoned = `; node ${o.nodeName} is left cordoned: fix it, then \`kubectl uncordon ${o.nodeName}\``;
  try {
    await write();
    await node.check("restarting the kubelet", "systemctl restart kubelet.service");
  } catch (e) {
    throw appendCause(e, leftCordoned);
  }
  log(`${o.nodeName}: kubelet restarted, waiting for it to run the new configuration`);
  await waitForConfig(cp, o, leftCordoned);
  if (!state.wasCordoned) await cp.check(`uncordoning node ${o.nodeName}`, kubectl(`uncordon ${name}`));
  log(`${o.nodeName}: Ready with the new configuration${state.wasCordoned ? " (was cordoned before, left cordoned)" : ", uncordoned"}`);
  return { changed: true, path: "rolled-out", changes };
}

/**
 * Ready alone is not proof: right after a restart the node may still show
 * the old Ready status. The kubelet's /configz (through the API server)
 * shows the configuration the running kubelet loaded, so it also catches a
 * kubelet that ignores the drop-in directory (no --config-dir).
 */
async function waitForConfig(cp: HostSession, o: ApplyKubeletOptions, suffix: string): Promise<void> {
  const deadline = Date.now() + o.readyTimeoutSeconds * 1000;
  const name = shellQuote(o.nodeName);
  let last = "no answer from the kubelet yet";
  for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt++) {
    const r = await cp.run(kubectl(`get --raw /api/v1/nodes/${name}/proxy/configz`), { timeoutSeconds: 30 });
    if (r.code === 0) {
      const pending = configzDifferences(r.stdout, o.fields);
      if (pending.length === 0) {
        const left = Math.max(10, Math.ceil((deadline - Date.now()) / 1000));
        const ready = await cp.run(kubectl(`wait --for=condition=Ready node/${name} --timeout=${left}s`), { timeoutSeconds: left + 30 });
        if (ready.code === 0) return;
        throw fail(cp, `waiting for node ${o.nodeName} to be Ready after the kubelet restart`, lastLines(ready.stderr) + suffix);
      }
      last = `the running kubelet still differs: ${pending.join(", ")} (is the kubelet started with --config-dir?)`;
    } else {
      last = lastLines(r.stderr, 2);
    }
    await new Promise((res) => setTimeout(res, 3000));
  }
  throw fail(cp, `waiting ${o.readyTimeoutSeconds}s for node ${o.nodeName} to run its new kubelet configuration`, last + suffix);
}

/**
 * Fields of `want` that the kubelet's /configz answer does not show (yet).
 * Compared by meaning, not spelling: the file is ours to spell, but how the
 * kubelet echoes a quantity back is not.
 */
export function configzDifferences(configzJson: string, want: KubeletFields): string[] {
  let running: unknown;
  try {
    running = (JSON.parse(configzJson) as { kubeletconfig?: unknown }).kubeletconfig;
  } catch {
    return ["configz answer is not JSON"];
  }
  const live = parseKubeletDropIn(JSON.stringify(running ?? {}));
  return diffKubeletFields({ fields: live.fields, unmanaged: [] }, want)
    .filter((c) => c.from === undefined || c.to === undefined || meaning(c.path, c.from) !== meaning(c.path, c.to))
    .map(formatChange);
}

function meaning(path: string, value: string): string {
  try {
    if (path.endsWith(".cpu")) return String(cpuMillis(value));
    if (path.endsWith(".memory") || (path === "evictionHard.memory.available" && !value.endsWith("%"))) return String(memoryBytes(value));
  } catch {
    // not a quantity: compare as written
  }
  return value;
}

function safeParse(text: string) {
  try {
    return parseKubeletDropIn(text);
  } catch {
    return undefined;
  }
}

function appendCause(e: unknown, suffix: string): Error {
  if (e instanceof HostError) return new HostError(e.host, e.endpoint, e.what, e.cause_ + suffix);
  return new Error(`${(e as Error).message}${suffix}`);
}
