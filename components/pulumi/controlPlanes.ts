// Finding a control plane to act through: the first, in the plan's order,
// whose API server answers. Shared by every resource that runs kubectl on
// the cluster, so a control plane that is down or being removed never
// blocks one that works.
import type { SshCredentials } from "../config/ssh";
import { ADMIN_CONF } from "../plan/kubeadm/kubeVip";
import { HostError, type HostSession } from "../ssh/types";
import { type HostAddress } from "../plan/targets";
import { connect } from "./hostResource";

const API_READY = `kubectl --kubeconfig ${ADMIN_CONF} get --raw /readyz >/dev/null 2>&1`;

/** Whether a control plane's API server answers on that host; undefined when the host cannot be reached. */
export async function apiAnswers(s: HostSession): Promise<boolean | undefined> {
  try {
    return (await s.run(API_READY, { timeoutSeconds: 30 })).code === 0;
  } catch (e) {
    if (e instanceof HostError && e.what === "connecting") return undefined;
    throw e;
  }
}

export interface AnsweringControlPlane {
  cp: HostAddress;
  session: HostSession;
}

/**
 * The first of `controlPlanes` (other than `except`) whose API server
 * answers, or undefined; `tried` gets one line per control plane asked.
 */
export async function answeringControlPlane(
  controlPlanes: HostAddress[],
  credentials: () => SshCredentials,
  tried: string[],
  except?: string,
): Promise<AnsweringControlPlane | undefined> {
  for (const cp of controlPlanes.filter((c) => c.name !== except)) {
    const session = connect(cp, credentials);
    const answers = await apiAnswers(session);
    tried.push(`${cp.name}: ${answers === undefined ? "unreachable" : answers ? "running" : "no API server"}`);
    if (answers) return { cp, session };
  }
  return undefined;
}
