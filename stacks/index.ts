// The Pulumi program: stack config -> schema -> host facts and preflight ->
// plan -> components. Preflight runs before any resource is registered, so a
// host that fails it stops the run before any host is changed.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../components/config/errors";
import { rawConfigFromEngine } from "../components/config/load";
import { PreflightError } from "../components/plan/preflight";
import { HostError } from "../components/ssh/types";
import { parseStack } from "../components/config/schema";
import { hostFacts, pendingSteps } from "../components/host/startup";
import type { HostReport } from "../components/plan/preflight";
import { closeAll, onDebug } from "../components/ssh/pool";
import { buildStack, stackPlan } from "../components/pulumi/stack";
import { BundleError, readLocalBundle } from "../components/host/offlineBundle";

export = async () => {
  try {
    return await program();
  } catch (e) {
    // Start-up keeps the hosts' connections open for its probes: closed
    // here, whatever failed, or they would keep the program from ending.
    await closeAll();
    // A mistake in the stack config or a host that failed preflight is
    // reported as ironroot words it, without a stack trace; anything else is
    // a bug and keeps its trace.
    if (e instanceof ConfigError || e instanceof PreflightError || e instanceof HostError || e instanceof BundleError) throw new pulumi.RunError(e.message);
    throw e;
  }
};

async function program() {
  const spec = parseStack(pulumi.getStack(), rawConfigFromEngine(pulumi.runtime.allConfig()));
  const config = new pulumi.Config("ironroot");
  const secretKey = await plainValue(config.getSecret("sshPrivateKey"));
  onDebug((m) => pulumi.log.debug(m));

  // Facts and preflight, then the probes preview shows as pending steps:
  // one connection per host for both, closed before any resource exists.
  // Preflight comes before the bundle: a changed kubernetesVersion is
  // refused by what the hosts run, not by a bundle built for it.
  const { facts } = await hostFacts(spec, { privateKey: secretKey, keepConnections: true, log: toPulumiLog });
  const bundle = spec.cluster.offlineBundleDir
    ? (await readLocalBundle(spec.cluster.offlineBundleDir, spec.cluster.kubernetesVersion)).manifest
    : undefined;
  const planInputs = bundle ? { kubeadm: { bundle } } : {};
  const plan = stackPlan({ spec, facts, planInputs });
  const pendingPrep = await pendingSteps(spec, plan.nodes, facts, { privateKey: secretKey });
  const { outputs } = buildStack({
    spec,
    facts,
    plan,
    pendingPrep,
    deployKey: config.getSecret("deployKey"),
    sealingKey: config.getSecret("sealingKey"),
    planInputs,
  });
  return outputs;
}

/** Each host's preflight report in the Pulumi log, warnings as warnings. */
function toPulumiLog(r: HostReport, text: string): void {
  if (r.errors.length) pulumi.log.error(text);
  else if (r.warnings.length) pulumi.log.warn(text);
  else pulumi.log.info(text);
}

/** The plain value of a secret, for SSH from the program process itself; undefined when not set. */
function plainValue(secret: pulumi.Output<string> | undefined): Promise<string | undefined> {
  if (!secret) return Promise.resolve(undefined);
  return new Promise((resolve) => secret.apply((v) => { resolve(v); return v; }));
}
