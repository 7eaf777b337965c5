import { z } from "zod";
import { address, hostKey, port } from "./fields";

const bastion = z.strictObject({
  address: address.describe("Address of the jump host."),
  port: port.default(22).describe("SSH port of the jump host. Default: 22."),
  user: z.string().min(1).default("root").describe("SSH user on the jump host. Default: `root`."),
  hostKey: hostKey.describe("Pinned SSH host key of the jump host. Required."),
});

export const ssh = z
  .strictObject({
    user: z.string().min(1).default("root").describe("SSH user. A non-root user needs passwordless sudo. Default: `root`."),
    port: port.default(22).describe("SSH port. Default: 22."),
    privateKeyPath: z
      .string()
      .min(1)
      .optional()
      .describe("Path of the private key file on the machine running Pulumi. One of: the `sshPrivateKey` secret, this, or `agent`."),
    agent: z
      .boolean()
      .default(false)
      .describe("Use the SSH agent at `$SSH_AUTH_SOCK`. Default: false."),
    bastion: bastion.optional().describe("Jump host to reach the hosts through. Default: none (direct)."),
    connectTimeoutSeconds: z.number().int().min(1).max(300).default(10)
      .describe("Give up on one connection attempt after this long. Default: 10."),
    connectRetries: z.number().int().min(0).max(10).default(3)
      .describe("Further connection attempts, with backoff, before a host is reported unreachable. Default: 3."),
    commandTimeoutSeconds: z.number().int().min(1).max(7200).default(900)
      .describe("Longest any one remote command may run. Default: 900."),
  })
  .prefault({})
  .describe("How ironroot reaches the hosts.");

export type SshConfig = z.output<typeof ssh>;

/** How ironroot authenticates to hosts: one of the three key sources of the stack config. */
export type SshCredentials = { privateKey: string } | { privateKeyPath: string } | { agent: true };

/**
 * The one rule for which key source a stack uses: the `sshPrivateKey`
 * secret's value when given, else `ssh.privateKeyPath`, else the agent.
 */
export function credentialsFrom(config: SshConfig, privateKey?: string): SshCredentials {
  if (privateKey !== undefined) return { privateKey };
  if (config.privateKeyPath) return { privateKeyPath: config.privateKeyPath };
  if (config.agent) return { agent: true };
  throw new Error("ssh: no SSH key configured: set one of ssh.privateKeyPath, ssh.agent: true, or the sshPrivateKey secret");
}

/**
 * The credentials a stack's config names, read from it at the moment of use
 * (so a rotated key is used by refresh and destroy too). `get` returns a raw
 * config value by full key (`ironroot:ssh`), as the engine hands config to
 * dynamic providers; secrets arrive decrypted.
 */
export function sshCredentials(get: (key: string) => string | undefined): SshCredentials {
  const key = get("ironroot:sshPrivateKey");
  if (key) return { privateKey: key };
  const raw = get("ironroot:ssh");
  let parsed: SshConfig;
  try {
    parsed = ssh.parse(raw === undefined ? {} : JSON.parse(raw));
  } catch (e) {
    throw new Error(`ssh: the stack config's ssh section cannot be read (${(e as Error).message}): run \`pulumi preview\` to see the problem named`);
  }
  return credentialsFrom(parsed);
}
