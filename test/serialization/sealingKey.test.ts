// The sealing key provider is serialized into the deployment the way
// pulumi.dynamic does it; a captured native object or an unserializable
// closure would fail here instead of in `pulumi up`.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { generateSealingKey, sealingKeyProvider } from "../../components/pulumi/SealingKeyProvider";
import { parseSealingKey } from "../../components/plan/sealedSecrets";
import { callInPlainNode } from "../support/plainNode";

test("the SealingKey provider serializes like pulumi.dynamic serializes it", async () => {
  const sf = await pulumi.runtime.serializeFunction(() => sealingKeyProvider, { allowSecrets: true });
  assert.ok(sf.text.length > 0);
  assert.equal(sf.containsSecrets, false);
  // Modules are loaded inside the methods, not captured.
  assert.match(sf.text, /require\("node:crypto"\)/);
  assert.match(sf.text, /"\/[^"]*\/components\/plan\/x509\.ts"/);
});

test("each provider method serializes on its own", async () => {
  for (const [name, fn] of Object.entries(sealingKeyProvider)) {
    const sf = await pulumi.runtime.serializeFunction(fn as (...a: unknown[]) => unknown);
    assert.ok(sf.text.includes("exports.handler"), `${name} did not serialize`);
  }
});

test("create makes a 4096-bit key and a certificate that belong together, named by fingerprint", async () => {
  const r = await sealingKeyProvider.create!({ commonName: "sealed-secrets", validityDays: 3650, keyBits: 4096 });
  assert.match(r.id, /^[0-9a-f]{64}$/);
  const pair = parseSealingKey(r.outs.certificatePem + r.outs.privateKeyPem); // checks the pair
  const cert = new (require("node:crypto").X509Certificate)(pair.certificatePem);
  assert.equal(cert.publicKey.asymmetricKeyDetails.modulusLength, 4096);
  assert.equal(cert.subject, "CN=sealed-secrets");
  const days = (Date.parse(r.outs.notAfter) - Date.parse(r.outs.notBefore)) / 86_400_000;
  assert.equal(days, 3650);
});

test("diff never asks for a new key", async () => {
  const olds = await generateSealingKey({ commonName: "sealed-secrets", validityDays: 1, keyBits: 2048 });
  const d = await sealingKeyProvider.diff!("id", olds, { commonName: "other", validityDays: 30, keyBits: 4096 });
  assert.deepEqual(d, { changes: false });
});

test("in plain node from another directory (as in the engine's provider host) create generates a matching pair", async () => {
  const r = (await callInPlainNode(sealingKeyProvider, "create", { commonName: "sealed-secrets", validityDays: 1, keyBits: 2048 })) as {
    error?: string;
    outs: { certificatePem: string; privateKeyPem: string };
  };
  assert.equal(r.error, undefined);
  parseSealingKey(r.outs.certificatePem + r.outs.privateKeyPem); // throws unless the pair matches
});
