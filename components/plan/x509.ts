// A small DER writer for one thing: the self-signed certificate that goes
// with a sealed-secrets key. Node can sign but cannot issue certificates, and
// pulling in a certificate library for one structure is not worth the
// dependency. Pure: serial and validity come from the caller, and RSA
// PKCS#1 v1.5 signatures are deterministic.
import { createHash, createPrivateKey, createPublicKey, sign } from "node:crypto";

const OID = {
  commonName: "2.5.4.3",
  sha256WithRSAEncryption: "1.2.840.113549.1.1.11",
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  subjectKeyIdentifier: "2.5.29.14",
} as const;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const octetString = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer, unusedBits = 0) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));
const boolean = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const nullValue = () => Buffer.from([0x05, 0x00]);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));

/** A non-negative INTEGER from big-endian bytes (minimal, with a 0x00 pad when the top bit is set). */
export function derUnsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let body = bytes.subarray(i);
  if (body.length === 0) body = Buffer.from([0]);
  if (body[0] & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}

export function derOid(oid: string): Buffer {
  const parts = oid.split(".").map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280: UTCTime up to 2049, GeneralizedTime from 2050 on. Seconds precision, UTC. */
export function derTime(d: Date): Buffer {
  if (Number.isNaN(d.getTime())) throw new Error("certificate time is not a valid date");
  const iso = d.toISOString(); // 2025-01-02T03:04:05.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z"; // 20250102030405Z
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), "ascii")) : tlv(0x18, Buffer.from(digits, "ascii"));
}

function name(commonName: string): Buffer {
  // An empty CN would give an empty Name: legal, but openssl and kubectl
  // would then show nothing to tell keys apart.
  if (commonName.length === 0) throw new Error("certificate common name must not be empty");
  return sequence(set(sequence(derOid(OID.commonName), utf8(commonName))));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(derOid(oid), ...(critical ? [boolean(true)] : []), octetString(value));
}

export interface CertificateFields {
  /** Serial number bytes (big-endian, positive). 16 random bytes, as the controller uses. */
  serial: Buffer;
  commonName: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * A self-signed X.509 v3 certificate for an RSA key, shaped like the one the
 * sealed-secrets controller makes for itself (pkg/crypto/keys.go): key usage
 * encipherOnly, CA basic constraints, SHA-256 with RSA, subject = issuer.
 * A subject key identifier is added as Go does for CA certificates.
 */
export function selfSignedCertificate(fields: CertificateFields, privateKeyPem: string): { der: Buffer; pem: string } {
  if (fields.notAfter.getTime() <= fields.notBefore.getTime()) {
    throw new Error("certificate notAfter must be later than notBefore");
  }
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== "rsa") throw new Error(`certificate key must be RSA, got ${key.asymmetricKeyType}`);
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  const subjectPublicKey = publicKeyBits(spki);
  const algorithm = sequence(derOid(OID.sha256WithRSAEncryption), nullValue());
  const subject = name(fields.commonName);
  // Go encodes KeyUsageEncipherOnly (bit 7) as one byte 0x01 with no unused bits.
  const keyUsage = bitString(Buffer.from([0x01]), 0);
  const extensions = sequence(
    extension(OID.keyUsage, true, keyUsage),
    extension(OID.basicConstraints, true, sequence(boolean(true))),
    extension(OID.subjectKeyIdentifier, false, octetString(createHash("sha1").update(subjectPublicKey).digest())),
  );
  const tbs = sequence(
    explicit(0, derUnsignedInteger(Buffer.from([2]))), // v3
    derUnsignedInteger(fields.serial),
    algorithm,
    subject,
    sequence(derTime(fields.notBefore), derTime(fields.notAfter)),
    subject,
    spki,
    explicit(3, extensions),
  );
  const signature = sign("sha256", tbs, key);
  const der = sequence(tbs, algorithm, bitString(signature));
  return { der, pem: toPem("CERTIFICATE", der) };
}

/** The subjectPublicKey BIT STRING contents of a DER SubjectPublicKeyInfo (what the key identifier hashes). */
function publicKeyBits(spki: Buffer): Buffer {
  const inner = readTlv(spki, 0).content;
  const algorithm = readTlv(inner, 0);
  const bits = readTlv(inner, algorithm.end);
  return bits.content.subarray(1);
}

function readTlv(buf: Buffer, offset: number): { content: Buffer; end: number } {
  let pos = offset + 1;
  let len = buf[pos++];
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++];
  }
  return { content: buf.subarray(pos, pos + len), end: pos + len };
}

export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
