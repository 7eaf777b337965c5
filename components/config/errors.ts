// Turns zod issues into the one message style ironroot uses for config:
// `<config path>: <what is wrong>: <how to fix it>`.
import type { z } from "zod";

export class ConfigError extends Error {
  constructor(readonly stack_: string, readonly problems: string[]) {
    super(
      `stack "${stack_}": ${problems.length} problem${problems.length === 1 ? "" : "s"} in the stack config:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    // Keys that are not plain words (label keys: "node.example.com/pool") are
    // quoted, so the dots in them do not read as nesting.
    else if (out !== "" && !/^[A-Za-z]([A-Za-z0-9_-]*[A-Za-z0-9])?$/.test(String(p))) out += `[${JSON.stringify(String(p))}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return `the text ${JSON.stringify(v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: "text",
  number: "a number",
  boolean: "true or false",
  array: "a list",
  object: "a map",
  record: "a map",
};

/** Error map for zod parses: plain-language messages for the built-in checks. */
export const issueMessage: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case "invalid_type":
      if (iss.input === undefined) return "is required";
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describe(iss.input)}`;
    case "invalid_value":
      return `${JSON.stringify(iss.input)} is not one of: ${iss.values.map((v) => String(v)).join(", ")}`;
    case "too_small":
      if (iss.origin === "array") return `needs at least ${String(iss.minimum)} item(s)`;
      if (iss.origin === "string") return "must not be empty";
      return `${String(iss.input)} is too small: use ${iss.inclusive ? "at least" : "more than"} ${String(iss.minimum)}`;
    case "too_big":
      return `${String(iss.input)} is too large: use ${iss.inclusive ? "at most" : "less than"} ${String(iss.maximum)}`;
    case "invalid_format":
      return `${JSON.stringify(iss.input)} has the wrong format`;
    case "not_multiple_of":
      return `${String(iss.input)} must be a multiple of ${String(iss.divisor)}`;
    case "invalid_union":
      return `${describe(iss.input)} matches none of the allowed forms`;
    default:
      return undefined;
  }
};

/** One line per problem; unknown keys get one line each so each names its own path. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): string[] {
  const out: string[] = [];
  for (const iss of issues) {
    const path = [...prefix, ...iss.path];
    if (iss.code === "unrecognized_keys") {
      for (const key of iss.keys) {
        out.push(`${formatPath([...path, key])}: unknown field: check the spelling against the config reference in README.md`);
      }
      continue;
    }
    out.push(`${formatPath(path) || "(stack config)"}: ${iss.message}`);
  }
  return out;
}
