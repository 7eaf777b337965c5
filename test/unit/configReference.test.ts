import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { configReference } from "../../components/config/reference";

test("docs/config-reference.md matches the schema (regenerate with `npm run config-reference`)", () => {
  const committed = readFileSync(resolve(__dirname, "../../docs/config-reference.md"), "utf8");
  assert.equal(committed, `# Config reference\n\n${configReference()}`);
});

test("every setting in the schema is documented", () => {
  const undocumented = configReference()
    .split("\n")
    .filter((l) => l.startsWith("| `") && / \| {2}\|$/.test(l));
  assert.deepEqual(undocumented, []);
});

test("only the three secrets are typed secret; cluster.endpoint names its modes", () => {
  const rows = configReference().split("\n").filter((l) => l.startsWith("| `"));
  const secret = rows.filter((l) => l.split(" | ")[1] === "secret").map((l) => l.split("`")[1]);
  assert.deepEqual(secret.sort(), ["deployKey", "sealingKey", "sshPrivateKey"]);
  assert.ok(rows.some((l) => l.startsWith('| `cluster.endpoint` | map, by mode: "local-lb" \\| "vip" \\| "dns" |')));
});
