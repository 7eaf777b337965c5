// The folders of components/ are layers, and imports only go down:
// pulumi -> host -> ssh -> plan -> config (render sits beside host, over the
// plan). A newcomer can trust the folder names: the plan never reaches a
// host, the transport knows no step, and nothing below Pulumi imports it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const components = resolve(__dirname, "../../components");
/** What each folder may import from, besides itself. */
const allowed: Record<string, string[]> = {
  config: [],
  plan: ["config"],
  ssh: ["plan", "config"],
  host: ["ssh", "plan", "config"],
  render: ["plan", "config"],
  pulumi: ["host", "ssh", "plan", "config"],
};
const packagesOnlyIn: Record<string, string[]> = { "@pulumi/pulumi": ["pulumi"], "@pulumi/kubernetes": ["pulumi"], "node-ssh": ["ssh"] };

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

test("imports between the folders of components/ only go down the layers", () => {
  const wrong: string[] = [];
  for (const file of sources(components)) {
    const layer = relative(components, file).split("/")[0];
    assert.ok(layer in allowed, `components/${layer}/ is a folder the layer rule does not know: add it to this test`);
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/from "([^"]+)"/g)) {
      if (spec.startsWith(".")) {
        const target = relative(components, resolve(dirname(file), spec)).split("/")[0];
        if (target !== layer && !allowed[layer].includes(target)) wrong.push(`${relative(components, file)} imports ${target}/ (${spec})`);
      } else if (packagesOnlyIn[spec] && !packagesOnlyIn[spec].includes(layer)) {
        wrong.push(`${relative(components, file)} imports ${spec}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

test("no module imports itself around a loop", () => {
  const edges = new Map<string, string[]>();
  for (const file of sources(components)) {
    const deps = [...readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)].map(([, spec]) => {
      const target = resolve(dirname(file), spec);
      return sources(dirname(target)).find((f) => f === `${target}.ts` || f === join(target, "index.ts")) ?? `${target}.ts`;
    });
    edges.set(file, deps);
  }
  const loops: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      loops.push([...path.slice(path.indexOf(f)), f].map((p) => relative(components, p)).join(" -> "));
      return;
    }
    state.set(f, "open");
    for (const d of edges.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, "done");
  };
  for (const f of edges.keys()) visit(f, []);
  assert.deepEqual(loops, []);
});
