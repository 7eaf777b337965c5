// How a command string becomes what the remote sshd executes. Pure, so the
// exact wrapping is unit-tested without a host.

import { shellQuote } from "../plan/shell";

export { shellQuote };

/** Exit status of coreutils `timeout` when it had to stop the command. */
export const TIMEOUT_EXIT = 124;

/**
 * `bash -c` semantics whatever the login shell is, LC_ALL=C so parsers see
 * untranslated output, `timeout` so a hung command is killed on the host
 * (closing the channel alone leaves it running), and `sudo -n` for non-root
 * users: -n makes sudo fail instead of waiting for a password nobody types.
 */
export function wrapCommand(command: string, opts: { sudo: boolean; timeoutSeconds: number; runId?: string }): string {
  // The run id names the command on the host, so an interrupt can stop it (interrupt.ts).
  const id = opts.runId ? ` IRONROOT_RUN=${opts.runId}` : "";
  const inner = `env LC_ALL=C${id} timeout --kill-after=5 ${opts.timeoutSeconds} bash -c ${shellQuote(command)}`;
  return opts.sudo ? `sudo -n -- ${inner}` : `exec ${inner}`;
}

/** sudo's message when -n is given and the user has no NOPASSWD rule. */
export function sudoNeedsPassword(stderr: string): boolean {
  return /sudo: (a password is required|a terminal is required)/.test(stderr);
}

/** Replaces every secret value with ***, longest first so overlapping values mask fully. */
export function masker(secrets: readonly string[] = []): (s: string) => string {
  // Output is masked line by line, so a multi-line secret (a PEM key) is
  // also masked by each of its lines.
  const pieces = secrets.flatMap((v) => [v, ...(v.includes("\n") ? v.split("\n").map((l) => l.trim()).filter((l) => l.length >= 8) : [])]);
  const values = [...new Set(pieces.filter((v) => v.length > 0))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (s) => s;
  return (s) => values.reduce((acc, v) => acc.split(v).join("***"), s);
}

/** Splits a stream into lines as chunks arrive; `flush` emits the unterminated rest. */
export class LineSplitter {
  private rest = "";
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: string): void {
    const parts = (this.rest + chunk).split("\n");
    this.rest = parts.pop() ?? "";
    for (const p of parts) this.emit(p.replace(/\r$/, ""));
  }
  flush(): void {
    if (this.rest !== "") this.emit(this.rest);
    this.rest = "";
  }
}
