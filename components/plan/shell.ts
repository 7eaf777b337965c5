// Shell quoting shared by the generated scripts and the SSH transport.

/** Single-quote a string for POSIX shells. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
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
