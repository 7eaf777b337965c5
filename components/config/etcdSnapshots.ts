import { z } from "zod";
import { absolutePath } from "./fields";

// systemd OnCalendar expressions ("hourly", "*-*-* 00/6:00:00", "Mon..Fri 02:30").
// Only the character set is checked here: the value ends up on one line of a
// unit file, so a newline or a shell metacharacter would change the unit.
// systemd itself judges the expression when the timer is loaded.
const CALENDAR = /^[A-Za-z0-9*:.,/~ +-]+$/;

export const etcdSnapshots = z
  .strictObject({
    enabled: z.boolean().default(true)
      .describe("Take scheduled etcd snapshots on every control plane. Default: true."),
    schedule: z
      .string()
      .regex(CALENDAR, {
        error: (iss) =>
          `${JSON.stringify(iss.input)} is not a systemd calendar expression: use e.g. "hourly", "daily" or "*-*-* 00/6:00:00" (check it with \`systemd-analyze calendar '<expr>'\`)`,
      })
      .default("hourly")
      .describe("When snapshots are taken, as a systemd `OnCalendar=` expression. Default: `hourly`."),
    dir: absolutePath.default("/var/backups/etcd")
      .describe("Folder on each control plane that holds the snapshots (mode 0700: a snapshot holds every Secret of the cluster). Default: `/var/backups/etcd`."),
    retention: z.number().int().min(1).max(1000).default(24)
      .describe("How many snapshots to keep per control plane; older ones are deleted after each successful snapshot. Default: 24."),
  })
  .prefault({})
  .describe("Scheduled etcd snapshots on the control planes, for what git cannot hold (the cluster's live state). Default: hourly, 24 kept.");

export type EtcdSnapshotsConfig = z.output<typeof etcdSnapshots>;

/**
 * Snapshots kept inside etcd's data dir would be lost with it: a restore
 * replaces that folder, and a dead disk takes both.
 */
export function etcdSnapshotProblems(cfg: EtcdSnapshotsConfig, hosts: { name: string; etcdDataDir: string }[]): string[] {
  const dir = cfg.dir.replace(/\/+$/, "");
  return hosts
    .map((h, i) => ({ h, i }))
    .filter(({ h }) => {
      const data = h.etcdDataDir.replace(/\/+$/, "");
      return dir === data || dir.startsWith(`${data}/`) || data.startsWith(`${dir}/`);
    })
    .map(({ h, i }) =>
      `etcdSnapshots.dir: "${cfg.dir}" overlaps hosts[${i}].etcdDataDir "${h.etcdDataDir}" (${h.name}): keep snapshots outside etcd's data dir, e.g. the default /var/backups/etcd`,
    );
}
