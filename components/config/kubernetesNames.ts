// Node label keys and values and taint keys and values, checked by the rules
// Kubernetes itself applies (k8s.io/apimachinery/pkg/util/validation:
// IsQualifiedName, IsValidLabelValue), so that a bad one stops the run here
// instead of the kubelet or kubeadm refusing it half-way through a build.
import { z } from "zod";

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const NAME_CHARS = /^[-A-Za-z0-9_.]*$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_MAX = 63;
const PREFIX_MAX = 253;

const KEY_FIX =
  `use an optional lowercase DNS-subdomain prefix and "/", then a name of at most ${NAME_MAX} letters, digits, "-", "_" or ".", ` +
  `starting and ending with a letter or digit, e.g. "node.example.com/pool"`;
const VALUE_FIX = `use at most ${NAME_MAX} letters, digits, "-", "_" or ".", starting and ending with a letter or digit, or an empty value`;

/** Why `name` is not a Kubernetes name segment (the part after a prefix, or a label value). */
function nameProblem(name: string, what: string): string | undefined {
  if (name.length > NAME_MAX) return `${what} is ${name.length} characters long; at most ${NAME_MAX}`;
  if (!NAME_CHARS.test(name)) return `${what} has characters other than letters, digits, "-", "_" and "."`;
  if (!NAME.test(name)) return `${what} must start and end with a letter or digit`;
  return undefined;
}

/** Why `key` is not a qualified name (`[prefix/]name`), or undefined when it is one. */
export function qualifiedNameProblem(key: string): string | undefined {
  if (key === "") return "it is empty";
  const parts = key.split("/");
  if (parts.length > 2) return `it has more than one "/"`;
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined) {
    if (prefix === "") return `the prefix before "/" is empty`;
    if (prefix.length > PREFIX_MAX) return `its prefix is ${prefix.length} characters long; at most ${PREFIX_MAX}`;
    if (!DNS_SUBDOMAIN.test(prefix)) return `its prefix ${JSON.stringify(prefix)} is not a lowercase DNS subdomain`;
    if (name === "") return `the name after "/" is empty`;
  }
  return nameProblem(name, prefix === undefined ? "it" : "its name");
}

/** Why `value` is not a label value (empty is allowed), or undefined when it is one. */
export function labelValueProblem(value: string): string | undefined {
  return value === "" ? undefined : nameProblem(value, "it");
}

/**
 * Label keys under kubernetes.io and k8s.io (and their subdomains) belong to
 * Kubernetes. The kubelet does not start when its `--node-labels` (where
 * ironroot puts hosts[].labels) hold such keys, except the well-known ones
 * it may set itself (hostname, os, arch, topology, instance type,
 * node.kubernetes.io/ and kubelet.kubernetes.io/): those are allowed, as
 * zones and regions are a real need on fleets spread over datacentres.
 */
const KUBELET_ALLOWED_PREFIXES = ["kubelet.kubernetes.io", "node.kubernetes.io"];
const KUBELET_ALLOWED_LABELS = new Set([
  "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/os", "beta.kubernetes.io/arch",
  "beta.kubernetes.io/instance-type", "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
]);

export function reservedPrefix(key: string): string | undefined {
  const slash = key.indexOf("/");
  if (slash < 0) return undefined;
  const prefix = key.slice(0, slash).toLowerCase();
  if (KUBELET_ALLOWED_LABELS.has(key.toLowerCase()) || KUBELET_ALLOWED_PREFIXES.some((p) => prefix === p || prefix.endsWith(`.${p}`))) return undefined;
  const reserved = ["kubernetes.io", "k8s.io"].some((d) => prefix === d || prefix.endsWith(`.${d}`));
  return reserved ? prefix : undefined;
}

function reservedLabelMessage(key: string, prefix: string): string {
  const name = key.slice(prefix.length + 1);
  const own = `a prefix of your own, e.g. ${JSON.stringify(`node.example.com/${name}`)}`;
  const rule =
    `the prefix "${prefix}" is reserved for Kubernetes (labels under kubernetes.io, k8s.io and their subdomains ` +
    `are set by Kubernetes itself; the kubelet refuses to start with them in its --node-labels, except its well-known ` +
    `ones such as topology.kubernetes.io/zone and node.kubernetes.io/*)`;
  return prefix === "node-role.kubernetes.io"
    ? `${rule}: give the host its role in hosts[].roles (kubeadm labels control planes node-role.kubernetes.io/control-plane itself); for a label of your own use ${own}`
    : `${rule}: use ${own}`;
}

/** Node labels: every key a qualified name outside the reserved prefixes, every value a label value. */
export const nodeLabels = z.record(z.string(), z.string()).check((ctx) => {
  for (const [key, value] of Object.entries(ctx.value)) {
    const keyProblem = qualifiedNameProblem(key);
    const prefix = keyProblem ? undefined : reservedPrefix(key);
    const valueProblem = labelValueProblem(value);
    const messages = [
      keyProblem ? `${JSON.stringify(key)} is not a valid label key (${keyProblem}): ${KEY_FIX}` : undefined,
      prefix ? reservedLabelMessage(key, prefix) : undefined,
      valueProblem ? `the value ${JSON.stringify(value)} is not a valid label value (${valueProblem}): ${VALUE_FIX}` : undefined,
    ];
    for (const message of messages) {
      if (message) ctx.issues.push({ code: "custom", input: ctx.value, path: [key], message });
    }
  }
});

export const taintKey = z.string().check((ctx) => {
  const problem = qualifiedNameProblem(ctx.value);
  if (problem) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: `${JSON.stringify(ctx.value)} is not a valid taint key (${problem}): ${KEY_FIX}` });
  }
});

export const taintValue = z.string().check((ctx) => {
  const problem = labelValueProblem(ctx.value);
  if (problem) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: `${JSON.stringify(ctx.value)} is not a valid taint value (${problem}): ${VALUE_FIX}` });
  }
});
