// Prints, as shell assignments, the versions a bundle for one Kubernetes
// release is built at: the release's own image versions from the table in
// components/config/kubernetesReleases.ts, so the bundle and the config
// check can never disagree. Used by scripts/bundle/build.
import { DEFAULT_KUBERNETES_VERSION, kubernetesRelease } from "../../components/config/kubernetesReleases";
import { FLANNEL_VERSION } from "../../components/plan/kubeadm/versions";

const version = process.argv[2] ?? DEFAULT_KUBERNETES_VERSION;
const release = kubernetesRelease(version);
if (typeof release === "string") {
  console.error(`bundle: --kubernetes ${release}`);
  process.exit(2);
}
const values: Record<string, string> = {
  KUBERNETES_VERSION: version,
  STAGING_VERSION: `0.${version.split(".").slice(1).join(".")}`,
  ETCD_IMAGE_TAG: release.etcdImageTag,
  ETCD_VERSION: release.etcdImageTag.replace(/-\d+$/, ""),
  COREDNS_VERSION: release.coreDnsVersion.replace(/^v/, ""),
  PAUSE_VERSION: release.pauseVersion,
  FLANNEL_VERSION: FLANNEL_VERSION.replace(/^v/, ""),
};
for (const [k, v] of Object.entries(values)) console.log(`${k}=${v}`);
