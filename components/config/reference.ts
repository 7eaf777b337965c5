// The config reference in README is generated from the schema, so the docs
// cannot drift from what is validated: `npm run config-reference`.
import { z } from "zod";
import { host } from "./hosts";
import { sections, SECRETS } from "./schema";

type JsonSchema = {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  required?: string[];
};

interface Row {
  path: string;
  type: string;
  description: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "any"}`;
  if (s.type === "object") return "map";
  if (s.anyOf) return s.anyOf.map(typeOf).join(" \\| ");
  // A choice of shapes told apart by `mode` (cluster.endpoint): name the modes.
  if (s.oneOf) {
    const modes = s.oneOf.map((v) => v.properties?.mode?.const).filter((m) => m !== undefined);
    return modes.length === s.oneOf.length ? `map, by mode: ${modes.map((m) => JSON.stringify(m)).join(" \\| ")}` : s.oneOf.map(typeOf).join(" \\| ");
  }
  if (Array.isArray(s.type)) return s.type.join(" \\| ");
  if (s.type) return s.type;
  throw new Error(`config reference: no type for a setting described as ${JSON.stringify(s.description ?? "")}: give the schema a type`);
}

function walk(path: string, s: JsonSchema, rows: Row[]): void {
  const unwrapped = s.anyOf?.length === 1 ? { ...s.anyOf[0], description: s.description ?? s.anyOf[0].description } : s;
  // Secrets are set with `pulumi config set --secret`, never as a value in the file.
  const type = path in SECRETS ? "secret" : typeOf(unwrapped);
  rows.push({ path, type, description: unwrapped.description ?? "" });
  if (unwrapped.oneOf) {
    for (const variant of unwrapped.oneOf) {
      const mode = variant.properties?.mode?.const;
      for (const [k, v] of Object.entries(variant.properties ?? {})) {
        if (k !== "mode") walk(`${path} (mode ${String(mode)}).${k}`, v, rows);
      }
    }
  }
  for (const [k, v] of Object.entries(unwrapped.properties ?? {})) walk(`${path}.${k}`, v, rows);
  if (unwrapped.type === "array" && unwrapped.items?.properties) {
    for (const [k, v] of Object.entries(unwrapped.items.properties)) walk(`${path}[].${k}`, v, rows);
  }
  if (typeof unwrapped.additionalProperties === "object" && unwrapped.additionalProperties.properties) {
    for (const [k, v] of Object.entries(unwrapped.additionalProperties.properties)) walk(`${path}.<name>.${k}`, v, rows);
  }
}

export function configReference(): string {
  const rows: Row[] = [];
  for (const [name, schema] of Object.entries(sections)) {
    const s = name === "hosts" ? z.array(host).describe(schema.description ?? "") : schema;
    walk(name, z.toJSONSchema(s as z.ZodType, { io: "input", unrepresentable: "any" }) as JsonSchema, rows);
  }
  const esc = (t: string) => t.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    "<!-- Generated from components/config by `npm run config-reference`; do not edit by hand. -->",
    "",
    "Every setting is a key under the `ironroot:` namespace of `stacks/Pulumi.<stack>.yaml`.",
    "Secrets are set with `pulumi config set --secret <name>` and never appear in plain text.",
    "",
    "| Setting | Type | Meaning and default |",
    "|---|---|---|",
    ...rows.map((r) => `| \`${r.path}\` | ${r.type} | ${esc(r.description)} |`),
    "",
  ].join("\n");
}
