// A client that the fault tests interrupt: it runs one long thing on a lab
// host and prints its progress, until the test sends it SIGINT.
//   node --import tsx test/support/interruptible.ts step|fio|slow-fio <host index> <work dir>
// slow-fio runs the benchmark with <work dir>/bin first in PATH, for a fio
// the test puts there.
import { buildPlan } from "../../components/plan";
import { diskBenchmarkScript } from "../../components/plan/diskBenchmark/script";
import { session } from "../../components/ssh/session";
import { targetFor } from "../../components/plan/targets";
import { runDiskBenchmark } from "../../components/host/diskBenchmark";
import { runSteps } from "../../components/host/runSteps";
import { lab } from "./lab";

const [mode, index, work] = process.argv.slice(2);
const { spec } = lab();
if (!spec) throw new Error("no lab");
const node = buildPlan(spec).nodes[Number(index)];
const s = session(targetFor(spec, node.name));
const say = (l: string) => process.stdout.write(`${l}\n`);

async function main(): Promise<void> {
  if (mode === "step") {
    await runSteps(s, [{
      id: "fault/interrupted",
      title: "a step that runs for a minute",
      probe: `test -f ${work}/done`,
      apply: `mkdir -p ${work}\ntrap 'rm -f ${work}/running' EXIT\ntouch ${work}/running\nsleep 60\ntouch ${work}/done`,
    }], { onLine: say });
  } else {
    // Many runs, so fio is still running when the signal comes.
    const plan = { ...node.diskBenchmark, runs: 20 };
    const script = diskBenchmarkScript(plan);
    await runDiskBenchmark(s, { ...plan, script: mode === "slow-fio" ? `export PATH=${work}/bin:$PATH\n${script}` : script }, { onProgress: say });
  }
  say("finished without being interrupted");
  process.exit(0);
}
void main();
