// A HostSession without a host: it logs every command and answers from a
// list of [pattern, result], for tests of ironroot's own sequencing and
// error handling (the real commands are run by the host and engine tiers).
import type { SshTarget } from "../../components/plan/targets";
import { HostError, type HostSession, type RunResult } from "../../components/ssh/types";

export type Answer = (cmd: string) => Partial<RunResult> | undefined;

/** A session that logs every command and answers from a list of [pattern, result]; the first pattern that matches and answers wins, else exit 0. */
export function scripted(name: string, log: string[], answers: [RegExp, Answer | Partial<RunResult>][]): HostSession {
  const target = { name, address: "192.0.2.1", port: 22, user: "root" } as SshTarget;
  const s: HostSession = {
    target,
    async run(command) {
      log.push(`${name}: ${command}`);
      for (const [re, a] of answers) {
        if (re.test(command)) {
          const r = typeof a === "function" ? a(command) : a;
          if (r) return { code: 0, stdout: "", stderr: "", ...r };
        }
      }
      return { code: 0, stdout: "", stderr: "" };
    },
    async check(what, command) {
      const r = await s.run(command);
      if (r.code !== 0) throw new HostError(name, "192.0.2.1:22", what, r.stderr);
      return r.stdout;
    },
    async putFile(path) {
      log.push(`${name}: putFile ${path}`);
      return {};
    },
    async upload() {
      throw new Error("not used");
    },
  };
  return s;
}
