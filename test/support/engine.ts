// Engine-tier harness: the real `pulumi` CLI, its Node.js language host and
// the dynamic-provider host, on a local file backend with a passphrase, for a
// stack of the lab's hosts. Without the CLI or the lab, engine tests skip
// with a message naming what is missing.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import YAML from "yaml";
import { lab } from "./lab";

export const REPO = resolve(__dirname, "../..");

export interface PulumiResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Where `scripts/toolchain/build` puts the CLI; a `pulumi` on PATH is used otherwise. */
function toolchainBin(): string | undefined {
  try {
    const bin = execFileSync(join(REPO, "scripts/toolchain/build"), ["--print"], { encoding: "utf8" }).trim();
    return existsSync(join(bin, "pulumi")) ? bin : undefined;
  } catch {
    return undefined;
  }
}

function onPath(cmd: string, path: string): boolean {
  return path.split(delimiter).some((d) => d && existsSync(join(d, cmd)));
}

export interface EngineStack {
  /** Stack name, also the stack file `stacks/Pulumi.<name>.yaml`. */
  name: string;
  /** The copy of the lab's SSH key this stack names in ssh.privateKeyPath. */
  keyCopy: string;
  /** The lab's own key file (what the copy was made from). */
  labKey: string;
  /** Every byte the engine printed, for the secret checks. */
  log: string;
  env: NodeJS.ProcessEnv;
  /** The checkout the stack file is in and pulumi runs from. */
  checkout: string;
  /** Run `pulumi <args> --stack <name>` in `cwd` (default: the stack's checkout). */
  pulumi(args: string[], opts?: { cwd?: string; input?: string; timeoutMs?: number }): Promise<PulumiResult>;
  /** Start `pulumi <args>` and hand back the process (for interrupt tests). */
  start(args: string[], cwd?: string): ReturnType<typeof spawn>;
  remove(): void;
}

/** A fresh engine stack over the lab's hosts, run from `checkout` (default: this one), or the reason there can be none. */
export function engineStack(name: string, extraConfig: Record<string, unknown>, checkout = REPO): { stack?: EngineStack; skip?: string } {
  const l = lab();
  if (!l.spec) return { skip: l.skip };
  const bin = toolchainBin();
  const path = bin ? `${bin}${delimiter}${process.env.PATH}` : (process.env.PATH ?? "");
  if (!onPath("pulumi", path)) {
    return { skip: "the Pulumi CLI is not installed: run `scripts/toolchain/build` (builds it from its Go module) or install Pulumi" };
  }
  if (!onPath("pulumi-language-nodejs", path)) {
    return { skip: "pulumi-language-nodejs is not on PATH: run `scripts/toolchain/build` or install Pulumi the normal way" };
  }

  const state = mkdtempSync(join(tmpdir(), "ironroot-engine-"));
  const labFile = resolve(process.env.IRONROOT_LAB_STACK ?? join(REPO, "stacks/Pulumi.lab.yaml"));
  const doc = YAML.parse(readFileSync(labFile, "utf8")) as { config: Record<string, unknown>; encryptionsalt?: string };
  // This stack gets its own passphrase; a salt from another stack would not match it.
  delete doc.encryptionsalt;
  const labKey = (doc.config["ironroot:ssh"] as { privateKeyPath: string }).privateKeyPath;
  const keyCopy = join(state, "id_ed25519");
  copyFileSync(labKey, keyCopy);
  doc.config["ironroot:ssh"] = { ...(doc.config["ironroot:ssh"] as object), privateKeyPath: keyCopy };
  for (const [k, v] of Object.entries(extraConfig)) doc.config[`ironroot:${k}`] = v;
  const stackFile = join(checkout, "stacks", `Pulumi.${name}.yaml`);
  writeFileSync(stackFile, `# Written by the engine tests; removed when they end.\n${YAML.stringify(doc)}`);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: path,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: "ironroot engine tests",
    PULUMI_HOME: join(state, ".pulumi"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // This stack has no Kubernetes layer; the command and kubernetes provider
    // plugins that @pulumi/command and @pulumi/kubernetes name are not needed,
    // and on machines without downloads they cannot be fetched.
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    NODE_OPTIONS: "",
  };
  const logFile = join(state, "engine.log");
  writeFileSync(logFile, "");

  const stack: EngineStack = {
    name,
    checkout,
    keyCopy,
    labKey,
    env,
    get log() {
      return readFileSync(logFile, "utf8");
    },
    pulumi(args, opts = {}) {
      return new Promise((done) => {
        const child = spawn("pulumi", [...args, "--stack", name, "--non-interactive"], { cwd: opts.cwd ?? checkout, env, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 600_000);
        child.stdin.end(opts.input ?? "");
        child.on("close", (code) => {
          clearTimeout(timer);
          appendFileSync(logFile, `\n$ pulumi ${args.join(" ")}\n${stdout}\n${stderr}`);
          done({ code, stdout, stderr });
        });
      });
    },
    start(args, cwd = checkout) {
      const child = spawn("pulumi", [...args, "--stack", name, "--non-interactive"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout!.on("data", (d: Buffer) => appendFileSync(logFile, d));
      child.stderr!.on("data", (d: Buffer) => appendFileSync(logFile, d));
      return child;
    },
    remove() {
      // For docs and debugging: IRONROOT_KEEP_ENGINE_LOG=<dir> keeps every engine run's output.
      const keep = process.env.IRONROOT_KEEP_ENGINE_LOG;
      if (keep) copyFileSync(logFile, join(keep, `${name}.log`));
      rmSync(stackFile, { force: true });
      rmSync(state, { recursive: true, force: true });
    },
  };
  return { stack };
}
