// Small helpers for generated shell: quoting and writing file contents
// without heredocs (step bodies are re-indented, which breaks heredoc ends).

import { clearTheWay, shellQuote as q } from "../shell";

export { q };

/** A `printf` command that prints `content` exactly, one argument per line. */
export function printfLines(content: string): string {
  const lines = content.endsWith("\n") ? content.slice(0, -1).split("\n") : content.split("\n");
  return `printf '%s\\n' \\\n${lines.map((l) => `  ${q(l)}`).join(" \\\n")}`;
}

/**
 * Shell that writes `content` to `path` atomically with `mode`: a temp file
 * in the same directory, then rename, so a failed run never leaves half a file.
 */
export function writeFileAtomically(path: string, content: string, mode: string): string {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const base = path.slice(path.lastIndexOf("/") + 1);
  return [
    `install -d -m 0755 ${q(dir)}`,
    // A dot name: the kubelet ignores hidden files in its manifest and
    // drop-in directories, so it never sees the half-written temp file.
    `tmp=$(mktemp ${q(`${dir}/.${base}.XXXXXX`)})`,
    `${printfLines(content)} >"$tmp"`,
    `chmod ${mode} "$tmp"`,
    clearTheWay(q(path)),
    `mv -f "$tmp" ${q(path)}`,
  ].join("\n");
}

/** Shell that succeeds when `path` holds exactly `content`. */
export function fileHolds(path: string, content: string): string {
  return `[ -f ${q(path)} ] && cmp -s ${q(path)} <(${printfLines(content)})`;
}
