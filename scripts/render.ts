// npm run render -- --stack <name> [--out dir]
// Writes the plan of a stack to files, with no hosts and no Pulumi CLI.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../components/config/errors";
import { loadStackFile } from "../components/config/load";
import { buildPlan } from "../components/plan";
import { renderPlan, writeRendered } from "../components/render/render";

function main(): number {
  const { values } = parseArgs({
    options: { stack: { type: "string" }, out: { type: "string" }, "stacks-dir": { type: "string" } },
  });
  if (!values.stack) {
    console.error("usage: npm run render -- --stack <name> [--out <dir>]   (reads stacks/Pulumi.<name>.yaml)");
    return 2;
  }
  const root = resolve(__dirname, "..");
  const stacksDir = resolve(values["stacks-dir"] ?? resolve(root, "stacks"));
  const out = resolve(values.out ?? resolve(root, "out", values.stack));
  try {
    const files = renderPlan(buildPlan(loadStackFile(stacksDir, values.stack)));
    writeRendered(out, files);
    console.log(`rendered ${files.size} files for stack "${values.stack}" to ${out}`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main();
