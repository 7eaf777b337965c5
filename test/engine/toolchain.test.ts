// scripts/toolchain/build on a machine where it has run before (every CI run
// after the first): it must check what it has and succeed, not trip over
// its own earlier output.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";

const BUILD = resolve(__dirname, "../../scripts/toolchain/build");
const bin = spawnSync(BUILD, ["--print"], { encoding: "utf8" }).stdout.trim();
const skip = existsSync(join(bin, "pulumi")) ? undefined : `no toolchain in ${bin}: run scripts/toolchain/build first (a cold build takes minutes, so this test does not)`;

test("a second run of the toolchain build checks what is there and succeeds", { skip }, () => {
  for (let i = 0; i < 2; i++) {
    const r = spawnSync(BUILD, [], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), bin);
    assert.match(r.stderr, /done: pulumi v3\.274\.1, node v24\.\d+\.\d+/);
  }
});
