// shellcheck over generated scripts: each distinct script once (nodes of one
// role share most of theirs), all in one shellcheck run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Why shellcheck tests skip here, or false when shellcheck is installed. */
export function shellcheckMissing(): string | false {
  return spawnSync("shellcheck", ["--version"]).status === 0 ? false : "shellcheck is not installed (apt-get install shellcheck)";
}

/** shellcheck's findings for each script that has any, by the name given; empty when all pass. */
export function shellcheckAll(scripts: Iterable<[string, string]>): string[] {
  const byContent = new Map<string, string[]>();
  for (const [name, content] of scripts) byContent.set(content, [...(byContent.get(content) ?? []), name]);
  const dir = mkdtempSync(join(tmpdir(), "ironroot-shellcheck-"));
  try {
    const files = [...byContent.entries()].map(([content, names], i) => {
      const file = join(dir, `${i}.sh`);
      writeFileSync(file, content);
      return { file, names };
    });
    if (files.length === 0) return [];
    const r = spawnSync("shellcheck", ["-s", "bash", "-f", "gcc", ...files.map((f) => f.file)], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status === 0) return [];
    if (!r.stdout) return [`shellcheck failed to run (exit status ${r.status}): ${r.stderr}`];
    return files
      .map(({ file, names }) => ({ names, found: r.stdout.split("\n").filter((l) => l.startsWith(`${file}:`)).map((l) => l.slice(file.length + 1)) }))
      .filter((x) => x.found.length > 0)
      .map((x) => `${x.names.join(", ")}:\n  ${x.found.join("\n  ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
