// Field validators shared by the config sections. Each message names the bad
// value and says what a good one looks like; the caller adds the config path.
import { isIP } from "node:net";
import { z } from "zod";

/** An upper bound with the reason for it, so the message says why and not only how much. */
export function atMost(max: number, why: string) {
  return { error: (iss: { input?: unknown }) => `${String(iss.input)} is too large: use at most ${max}: ${why}` };
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isHostName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.toLowerCase().split(".");
  // A name whose last label is numeric would be read as an IPv4 address by
  // resolvers, so "10.0.0.300" is a bad address, not a host name.
  if (/^\d+$/.test(labels[labels.length - 1])) return false;
  return labels.every((l) => DNS_LABEL.test(l));
}

export const address = z.string().check((ctx) => {
  if (isIP(ctx.value) === 0 && !isHostName(ctx.value)) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `${JSON.stringify(ctx.value)} is not an IP address or host name`,
    });
  }
});

export const dnsLabel = (what: string) =>
  z
    .string()
    .regex(DNS_LABEL, {
      error: (iss) =>
        `${JSON.stringify(iss.input)} is not a valid ${what}: use lowercase letters, digits and "-", at most 63 characters, starting and ending with a letter or digit`,
    });

export const port = z
  .number()
  .int()
  .min(1, { error: (iss) => `${String(iss.input)} is not a TCP port: use 1-65535` })
  .max(65535, { error: (iss) => `${String(iss.input)} is not a TCP port: use 1-65535` });

const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/;
const HOST_KEY_FIX = (type: string) =>
  `copy the key again, whole and unchanged, from \`ssh-keyscan -t ${type.startsWith("ecdsa") ? "ecdsa" : type.replace(/^ssh-/, "")} <address>\` ` +
  `(without the host name), after checking its fingerprint out of band`;

export const hostKey = z.string().check((ctx) => {
  const value = ctx.value.trim();
  if (!HOST_KEY.test(value)) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message:
        `${JSON.stringify(abbreviate(ctx.value))} is not an SSH public host key: ` +
        `pin the key as "<type> <base64>", e.g. the output of \`ssh-keyscan -t ed25519 <address>\` without the host name, ` +
        `after checking its fingerprint out of band`,
    });
    return;
  }
  const [type, b64] = value.split(" ");
  const problem = hostKeyBlobProblem(type, b64);
  if (problem) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: `${JSON.stringify(shortKey(value))} ${problem.what}: ${HOST_KEY_FIX(problem.keyType)}` });
  }
});

// The wire form of an SSH public key (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4):
// uint32-length-prefixed strings, the first of them the key type.
function sshStrings(blob: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let off = 0;
  while (off < blob.length) {
    if (off + 4 > blob.length) return undefined;
    const len = blob.readUInt32BE(off);
    if (off + 4 + len > blob.length) return undefined;
    out.push(blob.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  return out;
}

const ECDSA_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };
const ED25519_BLOB_BYTES = 4 + "ssh-ed25519".length + 4 + 32;

/**
 * What is wrong with a host key whose text has the right shape but whose
 * base64 is not a public key blob of the declared type (and the key type to
 * fetch again), or undefined when it is one.
 */
export function hostKeyBlobProblem(type: string, b64: string): { what: string; keyType: string } | undefined {
  const blob = Buffer.from(b64, "base64");
  const typeLength = blob.length >= 4 ? blob.readUInt32BE(0) : Infinity;
  const found = typeLength <= blob.length - 4 ? blob.subarray(4, 4 + typeLength).toString("latin1") : "";
  if (!/^[a-z0-9][a-z0-9@.-]*$/.test(found)) {
    return { what: "does not decode to an SSH public key (its base64 was cut short or altered, or is not a public key)", keyType: type };
  }
  if (found !== type) return { what: `is declared ${type} but its base64 holds an ${found} key`, keyType: found };
  // Node decodes base64 leniently: text that does not encode back the same
  // was cut where no key ends, or altered.
  const clean = blob.toString("base64").replace(/=+$/, "") === b64.replace(/=+$/, "");
  const fields = clean ? sshStrings(blob) : undefined;
  let whole: boolean;
  if (type === "ssh-ed25519") {
    whole = fields?.length === 2 && fields[1].length === 32;
    if (!whole && clean && blob.length !== ED25519_BLOB_BYTES) {
      return { what: `does not decode to a whole ssh-ed25519 public key (${blob.length} bytes; an ssh-ed25519 key is ${ED25519_BLOB_BYTES}, so it was cut short or altered)`, keyType: type };
    }
  } else if (type.startsWith("ecdsa-sha2-")) {
    const curve = type.slice("ecdsa-sha2-".length);
    whole = fields?.length === 3 && fields[1].toString("latin1") === curve && fields[2].length === ECDSA_POINT_BYTES[curve];
  } else {
    whole = fields?.length === 3 && fields[1].length > 0 && fields[2].length > 0; // ssh-rsa: e, n
  }
  return whole ? undefined : { what: `does not decode to a whole ${type} public key (it was cut short or altered)`, keyType: type };
}

/** A host key for a message: whole when short (ed25519), else its start and end. */
function shortKey(s: string): string {
  return s.length > 100 ? `${s.slice(0, 40)}...${s.slice(-16)}` : s;
}

export const absolutePath = z.string().check((ctx) => {
  if (!ctx.value.startsWith("/")) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `${JSON.stringify(ctx.value)} is not an absolute path: start it with "/"`,
    });
  }
});

// Kubernetes resource quantities as the kubelet accepts them ("500m", "1", "512Mi", "2G").
const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
export const quantity = z.string().check((ctx) => {
  if (!QUANTITY.test(ctx.value)) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `${JSON.stringify(ctx.value)} is not a Kubernetes quantity: use e.g. "500m" or "1" for CPU, "512Mi" or "2Gi" for memory`,
    });
  }
});

// Eviction thresholds take a quantity or a percentage of capacity.
export const threshold = z.string().check((ctx) => {
  if (!QUANTITY.test(ctx.value) && !/^\d+(\.\d+)?%$/.test(ctx.value)) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `${JSON.stringify(ctx.value)} is not a quantity or percentage: use e.g. "100Mi" or "10%"`,
    });
  }
});

/** An IPv4 CIDR: its range, prefix length, and the address as written (host bits included). */
export function parseCidrV4(s: string): { start: number; end: number; bits: number; address: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const start = Math.floor(address / size) * size;
  return { start, end: start + size - 1, bits, address };
}

export function formatIpV4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

export const cidrV4 = z.string().check((ctx) => {
  const cidr = parseCidrV4(ctx.value);
  if (!cidr) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `${JSON.stringify(ctx.value)} is not an IPv4 CIDR: use e.g. "10.244.0.0/16"`,
    });
  } else if (cidr.address !== cidr.start) {
    // "10.244.1.0/16" is the range 10.244.0.0/16 written as if it were
    // another one: say the range as it is.
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message:
        `${JSON.stringify(ctx.value)} has host bits set (a /${cidr.bits} starts at ${formatIpV4(cidr.start)}): ` +
        `use the network address "${formatIpV4(cidr.start)}/${cidr.bits}"`,
    });
  }
});

/** A value held in the stack's encrypted config, known here only by name. */
export interface SecretRef {
  secret: string;
}

export function isSecretRef(v: unknown): v is SecretRef {
  return typeof v === "object" && v !== null && typeof (v as SecretRef).secret === "string";
}

export const secretRef = (name: string, what: string) =>
  z.custom<SecretRef>(isSecretRef, {
    error: () =>
      `${what} must be stored encrypted: run \`pulumi config set --secret ${name} < file\` ` +
      `(a plain value would sit unencrypted in the stack file)`,
  });

function abbreviate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
