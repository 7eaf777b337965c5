// The Calico pool encapsulates all traffic between nodes (vxlanMode
// Always): the cni script rewrites upstream's CrossSubnet before the first
// calico-node start. Run here on the upstream manifests themselves.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { vxlanAlways } from "../../components/plan/kubeadm/scripts";

const MANIFESTS = resolve(__dirname, "../../../shared/manifests/calico");
const dir = mkdtempSync(join(tmpdir(), "calico-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function rewrite(manifest: string): { status: number | null; out: string; stderr: string } {
  writeFileSync(join(dir, "in.yaml"), manifest);
  const r = spawnSync("bash", ["-c", ["set -euo pipefail", ...vxlanAlways(`"${dir}/in.yaml"`, `"${dir}/out.yaml"`)].join("\n")], { encoding: "utf8" });
  return { status: r.status, out: existsSync(join(dir, "out.yaml")) ? readFileSync(join(dir, "out.yaml"), "utf8") : "", stderr: r.stderr };
}

const upstream = existsSync(MANIFESTS) ? readdirSync(MANIFESTS).filter((f) => /^calico-vxlan-v[\d.]+\.yaml$/.test(f)) : [];

test("upstream's calico-vxlan manifests: CrossSubnet becomes Always, and nothing else changes", { skip: upstream.length ? false : `no upstream Calico manifests in ${MANIFESTS}` }, () => {
  for (const f of upstream) {
    const text = readFileSync(join(MANIFESTS, f), "utf8");
    const r = rewrite(text);
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    const before = text.split("\n");
    const changed = r.out.split("\n").map((l, i) => [before[i], l]).filter(([a, b]) => a !== b);
    assert.deepEqual(changed, [['              value: "CrossSubnet"', '              value: "Always"']], f);
  }
});

test("a manifest without the setting, or with it twice, is refused by name", () => {
  const env = (v: string) => `            - name: CALICO_IPV4POOL_VXLAN\n              value: "${v}"\n`;
  for (const m of ["kind: DaemonSet\n", env("Never") + env("CrossSubnet")]) {
    const r = rewrite(m);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /does not set CALICO_IPV4POOL_VXLAN exactly once/);
  }
  assert.equal(rewrite(env("Never")).out, env("Always"));
});
