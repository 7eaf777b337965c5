// A second checkout of this repository in another directory, the way a
// teammate's clone or a CI runner would have it: every file git knows
// (tracked or new, not ignored) copied as it is in the working tree, and
// node_modules linked (installing it again would be slow and the same).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const REPO = resolve(__dirname, "../..");

export function secondClone(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-clone-"));
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && !f.startsWith("test/golden/"));
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      copyFileSync(join(REPO, f), join(dir, f));
    } catch {
      // a file deleted in the working tree but not yet in git
    }
  }
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
