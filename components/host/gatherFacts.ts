// Facts of one host over its session: one script, one round trip; then the
// host's clock alone, in a second command that does nothing else, with the
// local clock read around it, so preflight bounds the skew by that short
// round trip (the facts script takes over a second, far too long an error
// bar for a 2 s limit).
import { factsScript, parseFacts } from "../plan/facts";
import type { Observation } from "../plan/preflight";
import { HostError, type HostSession } from "../ssh/types";

export async function gatherFacts(s: HostSession, etcdDataDir: string, ports?: readonly number[]): Promise<Observation> {
  // Facts need root only for `ss -p` (which process holds a port); sudo is
  // the session's default for non-root users.
  const out = await s.check("gathering facts", factsScript(etcdDataDir, ports), { timeoutSeconds: 60 });
  const t = s.target;
  let facts;
  try {
    facts = parseFacts(out);
  } catch (e) {
    throw new HostError(t.name, `${t.address}:${t.port}`, "reading facts", (e as Error).message);
  }
  const sentMs = Date.now();
  const clock = (await s.check("reading the clock", CLOCK, { timeoutSeconds: 10, sudo: false })).trim();
  const receivedMs = Date.now();
  if (!/^\d+$/.test(clock)) throw new HostError(t.name, `${t.address}:${t.port}`, "reading the clock", `\`${CLOCK}\` printed ${JSON.stringify(clock)}`);
  return { facts: { ...facts, clockMs: Number(clock) }, sentMs, receivedMs };
}

/** The host's clock in epoch milliseconds, and nothing else: the shortest round trip there is. */
const CLOCK = "date +%s%3N";
