// The SSH transport's connections: one per host per process, opened on first
// use and shared by every session; host keys pinned byte for byte; bounded
// retries for connection-level failures only; a bastion when configured.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { NodeSSH } from "node-ssh";
import type { SshEndpoint, SshTarget } from "../plan/targets";
import { hostKeyAlgorithms, mismatchMessage, parsePinnedKey } from "./hostKey";
import { HostError } from "./types";

// The slice of ssh2's API used here (ssh2 ships no type declarations).
export interface ClientChannel extends NodeJS.ReadWriteStream {
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

export interface Connection {
  client: Client;
  slots: Semaphore;
  /** Resolves once `sudo -n` has been proven to work on this connection. */
  sudoReady?: Promise<void>;
}

const pool = new Map<string, Promise<Connection>>();
const opened = new Map<string, number>();

let debugLog: (message: string) => void = () => undefined;

/** Where the transport's debug lines go (the Pulumi layer passes pulumi.log.debug); default: nowhere. */
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

export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return `${homedir()}/${path.slice(2)}`;
  return path;
}

export function endpointOf(t: { address: string; port: number }): string {
  return `${t.address}:${t.port}`;
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

function poolKey(t: SshTarget): string {
  const via = t.bastion ? `${t.bastion.user}@${t.bastion.address}:${t.bastion.port}|${t.bastion.hostKey}` : "direct";
  return `${t.user}@${t.address}:${t.port}|${t.hostKey}|${via}`;
}

export function connection(t: SshTarget): Promise<Connection> {
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
  let lastCause = "";
  for (let attempt = 0; attempt <= t.connectRetries; attempt++) {
    if (attempt > 0) {
      const wait = backoffMs(attempt - 1);
      // sshd at MaxStartups, or still starting: retried quietly, but never silently.
      debugLog(`${t.name} (${endpointOf(t)}): connection attempt ${attempt} of ${t.connectRetries + 1} failed (${lastCause}); retrying in ${wait} ms`);
      await sleep(wait);
    }
    try {
      const client = await connectOnce(t, privateKey, via);
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

async function connectOnce(t: SshTarget, privateKey: string | undefined, via?: Client): Promise<Client> {
  const pinned = parsePinnedKey(t.hostKey);
  const pinPath = t.hostKeyConfigPath ?? `the hostKey of host ${t.name} in the stack config`;
  let presented: Buffer | undefined;
  const ssh = new NodeSSH();
  const timeoutMs = t.connectTimeoutSeconds * 1000;

  const sock = via ? await forward(via, t, timeoutMs) : undefined;
  const config: ConnectConfig = {
    ...(sock ? { sock } : { host: t.address, port: t.port }),
    username: t.user,
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
      throw new FinalError(mismatchMessage(pinned, presented, pinPath));
    }
    const err = e as Error & { level?: string };
    if (/no matching host key format|Handshake failed: no matching/i.test(err.message)) {
      throw new FinalError(
        `the host offers no ${pinned.type} host key (${err.message}): pin the key type the host has, see ${pinPath}`,
      );
    }
    if (err.level === "client-authentication" || /authentication methods failed/i.test(err.message)) {
      throw new FinalError(
        `authentication failed for user ${t.user} (${err.message}): add the public key of the configured SSH key to ~${t.user}/.ssh/authorized_keys on the host, or fix the user (ssh.user / hosts[].user)`,
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

function forward(via: Client, ep: SshEndpoint, timeoutMs: number): Promise<ClientChannel> {
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
