// Ctrl-C and SIGTERM while commands run on hosts. Closing an SSH channel
// signals nothing on the host, so without this a command outlives the
// client for up to its timeout, and its clean-up traps never run. Every
// command carries a run id in its environment (wrapCommand); on the signal,
// each host is asked, over the connection the command runs on, to stop the
// `timeout` process with that id, which passes SIGTERM to the command's whole
// process group. Then one line per host says what was interrupted.

/** What a session registers for each command while it runs. */
export interface InFlight {
  host: string;
  /** What was being done, as errors name it. */
  what: string;
  /** Stops the command on the host; resolves with how that went. */
  stop(): Promise<string>;
}

const running = new Set<InFlight>();
let installed = false;
let stopping = false;

/** Whether an interrupt is under way: commands that end now were stopped by it and report nothing. */
export function interrupting(): boolean {
  return stopping;
}

/** Register a running command; the returned function unregisters it. */
export function track(command: InFlight): () => void {
  if (!installed) {
    installed = true;
    process.once("SIGINT", () => void interruptAndExit("SIGINT", 130));
    process.once("SIGTERM", () => void interruptAndExit("SIGTERM", 143));
  }
  running.add(command);
  return () => running.delete(command);
}

/** Stops every running command on its host; one line per command, for the operator. */
export async function interruptAll(signal: string): Promise<string[]> {
  stopping = true;
  const all = [...running];
  running.clear();
  return Promise.all(all.map(async (c) => `${c.host}: interrupted by ${signal}: ${c.what}: ${await c.stop().catch((e: Error) => `could not be stopped on the host (${e.message}); it may still run there`)}`));
}

async function interruptAndExit(signal: string, code: number): Promise<void> {
  const lines = await interruptAll(signal);
  for (const l of lines) process.stderr.write(`${l}\n`);
  if (lines.length > 0) process.stderr.write("ironroot: the next run converges from here: steps probe the host again before changing it\n");
  process.exit(code);
}

/** The shell that stops the command with this run id (its `timeout` process, which signals the command's process group). */
export function stopScript(runId: string): string {
  return [
    "stopped=0",
    "for p in $(pgrep -x timeout); do",
    `  if tr '\\0' '\\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'IRONROOT_RUN=${runId}'; then kill -TERM "$p" && stopped=1; fi`,
    "done",
    'if [ "$stopped" = 1 ]; then echo "stopped on the host"; else echo "had already ended on the host"; fi',
  ].join("\n");
}
