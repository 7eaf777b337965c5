// Dynamic providers are serialized into the stack's state and run again by
// the engine's dynamic-provider host: from another directory, and without
// the TypeScript loader the program runs under. So they load this
// repository's modules by absolute path (resolved here, in the program),
// registering ts-node first when the process cannot read TypeScript yet.

const TS_NODE = require.resolve("ts-node");
// Without it ts-node falls back to its own defaults (module NodeNext), which this code does not compile under.
const TSCONFIG = require.resolve("../../tsconfig.json");

/** require() a module by the absolute path `require.resolve` gave in the program. */
export function loadModule<T>(absolutePath: string): T {
  if (absolutePath.endsWith(".ts") && !require.extensions[".ts"]) {
    require(TS_NODE).register({ transpileOnly: true, project: TSCONFIG });
  }
  return require(absolutePath) as T;
}
