import YAML from "yaml";

/** Kubernetes objects as one YAML stream, in the given order. */
export function toYamlDocs(docs: unknown[]): string {
  return docs.map((d) => YAML.stringify(d, { lineWidth: 0, sortMapEntries: false })).join("---\n");
}
