// apt waiting for the dpkg lock prints the same line once a second, for as
// long as the wait lasts (two minutes are 120 lines). This keeps the first
// line, and a new one only when the holder changes; when the wait ends, one
// line says how long it took.

/** apt -q: `Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 123 (apt-get)...` (a terminal adds ` 5s`). */
const WAIT = /Waiting for cache lock: (.*?)\.*(?:\s+\d+s)?\s*$/;

/** A line handler that passes `emit` every line but the repeats of one lock wait. `now` is the clock, in ms. */
export function collapseLockWaits(emit: (line: string) => void, now: () => number = Date.now): (line: string) => void {
  let holder: string | undefined;
  let since = 0;
  return (line) => {
    const m = WAIT.exec(line);
    if (m) {
      if (holder === undefined) since = now();
      if (m[1] !== holder) {
        holder = m[1];
        emit(`waiting for the package manager's lock: ${holder} (reported once; the wait goes on quietly)`);
      }
      return;
    }
    if (holder !== undefined) {
      emit(`the package manager's lock was free after ${Math.round((now() - since) / 1000)} s`);
      holder = undefined;
    }
    emit(line);
  };
}
