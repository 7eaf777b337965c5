// Disaster recovery: a new stack from an old stack's file and a new host list.
//
//   npx tsx scripts/rebuild.ts --from <stack> --to <new-stack> --hosts <file>
//       [--endpoint-address <vip or dns name>] [--stacks-dir <dir>] [--force]
//
// The checks and the writing are components/config/rebuild.ts; this is the
// command around them.
import { resolve } from "node:path";
import { rebuild, RebuildError } from "../components/config/rebuild";

interface Args {
  from?: string;
  to?: string;
  hosts?: string;
  endpointAddress?: string;
  stacksDir?: string;
  force?: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new RebuildError([`${flag}: needs a value`]);
      return v;
    };
    switch (flag) {
      case "--from": a.from = value(); break;
      case "--to": a.to = value(); break;
      case "--hosts": a.hosts = value(); break;
      case "--endpoint-address": a.endpointAddress = value(); break;
      case "--stacks-dir": a.stacksDir = value(); break;
      case "--force": a.force = true; break;
      default: throw new RebuildError([`${flag}: unknown option: use --from, --to, --hosts, --endpoint-address, --stacks-dir, --force`]);
    }
  }
  const missing = (["from", "to", "hosts"] as const).filter((k) => !a[k]).map((k) => `--${k}: required`);
  if (missing.length > 0) throw new RebuildError(missing);
  return a;
}

const USAGE = `usage: npx tsx scripts/rebuild.ts --from <stack> --to <new-stack> --hosts <file>
         [--endpoint-address <vip or dns name>] [--stacks-dir <dir>] [--force]

Writes stacks/Pulumi.<new-stack>.yaml: the old stack's file with the new hosts,
its encrypted secrets untouched. Checks everything first and contacts no host.
  --hosts             a YAML list of hosts (or a stack file whose ironroot:hosts to take)
  --endpoint-address  the new VIP (endpoint mode vip) or DNS name (mode dns)
  --force             replace an existing stack file of the new name`;

function main(argv: string[]): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  try {
    const a = parseArgs(argv);
    const r = rebuild({
      from: a.from!,
      to: a.to!,
      hostsFile: resolve(a.hosts!),
      stacksDir: resolve(a.stacksDir ?? resolve(__dirname, "..", "stacks")),
      endpointAddress: a.endpointAddress,
      force: a.force,
    });
    console.log(`wrote ${r.path}: stack "${a.to}" = stack "${a.from}" with ${r.spec.hosts.length} new hosts, the same encrypted secrets and secrets key`);
    for (const h of r.spec.hosts) console.log(`  ${h.name}  ${h.address}:${h.port}  ${h.roles.join(",")}`);
    for (const n of r.notes) console.log(`note: ${n}`);
    console.log("\nnext, from the repo root:");
    for (const c of r.commands) console.log(`  ${c}`);
    return 0;
  } catch (e) {
    if (e instanceof RebuildError) {
      console.error(`rebuild: ${e.message}`);
      return 1;
    }
    console.error(`rebuild: unexpected error, a bug in ironroot: please report it with the output below\n${(e as Error).stack ?? String(e)}`);
    return 70;
  }
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
