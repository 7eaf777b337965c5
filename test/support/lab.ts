// Host-tier harness: the lab hosts written by `scripts/lab up` into
// stacks/Pulumi.lab.yaml (or $IRONROOT_LAB_STACK). Without them, host tests
// skip with a message naming exactly what is missing.
import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { loadStackFile } from "../../components/config/load";
import type { StackSpec } from "../../components/config/schema";
import { credentialsFrom, type SshCredentials } from "../../components/config/ssh";

export interface Lab {
  spec?: StackSpec;
  /** Set when there is no lab: the reason, to pass to `test(..., { skip })`. */
  skip?: string;
}

/** The lab stack's key source, as a provider reads it from the stack config. */
export function labCredentials(spec: StackSpec): () => SshCredentials {
  return () => credentialsFrom(spec.ssh);
}

export function lab(): Lab {
  const file = resolve(process.env.IRONROOT_LAB_STACK ?? resolve(__dirname, "../../stacks/Pulumi.lab.yaml"));
  if (!existsSync(file)) {
    return {
      skip: `no lab hosts: ${file} does not exist; run \`sudo scripts/lab up 3\` first (needs root, systemd-nspawn, debootstrap; \`scripts/lab check\` says what is missing)`,
    };
  }
  const stack = basename(file).replace(/^Pulumi\.(.*)\.yaml$/, "$1");
  return { spec: loadStackFile(dirname(file), stack) };
}
