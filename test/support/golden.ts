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

/** A node's role for golden files: the control plane that initializes, the ones that join, workers. */
export function goldenRole(n: { isControlPlane: boolean; initializes?: boolean }): string {
  return n.isControlPlane ? (n.initializes ? "initializing control plane" : "control plane") : "worker";
}

/**
 * The files of one node per role (goldenRole): nodes/<name>/… of the first
 * node of each role stay, so one script edit changes one golden file per
 * role rather than one per node. Every other node is held to the same file
 * names as its role's first node (its bytes differ only by its own name and
 * addresses, which the plan's unit tests check).
 */
export function onePerRole(files: Map<string, string>, nodes: { name: string; role: string }[]): Map<string, string> {
  const first = new Map<string, string>();
  for (const n of nodes) if (!first.has(n.role)) first.set(n.role, n.name);
  const namesOf = (node: string) => [...files.keys()].filter((k) => k.startsWith(`nodes/${node}/`)).map((k) => k.slice(`nodes/${node}/`.length)).sort();
  for (const n of nodes) {
    const representative = first.get(n.role)!;
    if (n.name !== representative) assert.deepEqual(namesOf(n.name), namesOf(representative), `node ${n.name} has other files than ${representative}, the first ${n.role}`);
  }
  const kept = new Set(first.values());
  return new Map([...files].filter(([k]) => !k.startsWith("nodes/") || kept.has(k.split("/")[1])));
}
