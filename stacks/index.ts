// The Pulumi program: stack config -> schema -> host facts and preflight ->
// plan -> components. Preflight runs before any resource is registered, so a
// host that fails it stops the run before any host is changed.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../components/config/errors";
import { rawConfigFromEngine } from "../components/config/load";
import { PreflightError } from "../components/plan/preflight";
import { HostError } from "../components/ssh/types";
import { parseStack } from "../components/config/schema";
import { hostFacts, pendingSteps, sshPrivateKeyFromConfig } from "../components/pulumi/hostFacts";
import { buildStack, stackPlan } from "../components/pulumi/program";
import { readLocalBundle } from "../components/ssh/offlineBundle";

export = async () => {
  try {
    return await program();
  } catch (e) {
    // A mistake in the stack config or a host that failed preflight is
    // reported as ironroot words it, without a stack trace; anything else is
    // a bug and keeps its trace.
    if (e instanceof ConfigError || e instanceof PreflightError || e instanceof HostError) throw new pulumi.RunError(e.message);
    throw e;
  }
};

async function program() {
  const spec = parseStack(pulumi.getStack(), rawConfigFromEngine(pulumi.runtime.allConfig()));
  const config = new pulumi.Config("ironroot");
  const secretKey = await sshPrivateKeyFromConfig();

  const bundle = spec.cluster.offlineBundleDir
    ? (await readLocalBundle(spec.cluster.offlineBundleDir, spec.cluster.kubernetesVersion)).manifest
    : undefined;

  const planInputs = bundle ? { kubeadm: { bundle } } : {};

  // Facts and preflight, then the probes preview shows as pending steps:
  // one connection per host for both, closed before any resource exists.
  const { facts } = await hostFacts(spec, { privateKey: secretKey, keepConnections: true });
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
