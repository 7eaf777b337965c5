// Facts of one host over its session: one script, one round trip. The local
// clock is read around the round trip so preflight can bound clock skew.
import { factsScript, parseFacts } from "../plan/facts";
import type { Observation } from "../plan/preflight";
import { HostError, type HostSession } from "./types";

export async function gatherFacts(s: HostSession, etcdDataDir: string, ports?: readonly number[]): Promise<Observation> {
  const sentMs = Date.now();
  // Facts need root only for `ss -p` (which process holds a port); sudo is
  // the session's default for non-root users.
  const out = await s.check("gathering facts", factsScript(etcdDataDir, ports), { timeoutSeconds: 60 });
  const receivedMs = Date.now();
  try {
    return { facts: parseFacts(out), sentMs, receivedMs };
  } catch (e) {
    const t = s.target;
    throw new HostError(t.name, `${t.address}:${t.port}`, "reading facts", (e as Error).message);
  }
}
