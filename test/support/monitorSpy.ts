// Records what the mock monitor is told beyond inputs: each resource's
// dependencies (dependsOn and input dependencies), its provider reference,
// its additional secret outputs, and which input paths arrive as secrets.
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import "./mocks";

/** Whether a value, as the monitor receives it, is a secret (the SDK's own marker). */
export function isSecretValue(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

export interface Registration {
  type: string;
  name: string;
  /** Names (last URN segment) of the resources this one depends on. */
  dependsOn: string[];
  provider: string;
  additionalSecretOutputs: string[];
  /** Whether the resource is protected from deletion. */
  protect: boolean;
  /** Type tokens it was known by before (aliases). */
  aliasTypes: string[];
  /** Dotted paths of inputs that were sent as secrets. */
  secretPaths: string[];
}

export const registrations = new Map<string, Registration>();

function nameOf(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

function secretPaths(v: unknown, path: string, out: string[]): void {
  if (v && typeof v === "object") {
    if (isSecretValue(v)) {
      out.push(path);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const [k, child] of Object.entries(o)) secretPaths(child, path ? `${path}.${k}` : k, out);
  }
}

type Req = {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (deps: { getUrnsList(): string[] }, key: string) => void): void };
  getProvider(): string;
  getAdditionalsecretoutputsList(): string[];
  getProtect(): boolean;
  getAliasesList(): { getSpec(): { getType(): string } | undefined }[];
  getObject(): { toJavaScript(): unknown } | undefined;
};

const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: unknown): unknown };
const original = monitor.registerResource.bind(monitor);
monitor.registerResource = (req: Req, cb: unknown) => {
  const deps = new Set(req.getDependenciesList().map(nameOf));
  req.getPropertydependenciesMap().forEach((d) => d.getUrnsList().forEach((u) => deps.add(nameOf(u))));
  const paths: string[] = [];
  secretPaths(req.getObject()?.toJavaScript(), "", paths);
  registrations.set(req.getName(), {
    type: req.getType(),
    name: req.getName(),
    dependsOn: [...deps].sort(),
    provider: req.getProvider(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    protect: req.getProtect(),
    aliasTypes: req.getAliasesList().map((a) => a.getSpec()?.getType() ?? "").filter((t) => t),
    secretPaths: paths.sort(),
  });
  return original(req, cb);
};

/** Every resource `name` depends on, directly or through others. */
export function dependsOnTransitively(name: string, seen = new Set<string>()): Set<string> {
  for (const d of registrations.get(name)?.dependsOn ?? []) {
    if (!seen.has(d)) {
      seen.add(d);
      dependsOnTransitively(d, seen);
    }
  }
  return seen;
}

/**
 * The order the engine deletes resources on destroy: dependents before what
 * they depend on (the reverse of a creation order).
 */
export function deletionOrder(names: string[]): string[] {
  const created: string[] = [];
  const visit = (n: string, stack: Set<string>) => {
    if (created.includes(n) || stack.has(n)) return;
    stack.add(n);
    for (const d of registrations.get(n)?.dependsOn ?? []) if (names.includes(d)) visit(d, stack);
    created.push(n);
  };
  for (const n of names) visit(n, new Set());
  return created.reverse();
}
