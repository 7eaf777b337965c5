// The shell every generated script and the SSH transport share: quoting,
// file contents without heredocs (step bodies are re-indented, which breaks a
// heredoc's end), and the one way a file is written on a host.

/** Single-quote a string for POSIX shells. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function printfLines(content: string): string {
  const lines = content.endsWith("\n") ? content.slice(0, -1).split("\n") : content.split("\n");
  return `printf '%s\\n' \\\n${lines.map((l) => `  ${shellQuote(l)}`).join(" \\\n")}`;
}

/**
 * Shell that writes what `fill` prints to `path` with `mode`, atomically: a
 * temp file beside it, then a rename, so readers never see half a file. A
 * dot name: the kubelet ignores hidden files in its manifest and drop-in
 * directories, so it never sees the temp file. The temp file's name is left
 * in $tmp, for a caller that removes it when the write fails.
 */
export function writeAtomically(path: string, fill: string, mode: string): string {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const base = path.slice(path.lastIndexOf("/") + 1);
  return [
    // mkdir, not install -d -m: an existing directory keeps its mode.
    `mkdir -p -- ${shellQuote(dir)}`,
    `tmp=$(mktemp ${shellQuote(`${dir}/.${base}.XXXXXX`)})`,
    "# shellcheck disable=SC2016,SC1003 # file content, written literally",
    `${fill} >"$tmp"`,
    `chmod ${mode} "$tmp"`,
    moveIntoPlace('"$tmp"', shellQuote(path)),
  ].join("\n");
}

/** Shell that writes `content` to `path` with `mode`, atomically. */
export function writeFileAtomically(path: string, content: string, mode: string): string {
  return writeAtomically(path, printfLines(content), mode);
}

/** Shell whose exit status is 0 when `path` is a file holding exactly `content`. */
export function fileHolds(path: string, content: string): string {
  return `[ -f ${shellQuote(path)} ] && cmp -s ${shellQuote(path)} <(${printfLines(content)})`;
}

/** Shell that renames the finished temp file `tmp` to `dest` (both shell words), after moving aside anything at `dest` that is not a file. */
export function moveIntoPlace(tmp: string, dest: string): string {
  return [clearTheWay(dest), `mv -f ${tmp} ${dest}`].join("\n");
}

/**
 * Shell that clears the way for a file at `dest` (a shell word, already
 * quoted or a "$variable"): something that is not a regular file or a
 * symlink there (a directory, a fifo) would make the rename put the file
 * inside it, or fail. It is moved aside, never deleted, and a line on
 * stderr says where to: ironroot owns the path.
 */
export function clearTheWay(dest: string): string {
  return [
    `if [ -e ${dest} ] && [ ! -f ${dest} ] && [ ! -L ${dest} ]; then`,
    `  aside=${dest}.ironroot-moved-$(date -u +%Y%m%dT%H%M%SZ)`,
    `  kind=$(stat -c %F ${dest})`,
    `  mv -- ${dest} "$aside"`,
    `  echo "${MOVED_ASIDE} ${"$"}{aside%.ironroot-moved-*}: it was a $kind, not a file; moved aside to $aside (ironroot writes this path)" >&2`,
    "fi",
  ].join("\n");
}

/** How clearTheWay's note starts, so callers can find it in stderr. */
export const MOVED_ASIDE = "moved aside:";
