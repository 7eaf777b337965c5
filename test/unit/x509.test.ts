import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import { test } from "node:test";
import { derOid, derTime, derUnsignedInteger, selfSignedCertificate } from "../../components/plan/x509";
import { joinSealingKey, parseSealingKey } from "../../components/plan/sealedSecrets";

const hex = (b: Buffer) => b.toString("hex");

test("DER primitives encode as X.690 says", () => {
  const table: [Buffer, string][] = [
    [derUnsignedInteger(Buffer.from([0x00, 0x00, 0x05])), "020105"],
    [derUnsignedInteger(Buffer.from([0x80])), "02020080"],
    [derUnsignedInteger(Buffer.from([0x00])), "020100"],
    [derOid("2.5.4.3"), "0603550403"],
    [derOid("1.2.840.113549.1.1.11"), "06092a864886f70d01010b"],
    [derTime(new Date("2025-01-02T03:04:05Z")), hex(Buffer.concat([Buffer.from([0x17, 13]), Buffer.from("250102030405Z")]))],
    [derTime(new Date("2050-01-01T00:00:00Z")), hex(Buffer.concat([Buffer.from([0x18, 15]), Buffer.from("20500101000000Z")]))],
  ];
  for (const [actual, expected] of table) assert.equal(hex(actual), expected);
});

function rsaKey(bits = 2048) {
  return generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
}

const FIELDS = {
  serial: Buffer.from("8f0102030405060708090a0b0c0d0e0f", "hex"),
  commonName: "sealed-secrets",
  notBefore: new Date("2025-03-01T10:00:00Z"),
  notAfter: new Date("2035-02-27T10:00:00Z"),
};

test("the certificate parses, carries the fields, and its signature verifies with the key", () => {
  const key = rsaKey();
  const { pem, der } = selfSignedCertificate(FIELDS, key);
  const cert = new X509Certificate(pem);
  assert.ok(cert.raw.equals(der));
  assert.equal(cert.subject, "CN=sealed-secrets");
  assert.equal(cert.issuer, "CN=sealed-secrets");
  assert.equal(cert.serialNumber.toUpperCase(), "8F0102030405060708090A0B0C0D0E0F");
  assert.equal(new Date(cert.validFrom).toISOString(), "2025-03-01T10:00:00.000Z");
  assert.equal(new Date(cert.validTo).toISOString(), "2035-02-27T10:00:00.000Z");
  // Like the controller's own certificate, it is marked CA but has no
  // keyCertSign usage, so OpenSSL does not count it as a CA; nothing needs it to.
  assert.equal(cert.ca, false);
  assert.ok(cert.checkPrivateKey(createPrivateKey(key)));
  assert.ok(cert.verify(cert.publicKey), "self-signature does not verify");
  assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
});

test("the same inputs give the same bytes (no hidden randomness)", () => {
  const key = rsaKey();
  assert.ok(selfSignedCertificate(FIELDS, key).der.equals(selfSignedCertificate(FIELDS, key).der));
});

test("a tampered certificate no longer verifies", () => {
  const { der } = selfSignedCertificate(FIELDS, rsaKey());
  const bad = Buffer.from(der);
  bad[bad.length - 10] ^= 0xff; // inside the signature
  const cert = new X509Certificate(bad);
  assert.equal(cert.verify(cert.publicKey), false);
});

test("openssl reads the fields: v3, CN, sha256WithRSA, CA, Encipher Only", (t) => {
  if (spawnSync("openssl", ["version"]).status !== 0) {
    t.skip("openssl is not installed (apt-get install openssl): cannot cross-check the certificate with it");
    return;
  }
  const { pem } = selfSignedCertificate(FIELDS, rsaKey());
  const text = execFileSync("openssl", ["x509", "-noout", "-text"], { input: pem }).toString();
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Issuer: CN ?= ?sealed-secrets/);
  assert.match(text, /Subject: CN ?= ?sealed-secrets/);
  assert.match(text, /Not Before: Mar {2}1 10:00:00 2025 GMT/);
  assert.match(text, /Not After : Feb 27 10:00:00 2035 GMT/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Encipher Only/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE/);
  assert.match(text, /X509v3 Subject Key Identifier/);
});

test("invalid inputs are refused with a reason", () => {
  const key = rsaKey();
  assert.throws(() => selfSignedCertificate({ ...FIELDS, notAfter: FIELDS.notBefore }, key), /notAfter must be later/);
  assert.throws(() => selfSignedCertificate({ ...FIELDS, commonName: "" }, key), /common name must not be empty/);
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  assert.throws(() => selfSignedCertificate(FIELDS, ec), /must be RSA, got ec/);
});

test("a restored sealing key: certificate and key in either order, checked to belong together", () => {
  const key = rsaKey();
  const { pem } = selfSignedCertificate(FIELDS, key);
  assert.deepEqual(parseSealingKey(pem + key), { certificatePem: pem, privateKeyPem: key });
  assert.deepEqual(parseSealingKey(key + pem), { certificatePem: pem, privateKeyPem: key });
  assert.equal(joinSealingKey(parseSealingKey(key + pem)), pem + key);
  // PKCS#8 keys, as openssl writes them today, work too.
  const pkcs8 = createPrivateKey(key).export({ type: "pkcs8", format: "pem" }).toString();
  assert.equal(parseSealingKey(pem + pkcs8).privateKeyPem, pkcs8);
});

test("a bad sealing key is refused naming sealingKey and the fix, without echoing the key", () => {
  const key = rsaKey();
  const other = rsaKey();
  const { pem } = selfSignedCertificate(FIELDS, key);
  const cases: [string, RegExp][] = [
    [pem, /^sealingKey: expected one PEM CERTIFICATE and one PEM PRIVATE KEY, found 1 certificate\(s\) and 0 private key\(s\): set it to the `sealingKey` output/],
    [pem + other, /^sealingKey: the private key does not belong to the certificate \(subject "CN=sealed-secrets"\)/],
    [pem + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", /^sealingKey: the private key does not parse/],
    ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + key, /^sealingKey: the certificate does not parse/],
    [pem + generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }), /^sealingKey: the private key is ec, but sealed-secrets keys are RSA/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseSealingKey(input), (e: Error) => {
      assert.match(e.message, message);
      assert.ok(!e.message.includes("PRIVATE KEY-----"), "the error quotes key material");
      return true;
    });
  }
});
