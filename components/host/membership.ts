// Whether a host is a member of a cluster: kubeadm init or join wrote its
// kubelet's kubeconfig. One SSH command, asked before anything that needs
// a running control plane.
import { KUBELET_KUBECONFIG } from "../plan/facts";
import type { HostSession } from "../ssh/types";

export async function isMember(s: HostSession): Promise<boolean> {
  return (await s.run(`test -f ${KUBELET_KUBECONFIG}`)).code === 0;
}
