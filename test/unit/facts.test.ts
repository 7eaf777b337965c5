import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { factsScript, FactsParseError, parseFacts } from "../../components/plan/facts";
import { shellcheckAll, shellcheckMissing } from "../support/shellcheck";

const fixture = (name: string) => readFileSync(join(__dirname, "../fixtures/facts", name), "utf8");

test("facts of a lab host (systemd-nspawn, Debian 12), captured over SSH", () => {
  const f = parseFacts(fixture("lab-nspawn-debian12.txt"));
  assert.deepEqual(f, {
    os: { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)" },
    kernel: "6.18.44-fc-v669",
    virt: "systemd-nspawn",
    cpus: 2,
    memoryBytes: 24684084 * 1024,
    disks: [
      { name: "zram0", nvme: false, rotational: false, sizeBytes: 0 },
      { name: "vda", nvme: false, rotational: true, sizeBytes: 274877906944 },
    ],
    etcd: { path: "/var/lib", freeBytes: 84858417152, source: "ironroot-lab" },
    swap: { totalBytes: 0, active: [], fstab: [] },
    cgroupVersion: 1,
    timeSync: { synchronized: false, services: [] },
    hostname: "lab-1",
    machineId: "2b9b525541e841868531906290583062",
    addresses: [{ device: "eth0", cidr: "10.77.0.11/24" }],
    portsInUse: [],
    clockMs: 1795317202268,
  });
});

test("facts of the development machine (docker), run locally: etcd on a block device, timedated absent", () => {
  const f = parseFacts(fixture("dev-docker-debian12.txt"));
  assert.equal(f.virt, "docker");
  assert.deepEqual(f.etcd, { path: "/var/lib", freeBytes: 84941291520, source: "/dev/vda", disk: "vda" });
  assert.equal(f.timeSync.synchronized, undefined);
  assert.deepEqual(f.addresses, [{ device: "eth0", cidr: "192.0.2.2/24" }, { device: "eth0", cidr: "fd00::2/64" }]);
});

// The fixtures above have no swap, ports or NVMe; these lines are in the
// exact formats the script prints (lsblk -P, /proc/swaps, ss, timedatectl).
test("swap, NVMe, ports (v4 and v6 once), time services, the cluster marker and the installed kubeadm", () => {
  const base = fixture("lab-nspawn-debian12.txt")
    .replace(/^cluster\t.*$/m, "cluster\tprod")
    .replace(/^time\.synced\tno$/m, "time.synced\tyes");
  const extra = [
    'disk\tNAME="nvme0n1" ROTA="0" SIZE="1000204886016" TYPE="disk" TRAN="nvme"',
    'disk\tNAME="sr0" ROTA="1" SIZE="1073741312" TYPE="rom" TRAN="sata"',
    "swap.active\t/dev/vda3",
    "swap.fstab\tUUID=1234 none swap",
    "time.service\tsystemd-timesyncd=active",
    "time.service\tchrony=inactive",
    "port\t10250 kubelet",
    "port\t10250 kubelet",
    "port\t6443 ",
    "kubeadm.version\tv1.36.3",
    "",
  ].join("\n");
  const f = parseFacts(base + extra.replace("swap.active", "swap.active"));
  assert.deepEqual(f.disks.map((d) => [d.name, d.nvme]), [["zram0", false], ["vda", false], ["nvme0n1", true]]);
  assert.deepEqual(f.swap, { totalBytes: 0, active: ["/dev/vda3"], fstab: ["UUID=1234 none swap"] });
  assert.deepEqual(f.timeSync, { synchronized: true, services: [{ name: "systemd-timesyncd", active: true }, { name: "chrony", active: false }] });
  assert.deepEqual(f.portsInUse, [{ port: 6443 }, { port: 10250, process: "kubelet" }]);
  assert.equal(f.installedCluster, "prod");
  assert.equal(f.kubeadmVersion, "1.36.3");
  assert.equal(parseFacts(base.replace(/^kubeadm\.version\t.*\n/m, "") + "kubeadm.version\t\n").kubeadmVersion, undefined, "kubeadm present but not answering");
});

test("a missing required fact is named", () => {
  assert.throws(() => parseFacts(fixture("lab-nspawn-debian12.txt").replace(/^cpus\t.*\n/m, "")), (e: Error) => {
    assert.ok(e instanceof FactsParseError);
    assert.equal(e.message, "facts: CPU count (cpus) is missing");
    return true;
  });
});

test("the facts script is read-only shell that passes shellcheck, and quotes the etcd dir", { skip: shellcheckMissing() }, () => {
  const script = factsScript("/var/lib/etcd data'x", [6443, 10250]);
  assert.match(script, /p='\/var\/lib\/etcd data'\\''x'/);
  assert.match(script, /6443\|10250\) f port/);
  assert.deepEqual(shellcheckAll([["facts script", script]]), []);
  for (const verb of ["apt-get", "rm ", "mv ", "systemctl start", "systemctl restart", "> /", "tee "]) assert.ok(!script.includes(verb), verb);
});
