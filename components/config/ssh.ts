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
