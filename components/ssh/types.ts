// The contract between everything that runs commands on hosts and the SSH
// transport that does it (session.ts). Code that only needs to run commands
// depends on HostSession, so it can be tested against lab hosts directly.
import type { SshTarget } from "../plan/targets";

export interface RunOptions {
  /** Run through `sudo -n` (default: when the user is not root). */
  sudo?: boolean;
  /** Overrides the target's commandTimeoutSeconds. */
  timeoutSeconds?: number;
  /** Sent to the command's standard input (use it for secrets, never argv). */
  stdin?: string;
  /** Values to mask as *** wherever output is logged. */
  secrets?: string[];
  /** Receives each output line (already masked), e.g. to stream to the Pulumi log. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** What the command does, for messages (a failure, an interrupt). Default: its first line. */
  what?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HostSession {
  readonly target: SshTarget;
  /** Run a shell command (bash -c); a non-zero exit is returned, not thrown. */
  run(command: string, opts?: RunOptions): Promise<RunResult>;
  /** Like run, but a non-zero exit throws HostError naming the host and what was being done. */
  check(what: string, command: string, opts?: RunOptions): Promise<string>;
  /** Write content to a remote file atomically (temp file + rename), with this mode (no default: each caller says who may read it). */
  putFile(remotePath: string, content: string | Buffer, mode: number): Promise<PutResult>;
  /** Copy a local file to the host. */
  upload(localPath: string, remotePath: string): Promise<void>;
}

/** What writing a file did besides writing it. */
export interface PutResult {
  /** Set when something that was not a file stood at the path and was moved aside: the note that says where. */
  movedAside?: string;
}

/** `<host> (<address>:<port>): <what was being done>: <cause>` */
export class HostError extends Error {
  constructor(
    readonly host: string,
    readonly endpoint: string,
    readonly what: string,
    readonly cause_: string,
  ) {
    super(`${host} (${endpoint}): ${what}: ${cause_}`);
    this.name = "HostError";
  }
}

/** The last non-empty lines of a command's output, on one line, for an error message. */
export function lastLines(text: string, n = 5): string {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).slice(-n).join(" | ") || "no output";
}

/** Why a command failed, for an error message: its exit status and the last lines it printed. */
export function failedWith(r: RunResult, lines = 5): string {
  return `exit status ${r.code}: ${lastLines(r.stderr || r.stdout, lines)}`;
}
