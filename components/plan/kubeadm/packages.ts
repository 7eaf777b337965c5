// kubeadm, kubelet and kubectl at exactly the pinned version, from the
// upstream repository (pkgs.k8s.io, one repository per minor release, signed).
import type { HostStep } from "../step";
import { KUBELET_KUBECONFIG } from "../facts";
import { shellQuote as q } from "../shell";
import { aptRepoUrl, debVersion, KUBERNETES_PACKAGES, minorOf } from "./versions";

export const KEYRING = "/etc/apt/keyrings/kubernetes-apt-keyring.gpg";
export const SOURCE_LIST = "/etc/apt/sources.list.d/kubernetes.list";
export const UNATTENDED_BLACKLIST = "/etc/apt/apt.conf.d/51ironroot-kubernetes";

/**
 * Refuses to continue on a cluster member whose kubeadm differs from the
 * pin: changing it there is the node's upgrade (`<node>-k8s-upgrade`:
 * drain, `kubeadm upgrade`, kubelet), which runs before this step. A host
 * that is not a member simply gets the pinned version.
 */
export function versionGuard(node: string, version: string): string {
  const want = debVersion(version);
  const upgradeFirst = `this cluster member is upgraded by ${node}-k8s-upgrade before its packages are touched: run pulumi up again, and see that step's error if it stops there`;
  return [
    `if [ -f ${KUBELET_KUBECONFIG} ]; then`,
    "  # shellcheck disable=SC2016 # ${Version} is dpkg-query's field, not a shell variable",
    `  installed=$(dpkg-query -W -f='\${Version}' kubeadm 2>/dev/null || true)`,
    `  if [ -n "$installed" ] && [ "$installed" != ${q(want)} ]; then`,
    `    echo "${node}: kubeadm $installed is installed but cluster.kubernetesVersion is ${version}: ${upgradeFirst}" >&2`,
    "    exit 3",
    "  fi",
    // The offline bundle installs kubeadm as a binary, not a package.
    `  binary=$(/usr/local/bin/kubeadm version -o short 2>/dev/null || true)`,
    `  if [ -n "$binary" ] && [ "$binary" != ${q(`v${version}`)} ]; then`,
    `    echo "${node}: kubeadm $binary is installed in /usr/local/bin but cluster.kubernetesVersion is ${version}: ${upgradeFirst}" >&2`,
    "    exit 3",
    "  fi",
    "fi",
  ].join("\n");
}

export function unattendedBlacklist(): string {
  return [
    "// Written by ironroot. The Kubernetes packages are also held (apt-mark);",
    "// this keeps unattended-upgrades from touching them even if a hold is lifted.",
    "Unattended-Upgrade::Package-Blacklist {",
    ...[...KUBERNETES_PACKAGES, "cri-tools", "kubernetes-cni"].map((p) => `    "${p}";`),
    "};",
    "",
  ].join("\n");
}

export interface OnlinePackagesOptions {
  /** Which of kubeadm, kubelet and kubectl to install; an upgrade takes kubeadm first. Default: all three. */
  packages?: readonly string[];
  /** Whether the apply refuses a member at another version (versionGuard). Default: true; the upgrade itself passes false. */
  guard?: boolean;
}

export function onlinePackagesStep(node: string, version: string, o: OnlinePackagesOptions = {}): HostStep {
  const url = aptRepoUrl(version);
  const want = debVersion(version);
  const pkgs = (o.packages ?? KUBERNETES_PACKAGES).map((p) => `${p}=${want}`).join(" ");
  const source = `deb [signed-by=${KEYRING}] ${url} /`;
  const apt = "apt-get -o DPkg::Lock::Timeout=300";
  return {
    id: "kubeadm/packages",
    title: `kubeadm, kubelet and kubectl ${version} from pkgs.k8s.io v${minorOf(version)}, held`,
    probe: [
      ...KUBERNETES_PACKAGES.map((p) => `[ "$(dpkg-query -W -f='\${Version}' ${p} 2>/dev/null)" = ${q(want)} ]`),
      `[ "$(apt-mark showhold ${KUBERNETES_PACKAGES.join(" ")} | sort | tr '\\n' ' ')" = ${q(`${[...KUBERNETES_PACKAGES].sort().join(" ")} `)} ]`,
      `cmp -s ${UNATTENDED_BLACKLIST} <(printf '%s' ${q(unattendedBlacklist())})`,
    ].join(" &&\n  ").replace(/^/, "# shellcheck disable=SC2016 # ${Version} is dpkg-query's field\n"),
    apply: [
      ...(o.guard === false ? [] : [versionGuard(node, version)]),
      "export DEBIAN_FRONTEND=noninteractive",
      "work=$(mktemp -d)",
      "trap 'rm -rf \"$work\"' EXIT",
      "if ! command -v curl >/dev/null || ! command -v gpg >/dev/null; then",
      `  ${apt} install -y curl gpg ca-certificates`,
      "fi",
      // The key and the source are written only once the repository answered,
      // and the source is taken back out if apt cannot read it: a host that
      // cannot reach pkgs.k8s.io keeps a working apt and can simply re-run.
      `if ! curl -fsSL --retry 2 --max-time 60 ${q(`${url}Release.key`)} -o "$work/Release.key" 2>"$work/curl.err"; then`,
      `  echo "${node}: cannot reach the Kubernetes package repository ${url}: $(tr '\\n' ' ' <"$work/curl.err")(for hosts without internet access set cluster.offlineBundleDir)" >&2`,
      "  exit 5",
      "fi",
      `gpg --batch --yes --dearmor -o "$work/keyring.gpg" "$work/Release.key"`,
      "install -d -m 0755 /etc/apt/keyrings",
      `install -m 0644 "$work/keyring.gpg" ${KEYRING}`,
      `printf '%s\\n' ${q(source)} >"$work/kubernetes.list"`,
      `install -m 0644 "$work/kubernetes.list" ${SOURCE_LIST}`,
      `if ! ${apt} update -o Dir::Etc::sourcelist=${SOURCE_LIST} -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >"$work/update.log" 2>&1 ||`,
      `   grep -qE '^(W|E): ' "$work/update.log"; then`,
      `  rm -f ${SOURCE_LIST}`,
      `  echo "${node}: apt cannot read the Kubernetes package repository ${url} (source removed again, apt left as it was):" >&2`,
      `  grep -E '^(W|E): ' "$work/update.log" >&2 || tail -n 5 "$work/update.log" >&2`,
      "  exit 5",
      "fi",
      `${apt} install -y --allow-downgrades --allow-change-held-packages ${pkgs}`,
      `apt-mark hold ${KUBERNETES_PACKAGES.join(" ")} >/dev/null`,
      `printf '%s' ${q(unattendedBlacklist())} >"$work/blacklist"`,
      `install -m 0644 "$work/blacklist" ${UNATTENDED_BLACKLIST}`,
      "systemctl enable --quiet kubelet",
    ].join("\n"),
  };
}
