// The kubelet drop-in on a real lab host (no kubelet there: the fresh-host
// path), driven through the same provider functions `pulumi up` and
// `pulumi refresh` call: write, read back, a hand edit over SSH seen as drift
// on the right field, revert, and a second apply that changes nothing.
// The file lives in this test's own directory so it cannot disturb a
// Kubernetes install running on the shared lab hosts.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { kubelet } from "../../components/config/kubelet";
import { renderKubeletDropIn } from "../../components/plan/kubelet/dropIn";
import { sizeNode } from "../../components/plan/kubelet/sizing";
import { changedInputs, kubeletConfigProvider, type KubeletConfigState } from "../../components/pulumi/KubeletConfigProvider";
import { closeAll } from "../../components/ssh/pool";
import { session } from "../../components/ssh/session";
import { keylessTarget, targetFor } from "../../components/plan/targets";
import { readKubeletDropIn } from "../../components/host/kubeletRollout";
import { lab, labCredentials } from "../support/lab";

const { spec, skip: noLab } = lab();
const HOST_INDEX = 1; // lab-2
const DIR = "/var/tmp/ironroot-kubelet-test";
const PATH = `${DIR}/kubelet.conf.d/50-ironroot-reservations.conf`;

after(async () => {
  if (spec) await session(targetFor(spec, spec.hosts[HOST_INDEX])).run(`rm -rf ${DIR}`);
  await closeAll();
});

test("kubelet drop-in on a lab host: write, read back, hand edit is drift, revert, second apply is a no-op", { skip: noLab }, async (t) => {
  const host = spec!.hosts[HOST_INDEX];
  const target = keylessTarget(spec!, host);
  const provider = kubeletConfigProvider(labCredentials(spec!));
  const s = session(targetFor(spec!, host));
  if ((await s.run("systemctl is-active --quiet kubelet.service")).code === 0) {
    t.skip(`a kubelet is running on ${host.name}: this test covers the fresh-host path only and must not restart someone else's kubelet`);
    return;
  }
  await s.run(`rm -rf ${DIR}`);

  // Size from the host's real CPUs and memory.
  const cpus = Number((await s.check("counting CPUs", "nproc")).trim());
  const memKb = Number(/MemTotal:\s+(\d+) kB/.exec(await s.check("reading memory size", "cat /proc/meminfo"))![1]);
  const sizing = sizeNode({ node: host.name, group: host.group, kubelet: kubelet.parse({ minAllocatable: { cpu: "0", memory: "0" } }), size: { cpus, memoryBytes: memKb * 1024 } });
  const fields = sizing.fields!;
  const desired: KubeletConfigState = {
    node: host.name, path: PATH, target, drainTimeoutSeconds: 60, readyTimeoutSeconds: 60, unmanaged: [], ...fields,
  };

  // create: the file appears with exactly the rendered content.
  const created = await provider.create(desired);
  assert.equal(created.id, `${host.name}:${PATH}`);
  assert.equal(created.outs.lastChanges.length, 10, "every field is new on a fresh host");
  const expected = renderKubeletDropIn(fields, { node: host.name });
  assert.equal(await readKubeletDropIn(s, PATH), expected);
  assert.equal((await s.check("reading the file mode", `stat -c %a ${PATH}`)).trim(), "644");

  // refresh: read returns the live fields as inputs; nothing differs.
  const clean = await provider.read!(created.id, created.outs);
  assert.equal(clean.id, created.id);
  assert.deepEqual(changedInputs(clean.inputs, desired), []);

  // A hand edit on the host: one field changed (the first memory line is
  // kubeReserved's), one added.
  await s.check("editing the file by hand", `sed -i '0,/^  memory: "${fields.kubeReserved.memory}"$/s//  memory: 2Gi/' ${PATH} && echo 'cpuManagerPolicy: static' >> ${PATH}`);
  const drifted = await provider.read!(created.id, created.outs);
  assert.deepEqual(drifted.inputs.kubeReserved, { cpu: fields.kubeReserved.cpu, memory: "2Gi" });
  assert.deepEqual(drifted.inputs.unmanaged, ["cpuManagerPolicy"]);
  assert.deepEqual(changedInputs(drifted.inputs, desired), ["kubeReserved.memory", "unmanaged"]);
  const d = await provider.diff!(created.id, drifted.inputs, desired);
  assert.equal(d.changes, true);

  // up: the update reverts it and reports what it changed.
  const reverted = await provider.update!(created.id, drifted.inputs, desired);
  assert.deepEqual(reverted.outs.lastChanges, [
    `kubeReserved.memory: 2Gi => ${fields.kubeReserved.memory}`,
    "cpuManagerPolicy: (set by hand) => (removed)",
  ]);
  assert.equal(await readKubeletDropIn(s, PATH), expected);

  // A second apply changes nothing, not even the file's inode.
  const inode = await s.check("reading the file inode", `stat -c %i ${PATH}`);
  const again = await provider.update!(created.id, desired, desired);
  assert.deepEqual(again.outs.lastChanges, []);
  assert.equal(await s.check("reading the file inode", `stat -c %i ${PATH}`), inode);

  // delete removes the file; refresh then reports the resource gone.
  await provider.delete!(created.id, created.outs);
  assert.equal(await readKubeletDropIn(s, PATH), undefined);
  const gone = await provider.read!(created.id, created.outs);
  assert.equal(gone.id, undefined);
});
