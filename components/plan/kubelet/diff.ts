// Reading back the drop-in file and comparing it field by field with what the
// plan wants. Values are compared as written (no unit conversion): the file
// is ironroot's, so "1Gi" where the plan writes "1024Mi" is a hand edit and
// is shown and reverted like any other.
import YAML from "yaml";
import { FIELD_PATHS, fieldValue, type FieldPath, type KubeletFields } from "./fields";

/** A live file as far as ironroot can read it: missing fields stay undefined. */
export interface LiveKubeletFile {
  fields: LiveFields;
  /** Dotted paths present in the file that ironroot does not write (hand additions). */
  unmanaged: string[];
}

export type LiveFields = {
  maxPods?: number;
  kubeReserved?: Partial<KubeletFields["kubeReserved"]>;
  systemReserved?: Partial<KubeletFields["systemReserved"]>;
  evictionHard?: Partial<KubeletFields["evictionHard"]>;
};

const HEADER_KEYS = new Set(["apiVersion", "kind"]);
const SECTIONS = ["kubeReserved", "systemReserved", "evictionHard"] as const;

/** Parse the live file. Throws with the reason when it is not a YAML map (a broken hand edit). */
export function parseKubeletDropIn(text: string): LiveKubeletFile {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new Error(`not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return { fields: {}, unmanaged: [] };
  if (typeof doc !== "object" || Array.isArray(doc)) throw new Error("not a YAML map");
  const d = doc as Record<string, unknown>;
  const fields: LiveFields = {};
  const unmanaged: string[] = [];
  const managedLeaves = new Set<string>(FIELD_PATHS);

  for (const [key, value] of Object.entries(d)) {
    if (HEADER_KEYS.has(key)) continue;
    if (key === "maxPods") {
      fields.maxPods = typeof value === "number" ? value : Number(value);
      continue;
    }
    if ((SECTIONS as readonly string[]).includes(key) && typeof value === "object" && value !== null && !Array.isArray(value)) {
      const section: Record<string, string> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (managedLeaves.has(`${key}.${k}`)) section[k] = String(v);
        else unmanaged.push(`${key}.${k}`);
      }
      (fields as Record<string, unknown>)[key] = section;
      continue;
    }
    unmanaged.push(key);
  }
  return { fields, unmanaged: unmanaged.sort() };
}

export interface FieldChange {
  path: string;
  /** Live value; undefined when the field (or the file) is missing. */
  from?: string;
  /** Desired value; undefined for an unmanaged field that will be removed. */
  to?: string;
}

/** Only the fields that differ, in file order; unmanaged fields last, as removals. */
export function diffKubeletFields(live: LiveKubeletFile | undefined, desired: KubeletFields): FieldChange[] {
  const out: FieldChange[] = [];
  for (const path of FIELD_PATHS) {
    const want = String(fieldValue(desired, path));
    const have = live ? fieldValue(live.fields as KubeletFields, path as FieldPath) : undefined;
    const haveText = have === undefined || (typeof have === "number" && Number.isNaN(have)) ? undefined : String(have);
    if (haveText !== want) out.push({ path, from: haveText, to: want });
  }
  for (const path of live?.unmanaged ?? []) out.push({ path, from: "(set by hand)", to: undefined });
  return out;
}

/** `kubeReserved.memory: 500Mi => 1024Mi`; `(absent)` / `(removed)` for missing ends. */
export function formatChange(c: FieldChange): string {
  return `${c.path}: ${c.from ?? "(absent)"} => ${c.to ?? "(removed)"}`;
}
