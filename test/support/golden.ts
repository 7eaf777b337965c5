// Golden files: the expected bytes live in test/golden/. Run the tests with
// UPDATE_GOLDEN=1 to rewrite them, then review the diff like any code change.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const ROOT = join(__dirname, "..", "golden");

export function assertGolden(relPath: string, actual: string): void {
  const path = join(ROOT, relPath);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `golden file ${path} is missing: run the test with UPDATE_GOLDEN=1 and review it`);
  assert.equal(actual, readFileSync(path, "utf8"), `output differs from golden file ${path} (UPDATE_GOLDEN=1 rewrites it)`);
}
