// Air-gapped mode: one node's copy of the offline bundle as a Pulumi
// resource. create/update read the operator's bundle folder (every file
// checked against bundle.json locally), send the files the host does not
// already have with the right sha256, and check every file again on the
// host. The manifest's file list (path, sha256, kind) is an input, so a
// rebuilt bundle shows in preview as a field diff (`~ files: [~ [3]: sha256]`)
// and a second `up` with the same bundle is no change at all; when it does
// run (target or bundle changed) it costs one checksum pass, not a transfer.
//
// How this code reaches the engine, and where the SSH credentials come
// from: hostResource.ts.
import * as pulumi from "@pulumi/pulumi";
import type { BundleFile } from "../plan/kubeadm/bundle";
import { filesAlreadyOnHost, readLocalBundle, uploadBundle } from "../host/offlineBundle";
import type { HostAddress } from "../plan/targets";
import { connect, HostResource, reachChanges, type ProviderFactory } from "./hostResource";

export interface OfflineBundleState {
  node: string;
  target: HostAddress;
  /** The local bundle folder (cluster.offlineBundleDir). Not part of the diff: the files are. */
  bundleDir: string;
  kubernetesVersion: string;
  /** bundle.json's files, as the plan read them. */
  files: BundleFile[];
  /** Outputs only: files the last create/update sent (the others were on the host already). */
  sent?: string[];
}

/** A file list in a fixed order, so a reordered bundle.json is not a change. */
function fileKey(files: BundleFile[] | undefined): string {
  return JSON.stringify([...(files ?? [])].map((f) => [f.path, f.sha256, f.kind]).sort());
}

/**
 * The inputs that differ in a way that needs the host touched again: the
 * node, the version (another folder on the host), the files, or where the
 * host is. The key and the local folder's path are not: same files, same host.
 */
export function bundleChanges(olds: OfflineBundleState, news: OfflineBundleState): string[] {
  const out: string[] = [];
  if (olds.node !== news.node) out.push("node");
  if (olds.kubernetesVersion !== news.kubernetesVersion) out.push("kubernetesVersion");
  if (fileKey(olds.files) !== fileKey(news.files)) out.push("files");
  out.push(...reachChanges(olds.target, news.target));
  return out;
}

export const offlineBundleProvider: ProviderFactory = (credentials) => {
  const upload = async (inputs: OfflineBundleState): Promise<OfflineBundleState> => {
    const t = inputs.target;
    const where = `${t.name} (${t.address}:${t.port})`;
    let bundle: Awaited<ReturnType<typeof readLocalBundle>>;
    try {
      bundle = await readLocalBundle(inputs.bundleDir, inputs.kubernetesVersion);
    } catch (e) {
      throw new Error(`${where}: offline bundle: checking the local files before upload: ${(e as Error).message}`);
    }
    // Preview showed the file list in the inputs; a bundle rebuilt since then is not sent unseen.
    if (fileKey(bundle.manifest.files) !== fileKey(inputs.files)) {
      throw new Error(
        `${where}: offline bundle: ${inputs.bundleDir}/bundle.json changed after this update was planned: run \`pulumi up\` again so preview shows the new files`,
      );
    }
    const r = await uploadBundle(connect(t, credentials), bundle);
    pulumi.log.info(`${inputs.node}: offline bundle: sent ${r.sent.length} file(s), ${r.alreadyThere.length} already on the host; all checked by sha256 there`);
    return { ...inputs, sent: r.sent };
  };

  return {
    async diff(_id: string, olds: OfflineBundleState, news: OfflineBundleState): Promise<pulumi.dynamic.DiffResult> {
      // An update, never a replace: uploading again into the same folder is safe.
      return { changes: bundleChanges(olds, news).length > 0, replaces: [], stables: [], deleteBeforeReplace: false };
    },

    async create(inputs: OfflineBundleState): Promise<pulumi.dynamic.CreateResult<OfflineBundleState>> {
      return { id: `${inputs.node}-offline-bundle`, outs: await upload(inputs) };
    },

    async update(_id: string, _olds: OfflineBundleState, news: OfflineBundleState): Promise<pulumi.dynamic.UpdateResult<OfflineBundleState>> {
      return { outs: await upload(news) };
    },

    /**
     * Refresh: the files on the host with the right sha256 become the state's
     * file list, so one removed or altered by hand makes the next `up` send it again.
     */
    async read(id: string, props: OfflineBundleState): Promise<pulumi.dynamic.ReadResult<OfflineBundleState>> {
      const present = await filesAlreadyOnHost(connect(props.target, credentials), { kubernetesVersion: props.kubernetesVersion, files: props.files });
      const state = { ...props, files: props.files.filter((f) => present.has(f.path)) };
      const { sent: _last, ...inputs } = state;
      return { id, props: state, inputs };
    },

    /**
     * The files stay on the host. A delete comes when a node leaves the stack
     * or offline mode is turned off: the host may be gone (a rebuild elsewhere)
     * and must not block `up`; and the folder holds the install step's marker
     * and the packages Kubernetes on that host was installed from. Old
     * versions' folders are removed by hand (docs/kubernetes.md).
     */
    async delete(): Promise<void> {},
  };
};

export interface OfflineBundleArgs {
  /** Node name (the host's name in the stack). Required. */
  node: pulumi.Input<string>;
  /** How to reach the host, without credentials (`keylessTarget`). Required. */
  target: pulumi.Input<HostAddress>;
  /** The local bundle folder, `cluster.offlineBundleDir`. Required. */
  bundleDir: pulumi.Input<string>;
  /** `cluster.kubernetesVersion`: names the folder on the host (`/var/lib/ironroot/bundle/<version>`). Required. */
  kubernetesVersion: pulumi.Input<string>;
  /** bundle.json's files (`readLocalBundle(...).manifest.files`); their sha256 make a rebuilt bundle a diff. Required. */
  files: pulumi.Input<BundleFile[]>;
}

/** One node's copy of the offline bundle. Type token: `pulumi-nodejs:dynamic/ironroot:OfflineBundle`. */
export class OfflineBundle extends HostResource {
  declare readonly files: pulumi.Output<BundleFile[]>;
  declare readonly sent: pulumi.Output<string[]>;

  constructor(name: string, args: OfflineBundleArgs, opts?: pulumi.CustomResourceOptions) {
    const { node, target, bundleDir, kubernetesVersion, files } = args;
    super("OfflineBundle", name, { node, target, bundleDir, kubernetesVersion, files, sent: undefined }, opts);
  }
}
