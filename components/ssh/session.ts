// A session on one host: run a command, write a file, upload a file, over
// the pooled connection (pool.ts). Every command runs under a timeout
// enforced on the host, through sudo for non-root users, in a process group
// an interrupt can stop (interrupt.ts).
import { randomBytes } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import type { Readable } from "node:stream";
import type { SshTarget } from "../plan/targets";
import { MOVED_ASIDE, writeAtomically } from "../plan/shell";
import { LineSplitter, masker, sudoNeedsPassword, TIMEOUT_EXIT, wrapCommand } from "./command";
import { interrupting, stopScript, track } from "./interrupt";
import { connection, endpointOf, type ClientChannel, type Connection } from "./pool";
import { HostError, type HostSession, type PutResult, type RunOptions, type RunResult } from "./types";

/** A session on the target; the connection is opened (or reused) on first use. */
export function session(target: SshTarget): HostSession {
  return new PooledSession(target);
}

class PooledSession implements HostSession {
  private readonly endpoint: string;
  constructor(readonly target: SshTarget) {
    this.endpoint = endpointOf(target);
  }

  async run(command: string, opts: RunOptions = {}): Promise<RunResult> {
    return this.exec(command, opts, opts.what ?? `running ${summarize(command)}`);
  }

  async check(what: string, command: string, opts: RunOptions = {}): Promise<string> {
    const r = await this.exec(command, opts, what);
    if (r.code !== 0) {
      const mask = masker(opts.secrets);
      const detail = mask((r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join(" | "));
      throw this.error(what, `exit status ${r.code}${detail ? `: ${detail}` : ""}`);
    }
    return r.stdout;
  }

  async putFile(remotePath: string, content: string | Buffer, mode: number): Promise<PutResult> {
    return this.writeFrom(remotePath, mode, content);
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    let mode: number;
    try {
      mode = statSync(localPath).mode & 0o777;
    } catch (e) {
      throw this.error(`uploading ${localPath}`, (e as Error).message);
    }
    await this.writeFrom(remotePath, mode, createReadStream(localPath));
  }

  private async writeFrom(remotePath: string, mode: number, input: string | Buffer | Readable): Promise<PutResult> {
    const script = [
      "set -euo pipefail",
      'tmp=""',
      "trap '[ -z \"$tmp\" ] || rm -f \"$tmp\"' EXIT",
      writeAtomically(remotePath, "cat", mode.toString(8).padStart(4, "0")),
      "trap - EXIT",
    ].join("\n");
    const what = `writing ${remotePath}`;
    const r = await this.exec(script, {}, what, input);
    if (r.code !== 0) throw this.error(what, `exit status ${r.code}: ${r.stderr.trim()}`);
    const note = r.stderr.split("\n").find((l) => l.startsWith(MOVED_ASIDE));
    return note ? { movedAside: note } : {};
  }

  private error(what: string, cause: string): HostError {
    return new HostError(this.target.name, this.endpoint, what, cause);
  }

  private async exec(command: string, opts: RunOptions, what: string, input?: string | Buffer | Readable): Promise<RunResult> {
    const conn = await connection(this.target);
    const sudo = opts.sudo ?? this.target.user !== "root";
    if (sudo) {
      // A failed proof is not kept: the next command asks again (sudo may
      // have been fixed on the host meanwhile).
      conn.sudoReady ??= proveSudo(conn, this.target).catch((e: unknown) => {
        conn.sudoReady = undefined;
        throw e;
      });
      await conn.sudoReady;
    }
    const timeoutSeconds = opts.timeoutSeconds ?? this.target.commandTimeoutSeconds;
    const started = Date.now();
    const runId = randomBytes(8).toString("hex");
    const untrack = track({
      host: this.target.name,
      what,
      stop: async () => {
        const r = await execOnChannel(conn, wrapCommand(stopScript(runId), { sudo, timeoutSeconds: 10 }), { mask: (x) => x, guardMs: 15_000, urgent: true });
        return r.stdout.trim() || `exit status ${r.code}`;
      },
    });
    const r = await execOnChannel(conn, wrapCommand(command, { sudo, timeoutSeconds, runId }), {
      input: input ?? opts.stdin,
      onLine: opts.onLine,
      mask: masker(opts.secrets),
      // The host-side `timeout` kills the command; this local guard only
      // covers a host that stops answering altogether.
      guardMs: (timeoutSeconds + 15) * 1000,
    }).catch((e: Error) => {
      throw this.error(what, e.message);
    }).finally(untrack);
    // A command stopped by an interrupt reports nothing: the interrupt says
    // what happened per host and ends the process (interrupt.ts).
    if (interrupting()) await new Promise<never>(() => undefined);
    if (r.timedOut || (r.code === TIMEOUT_EXIT && Date.now() - started >= timeoutSeconds * 1000 - 250)) {
      throw this.error(what, `timed out after ${timeoutSeconds}s`);
    }
    if (r.lost) throw this.error(what, CONNECTION_LOST);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  }
}

/** The command's first meaningful line, for messages (not the shell options every script starts with). */
function summarize(command: string): string {
  const first = command.trim().split("\n").find((l) => l.trim() !== "" && !/^set -[euxo]+( pipefail)?$/.test(l.trim())) ?? command.trim();
  return `\`${first.length > 60 ? `${first.slice(0, 57)}...` : first}\``;
}

async function proveSudo(conn: Connection, t: SshTarget): Promise<void> {
  const r = await execOnChannel(conn, "sudo -n true", { mask: (s) => s, guardMs: t.connectTimeoutSeconds * 1000 + 5000 });
  if (r.code === 0) return;
  const endpoint = endpointOf(t);
  if (sudoNeedsPassword(r.stderr)) {
    throw new HostError(
      t.name,
      endpoint,
      "checking sudo",
      `user ${t.user} needs a password for sudo, and ironroot runs sudo non-interactively (sudo -n): ` +
        `give ${t.user} passwordless sudo, e.g. /etc/sudoers.d/${t.user} containing "${t.user} ALL=(ALL) NOPASSWD:ALL", or connect as root`,
    );
  }
  throw new HostError(
    t.name,
    endpoint,
    "checking sudo",
    `\`sudo -n true\` failed (exit status ${r.code}): ${r.stderr.trim() || "no output"}: ` +
      `user ${t.user} is not root, so it needs sudo installed and passwordless sudo (NOPASSWD)`,
  );
}

interface ChannelResult extends RunResult {
  timedOut: boolean;
  /** The channel closed without an exit status: the connection went away under the command. */
  lost: boolean;
}

/** What a lost connection means for the step that was running: its outcome is unknown. */
export const CONNECTION_LOST =
  "the connection to the host was lost while this ran (no exit status came back), so the command may still be running there: " +
  "run pulumi up again once the host answers; host steps wait for a step still running from the lost connection, then check it afresh";

async function execOnChannel(
  conn: Connection,
  command: string,
  o: {
    input?: string | Buffer | Readable;
    onLine?: RunOptions["onLine"];
    mask: (s: string) => string;
    guardMs: number;
    /** Skip the channel limit: for the one stop command of an interrupt, which must not wait behind the commands it stops (sshd allows 2 more). */
    urgent?: boolean;
  },
): Promise<ChannelResult> {
  const release = o.urgent ? () => undefined : await conn.slots.acquire();
  try {
    return await new Promise<ChannelResult>((resolve, reject) => {
      conn.client.exec(command, (err, ch: ClientChannel) => {
        if (err) return reject(new Error(`opening a channel: ${err.message}`));
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        const lines = {
          stdout: new LineSplitter((l) => o.onLine?.(o.mask(l), "stdout")),
          stderr: new LineSplitter((l) => o.onLine?.(o.mask(l), "stderr")),
        };
        let timedOut = false;
        let exited = false;
        ch.on("exit", () => {
          exited = true;
        });
        const guard = setTimeout(() => {
          timedOut = true;
          ch.close();
        }, o.guardMs);
        ch.on("data", (d: Buffer) => {
          out.push(d);
          lines.stdout.push(d.toString("utf8"));
        });
        ch.stderr.on("data", (d: Buffer) => {
          errOut.push(d);
          lines.stderr.push(d.toString("utf8"));
        });
        ch.on("close", (code: number | null, signal?: string) => {
          clearTimeout(guard);
          lines.stdout.flush();
          lines.stderr.flush();
          resolve({
            code: typeof code === "number" ? code : signal ? 128 : 255,
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(errOut).toString("utf8"),
            timedOut,
            lost: !exited && !timedOut && typeof code !== "number" && !signal,
          });
        });
        const input = o.input;
        if (input === undefined) ch.end();
        else if (typeof input === "string" || Buffer.isBuffer(input)) ch.end(input);
        else {
          input.on("error", (e) => {
            ch.close();
            reject(new Error(`reading the local file: ${e.message}`));
          });
          input.pipe(ch);
        }
      });
    });
  } finally {
    release();
  }
}

