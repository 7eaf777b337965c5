// Golden files: the expected bytes live in test/golden/. Run the tests with
// UPDATE_GOLDEN=1 to rewrite them, then review the diff like any code change.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/** A whole tree of files against test/golden/<relDir>: same file names, same bytes. */
export function assertGoldenTree(relDir: string, files: Map<string, string>): void {
  const dir = join(ROOT, relDir);
  if (process.env.UPDATE_GOLDEN === "1") rmSync(dir, { recursive: true, force: true });
  for (const [rel, content] of files) assertGolden(join(relDir, rel), content);
  const expected = existsSync(dir) ? listFiles(dir).sort() : [];
  assert.deepEqual([...files.keys()].sort(), expected, `files differ from golden tree ${dir} (UPDATE_GOLDEN=1 rewrites it)`);
}

function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}
