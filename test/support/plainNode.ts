// Runs a serialized dynamic provider the way the engine's dynamic-provider
// host does: its text written to another directory, loaded by plain node
// with no TypeScript loader, one method called there.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";

/** Calls `provider.<method>(...args)` in a fresh node process; returns its result, or the error message as `{ error }`. */
export async function callInPlainNode(provider: object, method: string, ...args: unknown[]): Promise<unknown> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  const dir = mkdtempSync(join(tmpdir(), "ironroot-provider-"));
  try {
    const file = join(dir, "provider.js");
    writeFileSync(file, sf.text);
    const script = `
      const provider = require(${JSON.stringify(file)}).${sf.exportName}();
      Promise.resolve(provider[${JSON.stringify(method)}](...${JSON.stringify(args)}))
        .then((r) => process.stdout.write(JSON.stringify({ result: r })), (e) => process.stdout.write(JSON.stringify({ error: e.message })));`;
    const out = execFileSync(process.execPath, ["-e", script], {
      cwd: join(__dirname, "../.."),
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    const parsed = JSON.parse(out) as { result?: unknown; error?: string };
    return "error" in parsed ? { error: parsed.error } : parsed.result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
