// How a `@pulumi/command` remote command reaches a host: built from the same
// HostAddress as the SSH executor's sessions and wrapped the same way
// (`wrapCommand`: bash -c, LC_ALL=C, a timeout enforced on the host, sudo -n
// for non-root users), so kubeadm's steps and the dynamic providers' steps
// behave alike. The host key is always pinned: without it @pulumi/command
// does not check it.
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { wrapCommand } from "../ssh/command";
import type { HostAddress } from "../ssh/types";

/** SSH credentials for remote commands: the key text (kept secret) or an agent socket. */
export type CommandAuth = { privateKey: pulumi.Input<string> } | { agentSocketPath: string };

type Connection = command.types.input.remote.ConnectionArgs & { hostKey: pulumi.Input<string> };

/** The connection for `h`, with its bastion (pinned too) when it has one. */
export function commandConnection(h: HostAddress, auth: CommandAuth): Connection {
  const secretAuth = "privateKey" in auth ? { privateKey: pulumi.secret(auth.privateKey) } : auth;
  // @pulumi/command dials `dialErrorLimit` times in all, each bounded by `perDialTimeout`.
  const limits = { dialErrorLimit: h.connectRetries + 1, perDialTimeout: h.connectTimeoutSeconds };
  const proxy = h.bastion && { host: h.bastion.address, port: h.bastion.port, user: h.bastion.user, hostKey: h.bastion.hostKey, ...secretAuth, ...limits };
  return { host: h.address, port: h.port, user: h.user, hostKey: h.hostKey, ...secretAuth, ...limits, ...(proxy ? { proxy } : {}) };
}

/** A script as it must be sent to `h`: exactly what the executor would send for it. */
export function commandText(h: HostAddress, script: string): string {
  return wrapCommand(script, { sudo: h.user !== "root", timeoutSeconds: h.commandTimeoutSeconds });
}
