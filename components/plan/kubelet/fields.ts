// The kubelet settings ironroot owns on a node, in the kubelet's own field
// names, so a difference reads the same in `pulumi preview`, in render output
// and in the file on the host (`kubeReserved.memory`, `evictionHard.memory.available`).

export interface KubeletFields {
  maxPods: number;
  kubeReserved: { cpu: string; memory: string };
  systemReserved: { cpu: string; memory: string; pid: string };
  evictionHard: {
    "memory.available": string;
    "nodefs.available": string;
    "nodefs.inodesFree": string;
    "imagefs.available": string;
  };
}

/** Every leaf of KubeletFields as a dotted path, in file order: the unit of a diff. */
export const FIELD_PATHS = [
  "maxPods",
  "kubeReserved.cpu",
  "kubeReserved.memory",
  "systemReserved.cpu",
  "systemReserved.memory",
  "systemReserved.pid",
  "evictionHard.memory.available",
  "evictionHard.nodefs.available",
  "evictionHard.nodefs.inodesFree",
  "evictionHard.imagefs.available",
] as const;
export type FieldPath = (typeof FIELD_PATHS)[number];

/** The value at a dotted path; the eviction signal names themselves contain dots. */
export function fieldValue(f: KubeletFields, path: FieldPath): string | number | undefined {
  const [head, ...rest] = path.split(".");
  const section = (f as unknown as Record<string, unknown>)[head];
  if (rest.length === 0) return section as number | undefined;
  if (typeof section !== "object" || section === null) return undefined;
  return (section as Record<string, string | undefined>)[rest.join(".")];
}
