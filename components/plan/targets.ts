// How to reach each host of the stack: a pure mapping from the stack config
// to SSH targets. The transport (../ssh) connects to what this describes;
// resource state keeps the keyless form (HostAddress).
import type { HostSpec, StackSpec } from "../config/schema";
import { credentialsFrom, type SshCredentials } from "../config/ssh";

/** One SSH server and the user to log in as: a host, or the bastion in front of it. */
export interface SshEndpoint {
  address: string;
  port: number;
  user: string;
  /** Pinned host key, "<type> <base64>". A server presenting another key is refused. */
  hostKey: string;
}

/** Everything needed to reach one host; built from the stack spec by `targetFor`. */
export interface SshTarget extends SshEndpoint {
  /** Host name from the config, used in every message. */
  name: string;
  /** Where the pin lives in the stack config, e.g. `hosts[2].hostKey`; named in mismatch errors. */
  hostKeyConfigPath?: string;
  /** Private key text, when it comes from the `sshPrivateKey` secret. Never logged. */
  privateKey?: string;
  /** Private key file on the machine running ironroot (`~` is expanded). */
  privateKeyPath?: string;
  /** Use the agent at $SSH_AUTH_SOCK. */
  agent?: boolean;
  bastion?: SshEndpoint;
  connectTimeoutSeconds: number;
  connectRetries: number;
  commandTimeoutSeconds: number;
}

/**
 * Where a host is and how to talk to it, without any credential: what
 * resource state may hold. Credentials are added at the moment of use
 * (`withCredentials`), from the stack's config as it is then.
 */
export type HostAddress = Omit<SshTarget, "privateKey" | "privateKeyPath" | "agent">;

/** A host's address plus the credentials to use for it now. */
export function withCredentials(address: HostAddress, credentials: SshCredentials): SshTarget {
  return { ...address, ...credentials };
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
