// The sealed-secrets controller and its disaster-recovery key, as data.
// The key Secret is created before the controller starts: on start the
// controller adopts every Secret labelled as an active key in its namespace
// and only generates one of its own when it finds none. That is what makes a
// rebuilt cluster able to open the sealed secrets already in git.
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { SealedSecretsConfig } from "../config/gitops";

export const SEALING_KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key";
/** Our key's Secret name. The controller finds keys by label, not name; the name says who made it. */
export const SEALING_KEY_SECRET_NAME = "sealed-secrets-key-ironroot";
/** kubeseal looks for this controller name by default, so users need no `--controller-name`. */
export const SEALED_SECRETS_CONTROLLER = "sealed-secrets-controller";
export const SEALED_SECRETS_CHART = { name: "sealed-secrets", repo: "https://bitnami-labs.github.io/sealed-secrets" } as const;

/** What the controller itself generates (pkg/controller/main.go flags `--key-size`, `--key-ttl`). */
export const SEALING_KEY_BITS = 4096;
export const SEALING_KEY_VALIDITY_DAYS = 3650;
export const SEALING_KEY_COMMON_NAME = "sealed-secrets";

/** The key Secret. Certificate and key are parameters so render can pass placeholders. */
export function sealingKeySecret(namespace: string, certificatePem: string, privateKeyPem: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: SEALING_KEY_SECRET_NAME,
      namespace,
      labels: { [SEALING_KEY_LABEL]: "active", "app.kubernetes.io/managed-by": "ironroot" },
    },
    type: "kubernetes.io/tls",
    stringData: { "tls.crt": certificatePem, "tls.key": privateKeyPem },
  };
}

/** Helm values for the sealed-secrets chart. */
export function sealedSecretsValues(s: SealedSecretsConfig) {
  return {
    fullnameOverride: SEALED_SECRETS_CONTROLLER,
    namespace: s.namespace,
    // A new key is added every period; old keys stay so older sealed
    // secrets still open. See docs/gitops.md for what that means for backups.
    keyrenewperiod: s.keyRenewPeriod,
  };
}

export interface SealingKeyPair {
  certificatePem: string;
  privateKeyPem: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----\r?\n[\s\S]*?-----END \1-----\r?\n?/g;

/**
 * Parse a restored `sealingKey` secret: PEM certificate and PEM private key
 * in one value (either order). Checks that the key is RSA and belongs to the
 * certificate; errors name the config key and the fix, never the key itself.
 */
export function parseSealingKey(text: string): SealingKeyPair {
  const fix =
    "set it to the `sealingKey` output of the old stack (`pulumi stack output --show-secrets sealingKey`), " +
    "or to tls.crt followed by tls.key of the old cluster's key Secret, base64-decoded, " +
    "with `pulumi config set --secret sealingKey < key.pem`";
  const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1], pem: m[0].endsWith("\n") ? m[0] : `${m[0]}\n` }));
  const certs = blocks.filter((b) => b.label === "CERTIFICATE");
  const keys = blocks.filter((b) => /PRIVATE KEY$/.test(b.label));
  if (certs.length !== 1 || keys.length !== 1) {
    throw new Error(
      `sealingKey: expected one PEM CERTIFICATE and one PEM PRIVATE KEY, found ${certs.length} certificate(s) and ${keys.length} private key(s): ${fix}`,
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certs[0].pem);
  } catch (e) {
    throw new Error(`sealingKey: the certificate does not parse (${(e as Error).message}): ${fix}`);
  }
  let key;
  try {
    key = createPrivateKey(keys[0].pem);
  } catch {
    // The parser's message may quote key material; say only what failed.
    throw new Error(`sealingKey: the private key does not parse (an encrypted key is not supported): ${fix}`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new Error(`sealingKey: the private key is ${key.asymmetricKeyType}, but sealed-secrets keys are RSA: ${fix}`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new Error(
      `sealingKey: the private key does not belong to the certificate (subject "${cert.subject.replace(/\n/g, ", ")}"): ` +
        `put the key that was created together with this certificate`,
    );
  }
  return { certificatePem: certs[0].pem, privateKeyPem: keys[0].pem };
}

/** The one-value form `parseSealingKey` reads and the program exports. */
export function joinSealingKey(pair: SealingKeyPair): string {
  return `${pair.certificatePem}${pair.privateKeyPem}`;
}
