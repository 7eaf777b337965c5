// Two ways in to the same schema: the stack file on disk (for `render`, which
// runs without the Pulumi CLI) and the config the Pulumi engine hands the
// program. Both replace secret values by `{secret: name}` before validation,
// so no secret value ever reaches the plan.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { ConfigError } from "./errors";
import { isMisspelledNamespace, PROJECT } from "./namespace";
import { parseStack, SECRETS, type StackSpec } from "./schema";

export { PROJECT };

export function stackFilePath(stacksDir: string, stack: string): string {
  return join(stacksDir, `Pulumi.${stack}.yaml`);
}

/** The largest stack file ironroot parses. */
export const MAX_STACK_FILE_BYTES = 1024 * 1024;

/**
 * Raw config of a stack file: `ironroot:` keys, secure values as refs. Keys
 * of a namespace that looks like a misspelling of ironroot's are kept whole,
 * without their value, so that parseStack reports them.
 */
export function rawConfigFromStackFile(path: string, stack: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(stack, [`${path}: cannot read the stack file: ${(e as Error).message}`]);
  }
  // The YAML parser's duplicate-key check grows with the square of a map's
  // size: a multi-megabyte file would hang the run instead of failing it.
  // A real stack of a hundred hosts is about 30 KiB.
  if (text.length > MAX_STACK_FILE_BYTES) {
    throw new ConfigError(stack, [
      `${path}: the stack file is ${(text.length / 1024 / 1024).toFixed(1)} MiB; ironroot reads stack files up to ${MAX_STACK_FILE_BYTES / 1024 / 1024} MiB: keep only the stack's settings in it`,
    ]);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ConfigError(stack, [`${path}: not valid YAML: ${(e as Error).message.split("\n")[0]}`]);
  }
  return rawConfigFromStackConfig((doc as { config?: Record<string, unknown> } | null)?.config ?? {});
}

/** Raw config from the `config:` map of a parsed stack file. */
export function rawConfigFromStackConfig(config: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (isMisspelledNamespace(key)) raw[key] = MISSPELLED;
    if (!key.startsWith(`${PROJECT}:`)) continue;
    const name = key.slice(PROJECT.length + 1);
    raw[name] = isEncrypted(value) ? { secret: name } : value;
  }
  return raw;
}

/**
 * What stands for the value of a key under a misspelled namespace: parseStack
 * reports the key and never reads its value, which from the engine may be a
 * decrypted secret.
 */
export const MISSPELLED = null;

/** A value the stack file holds encrypted (`secure: <ciphertext>`). */
export function isEncrypted(v: unknown): v is { secure: string } {
  return typeof v === "object" && v !== null && "secure" in v;
}

export function loadStackFile(stacksDir: string, stack: string): StackSpec {
  return parseStack(stack, rawConfigFromStackFile(stackFilePath(stacksDir, stack), stack));
}

/**
 * Raw config from the engine's flat map (`ironroot:hosts` -> JSON text).
 * Values of secret names are never read here, only noted as present. Keys
 * of a namespace that looks like a misspelling of ironroot's are kept whole,
 * without their value, so that parseStack reports them.
 */
export function rawConfigFromEngine(all: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (isMisspelledNamespace(key)) raw[key] = MISSPELLED;
    if (!key.startsWith(`${PROJECT}:`)) continue;
    const name = key.slice(PROJECT.length + 1);
    if (name in SECRETS) {
      raw[name] = { secret: name };
      continue;
    }
    try {
      raw[name] = JSON.parse(value);
    } catch {
      raw[name] = value;
    }
  }
  return raw;
}
