// How every rendered YAML file is written, and how a secret shows in one:
// as a named placeholder, never its value.
import YAML from "yaml";

export function secretPlaceholder(name: string): string {
  return `<secret:${name}>`;
}

export function toYaml(doc: unknown): string {
  return YAML.stringify(doc, { lineWidth: 0, sortMapEntries: false });
}
