// Host key pinning: the key a host presents is compared byte for byte with
// the pinned "<type> <base64>" from the stack config. Fingerprints are only
// for people: they appear in the mismatch error, formatted like OpenSSH.
import { createHash } from "node:crypto";

export interface PinnedKey {
  type: string;
  blob: Buffer;
}

export function parsePinnedKey(pinned: string): PinnedKey {
  const [type, b64] = pinned.trim().split(/\s+/);
  return { type, blob: Buffer.from(b64 ?? "", "base64") };
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside an SSH wire-format public key blob. */
export function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return "unknown";
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString("latin1");
}

/**
 * Host key algorithms to offer, so the server presents the key type that is
 * pinned (a server with ed25519 and RSA keys would otherwise present
 * whichever ssh2 prefers, and a correct pin would look like a mismatch).
 */
export function hostKeyAlgorithms(type: string): string[] {
  if (type === "ssh-rsa") return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
  return [type];
}

export function mismatchMessage(pinned: PinnedKey, presented: Buffer, configPath: string): string {
  return (
    `host key mismatch: expected ${pinned.type} ${fingerprint(pinned.blob)}, ` +
    `the host presented ${blobKeyType(presented)} ${fingerprint(presented)}; ` +
    `refusing to connect. If the host was reinstalled, verify the new key out of band ` +
    `(ssh-keygen -lf on the host console) and update ${configPath} to the output of ` +
    `\`ssh-keyscan -t ${blobKeyType(presented)} <address>\` without the host name`
  );
}
