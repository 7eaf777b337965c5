import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LineSplitter, masker, sudoNeedsPassword, wrapCommand } from "../../components/ssh/command";
import { backoffMs, expandHome } from "../../components/ssh/pool";
import { fingerprint, hostKeyAlgorithms, mismatchMessage, parsePinnedKey } from "../../components/ssh/hostKey";

const PIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB2dQWso9CyEtkbC2wFAuHuM688V21vK2celY/aPTLLp";
const OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP5ggwCpTbTYnH1OPiJLpRLl4sPMB5WFc8XQddcdBPSU";

test("commands run under bash -c, LC_ALL=C and a host-side timeout; sudo -n for non-root", () => {
  assert.equal(wrapCommand("echo 'a b'", { sudo: false, timeoutSeconds: 30 }), `exec env LC_ALL=C timeout --kill-after=5 30 bash -c 'echo '\\''a b'\\'''`);
  assert.equal(wrapCommand("true", { sudo: true, timeoutSeconds: 5 }), "sudo -n -- env LC_ALL=C timeout --kill-after=5 5 bash -c 'true'");
});

test("the wrapped command runs the original text exactly (through a local shell)", () => {
  const cmd = `printf '%s|' "$0" 'it'"'"'s' $((1+2)) "$LC_ALL"`;
  const out = execFileSync("sh", ["-c", wrapCommand(cmd, { sudo: false, timeoutSeconds: 5 })], { encoding: "utf8" });
  assert.equal(out, "bash|it's|3|C|");
});

test("the host-side timeout stops a command with status 124", () => {
  const r = spawnSync("sh", ["-c", wrapCommand("sleep 5", { sudo: false, timeoutSeconds: 1 })]);
  assert.equal(r.status, 124);
});

test("fingerprints match ssh-keygen", { skip: spawnSync("ssh-keygen", ["-?"]).error ? "ssh-keygen is not installed" : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ironroot-fp-"));
  writeFileSync(join(dir, "k.pub"), `${PIN}\n`);
  const expected = execFileSync("ssh-keygen", ["-lf", join(dir, "k.pub")], { encoding: "utf8" }).split(" ")[1];
  assert.equal(fingerprint(parsePinnedKey(PIN).blob), expected);
});

test("a mismatch names both fingerprints and the config field to update", () => {
  const msg = mismatchMessage(parsePinnedKey(PIN), parsePinnedKey(OTHER).blob, "hosts[0].hostKey");
  assert.ok(msg.includes(fingerprint(parsePinnedKey(PIN).blob)));
  assert.ok(msg.includes(fingerprint(parsePinnedKey(OTHER).blob)));
  assert.match(msg, /^host key mismatch: expected ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}, the host presented ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}; refusing to connect\./);
  assert.match(msg, /update hosts\[0\]\.hostKey/);
});

test("only the pinned key type is offered", () => {
  assert.deepEqual(hostKeyAlgorithms("ssh-ed25519"), ["ssh-ed25519"]);
  assert.deepEqual(hostKeyAlgorithms("ssh-rsa"), ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
});

test("secrets are masked, also line by line for multi-line secrets", () => {
  const key = "-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\nEEEEFFFFGGGG\n-----END KEY-----";
  const mask = masker(["tok3n", key]);
  assert.equal(mask("token=tok3n; x"), "token=***; x");
  assert.equal(mask("  AAAABBBBCCCCDDDD"), "  ***");
  assert.equal(masker([])("tok3n"), "tok3n");
});

test("lines are split across chunks; the unterminated rest is flushed", () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push("a\nb");
  s.push("c\r\nd");
  s.flush();
  assert.deepEqual(lines, ["a", "bc", "d"]);
});

test("sudo's password messages are recognised", () => {
  assert.equal(sudoNeedsPassword("sudo: a password is required\n"), true);
  assert.equal(sudoNeedsPassword("sudo: a terminal is required to read the password"), true);
  assert.equal(sudoNeedsPassword("needpw is not in the sudoers file."), false);
});

test("connection retries back off exponentially, bounded", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 9].map(backoffMs), [500, 1000, 2000, 4000, 4000, 4000]);
});

test("~ in privateKeyPath is the home directory", () => {
  assert.equal(expandHome("~/.ssh/id"), `${process.env.HOME ?? require("node:os").homedir()}/.ssh/id`);
  assert.equal(expandHome("/abs/~x"), "/abs/~x");
});
