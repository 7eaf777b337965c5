import assert from "node:assert/strict";
import { test } from "node:test";
import { collapseLockWaits } from "../../components/host/lockWaits";

// apt -q's line, as a lab host printed it; on a terminal apt adds the seconds.
const wait = (pid: number, tty = false) =>
  `Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process ${pid} (apt-get)...${tty ? " 7s" : ""}`;

test("a lock wait is reported once per holder, then once when it ends, with how long it took", () => {
  const out: string[] = [];
  let clock = 1_000_000;
  const line = collapseLockWaits((l) => out.push(l), () => clock);
  line("Reading package lists...");
  for (let s = 0; s < 120; s++, clock += 1000) line(wait(4242, s % 2 === 0));
  for (let s = 0; s < 5; s++, clock += 1000) line(wait(4343));
  line("Setting up conntrack (1:1.4.7-1+b2) ...");
  const held = (pid: number) =>
    `waiting for the package manager's lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process ${pid} (apt-get) (reported once; the wait goes on quietly)`;
  assert.deepEqual(out, [
    "Reading package lists...",
    held(4242),
    held(4343),
    "the package manager's lock was free after 125 s",
    "Setting up conntrack (1:1.4.7-1+b2) ...",
  ]);
});
