// The one-shot cluster actions as standalone bash scripts. Credentials
// (bootstrap token, certificate key) only ever arrive on stdin and only
// ever touch disk in a umask-077 temp file that is removed on exit; they
// are never in argv, where `ps` and logs would show them.
import { KUBELET_KUBECONFIG } from "../facts";
import type { InventoryNode } from "../inventory";
import { PLACEHOLDER } from "./kubeadmConfig";
import { ADMIN_CONF, KUBE_VIP_MANIFEST, SUPER_ADMIN_CONF } from "./kubeVip";
import { versionGuard } from "./packages";
import { printfLines, shellQuote as q, writeFileAtomically } from "../shell";
import { flannelScriptBody } from "./flannel";
import { FLANNEL_VERSION, KUBEADM_DIR } from "./versions";

const HEAD = ["#!/usr/bin/env bash", "set -euo pipefail"];
const KUBECTL = `kubectl --kubeconfig ${ADMIN_CONF}`;

export interface PlacedFile {
  path: string;
  content: string;
  mode: string;
}

/** A standalone bash script: shebang, its title as a comment, strict mode, the body. */
export function script(title: string, body: string[]): string {
  return [...HEAD.slice(0, 1), `# ${title}`, ...HEAD.slice(1), "", ...body, ""].join("\n");
}

/**
 * The pod network a node kept from an earlier membership: kubeadm reset
 * leaves the bridge, the VXLAN device and the IP allocations by design. On
 * a node about to join, they are stale: the new podCIDR differs, and the
 * bridge plugin then refuses every pod ("cni0 already has an IP address
 * different from ..."). Only run where this host is not a member.
 */
export function clearStalePodNetwork(node: string): string[] {
  return [
    "for link in cni0 flannel.1; do",
    '  if ip link show "$link" >/dev/null 2>&1; then',
    '    ip link delete "$link"',
    `    echo "${node}: removed the pod network's $link, which kubeadm reset leaves behind"`,
    "  fi",
    "done",
    "rm -rf /var/lib/cni",
  ];
}

function place(files: PlacedFile[]): string[] {
  return files.map((f) => writeFileAtomically(f.path, f.content, f.mode));
}

/** `kubeadm init` on the first control plane; a second run leaves the cluster alone. */
export function initScript(opts: {
  node: InventoryNode;
  version: string;
  config: string;
  files: PlacedFile[];
  /** kube-vip on 1.29+: swap super-admin.conf back to admin.conf after init. */
  kubeVipSwap: boolean;
}): string {
  const n = opts.node.name;
  const body = [
    versionGuard(n, opts.version),
    `if [ -f ${ADMIN_CONF} ]; then`,
    `  if ${KUBECTL} get --raw /readyz >/dev/null 2>&1; then`,
    `    echo "${n}: the cluster is already initialised; not running kubeadm init again"`,
    "    exit 0",
    "  fi",
    `  echo "${n}: ${ADMIN_CONF} exists but the API server is not ready: a previous kubeadm init stopped halfway; run \\\`kubeadm reset -f\\\` on ${n} and re-run" >&2`,
    "  exit 6",
    "fi",
    ...clearStalePodNetwork(n),
    `install -d -m 0700 ${KUBEADM_DIR}`,
    ...place(opts.files),
    writeFileAtomically(`${KUBEADM_DIR}/kubeadm-init.yaml`, opts.config, "0600"),
    // --skip-*-print: the output goes to Pulumi's log otherwise; join
    // credentials are made fresh by the credentials script instead.
    `kubeadm init --config ${KUBEADM_DIR}/kubeadm-init.yaml --upload-certs --skip-token-print --skip-certificate-key-print`,
  ];
  if (opts.kubeVipSwap) {
    body.push(
      "# kube-vip needed super-admin.conf while init ran (https://github.com/kube-vip/kube-vip/issues/684);",
      "# from here on admin.conf has its RBAC binding, so go back to least privilege.",
      `sed -i 's#path: ${SUPER_ADMIN_CONF}#path: ${ADMIN_CONF}#' ${KUBE_VIP_MANIFEST}`,
    );
  }
  body.push(`echo "${n}: cluster initialised"`);
  return script(`${n}: kubeadm init (first control plane)`, body);
}

/**
 * Prints fresh join credentials (they expire: tokens after 1 h here, the
 * uploaded certificates after 2 h) as key=value lines on stdout. Run on the
 * first control plane; its output is a secret.
 */
export function credentialsScript(): string {
  return script("fresh join credentials on a running control plane (stdout is secret)", [
    `export KUBECONFIG=${ADMIN_CONF}`,
    `token=$(kubeadm token create --ttl 1h --description "ironroot join")`,
    // upload-certs re-encrypts the control-plane certificates under a new key
    // and prints only that key on its last line.
    "key=$(kubeadm init phase upload-certs --upload-certs 2>/dev/null | tail -n 1)",
    "hash=$(openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)",
    `printf 'token=%s\\ncertificateKey=%s\\ncaCertHash=sha256:%s\\n' "$token" "$key" "$hash"`,
  ]);
}

/** Join a control plane or a worker; credentials come on stdin as key=value lines. */
export function joinScript(opts: { node: InventoryNode; version: string; config: string; files: PlacedFile[] }): string {
  const n = opts.node.name;
  const what = opts.node.isControlPlane ? "control plane" : "worker";
  return script(`${n}: kubeadm join (${what}); credentials on stdin`, [
    versionGuard(n, opts.version),
    `if [ -f ${KUBELET_KUBECONFIG} ]; then`,
    `  echo "${n}: already a member of the cluster; not joining again"`,
    "  exit 0",
    "fi",
    "token='' certificateKey='' caCertHash=''",
    "while IFS='=' read -r key value || [ -n \"$key\" ]; do",
    '  case "$key" in',
    '    token) token=$value ;;',
    '    certificateKey) certificateKey=$value ;;',
    '    caCertHash) caCertHash=$value ;;',
    "  esac",
    "done",
    `if [ -z "$token" ] || [ -z "$caCertHash" ]${opts.node.isControlPlane ? ' || [ -z "$certificateKey" ]' : ""}; then`,
    `  echo "${n}: kubeadm join: the join credentials on stdin are incomplete (expected token, caCertHash${opts.node.isControlPlane ? ", certificateKey" : ""})" >&2`,
    "  exit 2",
    "fi",
    ...clearStalePodNetwork(n),
    `install -d -m 0700 ${KUBEADM_DIR}`,
    ...place(opts.files),
    "umask 077",
    "work=$(mktemp -d)",
    "trap 'rm -rf \"$work\"' EXIT",
    // Bash substitution, not sed: the values never reach another process's argv.
    `config=$(${printfLines(opts.config)})`,
    `config=\${config//${q(PLACEHOLDER.token)}/"$token"}`,
    `config=\${config//${q(PLACEHOLDER.certificateKey)}/"$certificateKey"}`,
    `config=\${config//${q(PLACEHOLDER.caCertHash)}/"$caCertHash"}`,
    `printf '%s\\n' "$config" >"$work/kubeadm-join.yaml"`,
    `kubeadm join --config "$work/kubeadm-join.yaml"`,
    `echo "${n}: joined the cluster as a ${what}"`,
  ]);
}

/** The pod network, installed on the first control plane: Calico or flannel (cluster.cni). */
export function cniScript(opts: { cni: "calico" | "flannel"; source: string; calicoVersion: string; podCidr: string }): string {
  if (opts.cni === "flannel") return script(`flannel ${FLANNEL_VERSION} (VXLAN) as the CNI`, [`export KUBECONFIG=${ADMIN_CONF}`, ...flannelScriptBody(opts.podCidr)]);
  return calicoScript(opts);
}

/** Install Calico (VXLAN) unless the pinned release already runs. */
function calicoScript(opts: { source: string; calicoVersion: string; podCidr: string }): string {
  return script(`Calico ${opts.calicoVersion} (VXLAN) as the CNI`, [
    `export KUBECONFIG=${ADMIN_CONF}`,
    `running=$(kubectl -n kube-system get daemonset calico-node -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null || true)`,
    `case "$running" in`,
    `  *:${opts.calicoVersion}) echo "calico ${opts.calicoVersion} is already installed"; exit 0 ;;`,
    "esac",
    // calico-node takes the pool from kubeadm's podSubnet when the manifest
    // leaves CALICO_IPV4POOL_CIDR unset, which the upstream manifest does.
    'manifest=$(mktemp -d)',
    'trap \'rm -rf "$manifest"\' EXIT',
    /^https?:\/\//.test(opts.source)
      ? `curl -fsSL --retry 3 -o "$manifest/upstream.yaml" ${q(opts.source)}`
      : `cp ${q(opts.source)} "$manifest/upstream.yaml"`,
    // Upstream's VXLAN manifest creates the first pool with vxlanMode
    // CrossSubnet: nodes on one subnet then talk unencapsulated, with pod
    // source addresses that providers filtering spoofed traffic drop. The
    // pool is made once, when calico-node first starts, so the setting is
    // changed in the manifest before it is applied.
    ...vxlanAlways('"$manifest/upstream.yaml"', '"$manifest/calico.yaml"'),
    'kubectl apply --server-side --force-conflicts -f "$manifest/calico.yaml"',
    "kubectl -n kube-system rollout status daemonset/calico-node --timeout=600s",
    `echo "calico ${opts.calicoVersion} installed (pod network ${opts.podCidr})"`,
  ]);
}

/**
 * Shell lines that copy a Calico manifest with CALICO_IPV4POOL_VXLAN set to
 * "Always", and stop when the manifest does not have exactly one such
 * setting (a changed upstream manifest is named, not applied as it is).
 */
export function vxlanAlways(from: string, to: string): string[] {
  return [
    `awk 'prev ~ /- name: CALICO_IPV4POOL_VXLAN$/ && $1 == "value:" { sub(/value:.*/, "value: \\"Always\\""); n++ } { print; prev = $0 } END { exit n == 1 ? 0 : 3 }' ${from} >${to} || {`,
    '  echo "the Calico manifest does not set CALICO_IPV4POOL_VXLAN exactly once, so ironroot cannot make the pool encapsulate all traffic (Always): check cluster.calicoVersion against docs/kubernetes.md" >&2',
    "  exit 3",
    "}",
  ];
}

/** Wait until every listed node is Ready; on timeout name each one that is not. */
export function waitReadyScript(nodes: string[], timeoutSeconds: number): string {
  return script(`wait until ${nodes.length} node(s) are Ready (at most ${timeoutSeconds} s)`, [
    `export KUBECONFIG=${ADMIN_CONF}`,
    `want=(${nodes.map(q).join(" ")})`,
    `deadline=$((SECONDS + ${timeoutSeconds}))`,
    "while :; do",
    `  status=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}' 2>/dev/null || true)`,
    "  missing=()",
    '  for n in "${want[@]}"; do',
    '    s=$(printf \'%s\\n\' "$status" | sed -n "s/^$n=//p")',
    '    case "$s" in',
    "      True) ;;",
    '      "") missing+=("$n (not registered)") ;;',
    '      *) missing+=("$n (Ready=$s)") ;;',
    "    esac",
    "  done",
    '  if [ "${#missing[@]}" -eq 0 ]; then',
    '    echo "all ${#want[@]} node(s) are Ready"',
    "    break",
    "  fi",
    '  if [ "$SECONDS" -ge "$deadline" ]; then',
    "    list=$(printf '%s, ' \"\${missing[@]}\")",
    `    echo "nodes not Ready after ${timeoutSeconds} s: \${list%, }" >&2`,
    "    exit 7",
    "  fi",
    "  sleep 5",
    "done",
    // Ready nodes are not yet a usable cluster: pods resolve names through
    // CoreDNS, which only now gets a pod network to start on.
    'left=$((deadline - SECONDS > 30 ? deadline - SECONDS : 30))',
    'if ! kubectl -n kube-system rollout status deployment/coredns --timeout="${left}s"; then',
    '  echo "CoreDNS did not become available: pods cannot resolve names; see kubectl -n kube-system get pods -l k8s-app=kube-dns" >&2',
    "  exit 7",
    "fi",
  ]);
}

/**
 * Prints the admin kubeconfig with the server address the operator's machine
 * can reach. Its output is a secret.
 */
export function adminKubeconfigScript(internalServer: string, externalServer: string): string {
  const body = internalServer === externalServer
    ? [`cat ${ADMIN_CONF}`]
    : [`sed 's#server: ${internalServer}$#server: ${externalServer}#' ${ADMIN_CONF}`];
  return script("the admin kubeconfig (stdout is secret)", body);
}
