// Field validators shared by the config sections. Each message names the bad
// value and says what a good one looks like; the caller adds the config path.
import { isIP } from "node:net";
import { z } from "zod";

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

export const hostKey = z.string().check((ctx) => {
  if (!HOST_KEY.test(ctx.value.trim())) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message:
        `${JSON.stringify(abbreviate(ctx.value))} is not an SSH public host key: ` +
        `pin the key as "<type> <base64>", e.g. the output of \`ssh-keyscan -t ed25519 <address>\` without the host name, ` +
        `after checking its fingerprint out of band`,
    });
  }
});

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

export function parseCidrV4(s: string): { start: number; end: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const start = Math.floor(base / size) * size;
  return { start, end: start + size - 1 };
}

export const cidrV4 = z.string().check((ctx) => {
  if (!parseCidrV4(ctx.value)) {
    ctx.issues.push({
      code: "custom",
      input: ctx.value,
      message: `${JSON.stringify(ctx.value)} is not an IPv4 CIDR: use e.g. "10.244.0.0/16"`,
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
