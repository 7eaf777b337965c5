// The one module that talks to hosts. One SSH connection per host per
// process, opened on first use and reused by every step; host keys pinned;
// sudo for non-root users; bounded retries for connection-level failures
// only; every command under a timeout that is enforced on the host.
import { randomBytes } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import type { Readable } from "node:stream";
import { NodeSSH } from "node-ssh";
import type { HostSpec, StackSpec } from "../config/schema";
import { credentialsFrom } from "../config/ssh";
import { LineSplitter, masker, shellQuote, sudoNeedsPassword, TIMEOUT_EXIT, wrapCommand } from "./command";
import { hostKeyAlgorithms, mismatchMessage, parsePinnedKey } from "./hostKey";
import { interrupting, stopScript, track } from "./interrupt";
import { clearTheWay, MOVED_ASIDE } from "../plan/shell";
import { HostError, withCredentials, type HostAddress, type HostSession, type PutResult, type RunOptions, type RunResult, type SshTarget } from "./types";

// The slice of ssh2's API used here (ssh2 ships no type declarations).
interface ClientChannel extends NodeJS.ReadWriteStream {
  stderr: NodeJS.ReadableStream;
  close(): void;
  destroy(): void;
  on(event: "data", cb: (d: Buffer) => void): this;
  on(event: "close", cb: (code: number | null, signal?: string) => void): this;
  on(event: string, cb: (...args: never[]) => void): this;
}
interface Client {
  exec(command: string, cb: (err: Error | undefined, ch: ClientChannel) => void): void;
  forwardOut(srcIp: string, srcPort: number, dstIp: string, dstPort: number, cb: (err: Error | undefined, ch: ClientChannel) => void): void;
  on(event: string, cb: (...args: never[]) => void): this;
  end(): void;
  destroy(): void;
}
type ConnectConfig = Record<string, unknown>;

/** Concurrent channels per connection; sshd's MaxSessions defaults to 10. */
const MAX_CHANNELS = 8;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 4000;

interface Connection {
  client: Client;
  slots: Semaphore;
  /** Resolves once `sudo -n` has been proven to work on this connection. */
  sudoReady?: Promise<void>;
}

const pool = new Map<string, Promise<Connection>>();
const opened = new Map<string, number>();

let debugLog: (message: string) => void = () => undefined;

/** Where the executor's debug lines go (the Pulumi layer passes pulumi.log.debug); default: nowhere. */
export function onDebug(log: (message: string) => void): void {
  debugLog = log;
}

/** SSH connections opened so far in this process, per host name (the benchmark's figure). */
export function connectionsOpened(): Record<string, number> {
  return Object.fromEntries([...opened.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Close every pooled connection, e.g. before the program exits or between benchmark rounds. */
export async function closeAll(): Promise<void> {
  const conns = [...pool.values()];
  pool.clear();
  for (const c of conns) {
    try {
      const { client } = await c;
      client.end();
      // A server that never answers the goodbye would keep this process alive.
      setTimeout(() => client.destroy(), 2000).unref();
    } catch {
      // a connection that never opened has nothing to close
    }
  }
}

/** Forget the connection counts (benchmark rounds). */
export function resetConnectionCounts(): void {
  opened.clear();
}

/** Backoff before retry number `attempt` (0-based): 0.5 s, 1 s, 2 s, 4 s, 4 s... */
export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** attempt, BACKOFF_MAX_MS);
}

/** A session on the target; the connection is opened (or reused) on first use. */
export function session(target: SshTarget): HostSession {
  return new PooledSession(target);
}

/**
 * The SshTarget for one host of the stack. `privateKey` is the value of the
 * `sshPrivateKey` secret when the stack uses it; otherwise the key comes from
 * `ssh.privateKeyPath` or the agent.
 */
export function targetFor(spec: StackSpec, host: HostSpec | string, privateKey?: string): SshTarget {
  if (spec.secrets.sshPrivateKey && privateKey === undefined) {
    throw new Error(`sshPrivateKey: the stack uses the sshPrivateKey secret but its value was not passed to targetFor`);
  }
  return withCredentials(keylessTarget(spec, host), credentialsFrom(spec.ssh, privateKey));
}

/**
 * How to reach a host, without any credential: what dynamic resources keep
 * in state. Their providers add the credentials the stack config names at
 * the moment they connect.
 */
export function keylessTarget(spec: StackSpec, host: HostSpec | string): HostAddress {
  const h = typeof host === "string" ? spec.hosts.find((x) => x.name === host) : host;
  if (!h) throw new Error(`hosts: no host named "${String(host)}" in stack "${spec.stack}"`);
  const index = spec.hosts.findIndex((x) => x.name === h.name);
  const ssh = spec.ssh;
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    hostKey: h.hostKey,
    hostKeyConfigPath: `hosts[${index}].hostKey`,
    ...(ssh.bastion ? { bastion: { ...ssh.bastion } } : {}),
    connectTimeoutSeconds: ssh.connectTimeoutSeconds,
    connectRetries: ssh.connectRetries,
    commandTimeoutSeconds: ssh.commandTimeoutSeconds,
  };
}

export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return `${homedir()}/${path.slice(2)}`;
  return path;
}

function endpointOf(t: { address: string; port: number }): string {
  return `${t.address}:${t.port}`;
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
    // Temp file in the same directory, then rename: readers never see half a file.
    const script = [
      "set -euo pipefail",
      `dest=${shellQuote(remotePath)}`,
      'dir=$(dirname "$dest")',
      'mkdir -p "$dir"',
      'tmp=$(mktemp "$dir/.ironroot.XXXXXX")',
      "trap 'rm -f \"$tmp\"' EXIT",
      'cat > "$tmp"',
      `chmod ${mode.toString(8).padStart(4, "0")} "$tmp"`,
      clearTheWay('"$dest"'),
      'mv -f "$tmp" "$dest"',
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

class Semaphore {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

// ---------------------------------------------------------------------------
// Connecting

/** A failure that retrying cannot fix: wrong host key, rejected credentials. */
class FinalError extends Error {}

interface Endpoint {
  label: string;
  address: string;
  port: number;
  user: string;
  hostKey: string;
  hostKeyConfigPath: string;
}

function poolKey(t: SshTarget): string {
  const via = t.bastion ? `${t.bastion.user}@${t.bastion.address}:${t.bastion.port}|${t.bastion.hostKey}` : "direct";
  return `${t.user}@${t.address}:${t.port}|${t.hostKey}|${via}`;
}

function connection(t: SshTarget): Promise<Connection> {
  const key = poolKey(t);
  let c = pool.get(key);
  if (!c) {
    c = openWithRetries(t, key);
    pool.set(key, c);
    // A failed attempt must not stay cached: the next caller tries afresh.
    c.catch(() => {
      if (pool.get(key) === c) pool.delete(key);
    });
  }
  return c;
}

async function openWithRetries(t: SshTarget, key: string): Promise<Connection> {
  const privateKey = readPrivateKey(t);
  let via: Client | undefined;
  if (t.bastion) {
    const b = t.bastion;
    const bastionTarget: SshTarget = {
      name: `bastion ${b.address}`,
      address: b.address,
      port: b.port,
      user: b.user,
      hostKey: b.hostKey,
      hostKeyConfigPath: "ssh.bastion.hostKey",
      ...(privateKey !== undefined ? { privateKey } : { agent: t.agent }),
      connectTimeoutSeconds: t.connectTimeoutSeconds,
      connectRetries: t.connectRetries,
      commandTimeoutSeconds: t.commandTimeoutSeconds,
    };
    via = (await connection(bastionTarget)).client;
  }
  const ep: Endpoint = {
    label: t.name,
    address: t.address,
    port: t.port,
    user: t.user,
    hostKey: t.hostKey,
    hostKeyConfigPath: t.hostKeyConfigPath ?? `the hostKey of host ${t.name} in the stack config`,
  };
  let lastCause = "";
  for (let attempt = 0; attempt <= t.connectRetries; attempt++) {
    if (attempt > 0) {
      const wait = backoffMs(attempt - 1);
      // sshd at MaxStartups, or still starting: retried quietly, but never silently.
      debugLog(`${t.name} (${endpointOf(t)}): connection attempt ${attempt} of ${t.connectRetries + 1} failed (${lastCause}); retrying in ${wait} ms`);
      await sleep(wait);
    }
    try {
      const client = await connectOnce(ep, t, privateKey, via);
      opened.set(t.name, (opened.get(t.name) ?? 0) + 1);
      // After `ready` node-ssh drops its error listener; an error on an idle
      // pooled connection must not crash the process, only retire the entry.
      client.on("error", () => undefined);
      client.on("close", () => {
        // Only this connection's own entry: an old connection that closes
        // late must not drop its successor from the pool (which then
        // nothing would ever close).
        const current = pool.get(key);
        void current?.then((c) => {
          if (c.client === client && pool.get(key) === current) pool.delete(key);
        }, () => undefined);
      });
      return { client, slots: new Semaphore(MAX_CHANNELS) };
    } catch (e) {
      if (e instanceof FinalError) throw new HostError(t.name, endpointOf(t), "connecting", e.message);
      lastCause = describeConnectError(e as Error & { level?: string }, t);
    }
  }
  const attempts = t.connectRetries + 1;
  throw new HostError(t.name, endpointOf(t), "connecting", `${lastCause} (${attempts} attempt${attempts === 1 ? "" : "s"})`);
}

function readPrivateKey(t: SshTarget): string | undefined {
  if (t.privateKey !== undefined) return t.privateKey;
  if (!t.privateKeyPath) return undefined;
  const path = expandHome(t.privateKeyPath);
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new HostError(
      t.name,
      endpointOf(t),
      "reading the SSH private key",
      `${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}: fix ssh.privateKeyPath in the stack config`,
    );
  }
}

function describeConnectError(e: Error & { level?: string }, t: SshTarget): string {
  if (e.level === "client-timeout" || /timed out/i.test(e.message)) {
    return `no SSH handshake within ${t.connectTimeoutSeconds}s (ssh.connectTimeoutSeconds)`;
  }
  return e.message;
}

function isRetryable(e: Error & { level?: string; code?: string }): boolean {
  if (e.level === "client-socket" || e.level === "client-timeout" || e.level === "client-dns") return true;
  // node-ssh's error when the server closes the connection before `ready`.
  // "Connection lost before handshake": sshd closed the socket early (still
  // starting, or MaxStartups reached) - a connection-level failure too.
  return e.code === "ETIMEDOUT" || /No response from server|Connection lost before handshake/.test(e.message);
}

async function connectOnce(ep: Endpoint, t: SshTarget, privateKey: string | undefined, via?: Client): Promise<Client> {
  const pinned = parsePinnedKey(ep.hostKey);
  let presented: Buffer | undefined;
  const ssh = new NodeSSH();
  const timeoutMs = t.connectTimeoutSeconds * 1000;

  const sock = via ? await forward(via, ep, timeoutMs) : undefined;
  const config: ConnectConfig = {
    ...(sock ? { sock } : { host: ep.address, port: ep.port }),
    username: ep.user,
    readyTimeout: timeoutMs,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    algorithms: { serverHostKey: hostKeyAlgorithms(pinned.type) as never },
    // Byte-for-byte comparison with the pin: there is deliberately no code
    // path that accepts an unknown or changed key.
    hostVerifier: (key: Buffer) => {
      presented = key;
      return key.equals(pinned.blob);
    },
    ...(privateKey !== undefined ? { privateKey } : t.agent ? { agent: process.env.SSH_AUTH_SOCK } : {}),
  };
  if (privateKey === undefined && !(t.agent && process.env.SSH_AUTH_SOCK)) {
    throw new FinalError(
      t.agent
        ? "ssh.agent is true but SSH_AUTH_SOCK is not set: start an agent (ssh-agent) and add the key"
        : "no SSH key: set ssh.privateKeyPath, ssh.agent, or the sshPrivateKey secret",
    );
  }

  // A hard upper bound for the whole attempt, on top of ssh2's readyTimeout,
  // so no combination of socket states can make an attempt hang.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ssh.connection?.end();
      sock?.destroy();
      reject(Object.assign(new Error("timed out"), { level: "client-timeout" }));
    }, timeoutMs + 2000);
  });
  try {
    await Promise.race([ssh.connect(config as never), deadline]);
    return ssh.connection as unknown as Client;
  } catch (e) {
    ssh.connection?.end();
    if (presented && !presented.equals(pinned.blob)) {
      throw new FinalError(mismatchMessage(pinned, presented, ep.hostKeyConfigPath));
    }
    const err = e as Error & { level?: string };
    if (/no matching host key format|Handshake failed: no matching/i.test(err.message)) {
      throw new FinalError(
        `the host offers no ${pinned.type} host key (${err.message}): pin the key type the host has, see ${ep.hostKeyConfigPath}`,
      );
    }
    if (err.level === "client-authentication" || /authentication methods failed/i.test(err.message)) {
      throw new FinalError(
        `authentication failed for user ${ep.user} (${err.message}): add the public key of the configured SSH key to ~${ep.user}/.ssh/authorized_keys on the host, or fix the user (ssh.user / hosts[].user)`,
      );
    }
    if (/private key|passphrase/i.test(err.message)) {
      throw new FinalError(`cannot use the SSH private key: ${err.message} (a key with a passphrase needs ssh.agent)`);
    }
    if (!isRetryable(err)) throw new FinalError(err.message);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function forward(via: Client, ep: Endpoint, timeoutMs: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(Object.assign(new Error(`the bastion could not reach ${endpointOf(ep)} within ${timeoutMs / 1000}s`), { level: "client-timeout" })),
      timeoutMs,
    );
    via.forwardOut("127.0.0.1", 0, ep.address, ep.port, (err, stream) => {
      clearTimeout(timer);
      if (err) reject(Object.assign(new Error(`through the bastion: ${err.message}`), { level: "client-socket" }));
      else resolve(stream);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
