// Component-tier harness: runs Pulumi components under the SDK's mocks and
// records every resource registered with its inputs. Dependencies, provider
// and secret inputs as the engine sees them: ./monitorSpy.ts.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  urn: string;
}

export const registered: Registered[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args: pulumi.runtime.MockResourceArgs) {
      const urn = `urn:pulumi:test::ironroot::${args.type}::${args.name}`;
      registered.push({ type: args.type, name: args.name, inputs: args.inputs, urn });
      return { id: `${args.name}-id`, state: { ...args.inputs } };
    },
    call(args: pulumi.runtime.MockCallArgs) {
      return args.inputs;
    },
  },
  "ironroot",
  "test",
  false,
);

/** Resolve an Output (or plain value) in a test. */
export function valueOf<T>(o: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => { resolve(v as T); return v; }));
}

/** Whether an Output is marked secret. */
export function isSecret<T>(o: pulumi.Output<T>): Promise<boolean> {
  return pulumi.isSecret(o);
}

/** Wait until every registration so far has reached the mock monitor. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export function byType(type: string): Registered[] {
  return registered.filter((r) => r.type === type);
}
