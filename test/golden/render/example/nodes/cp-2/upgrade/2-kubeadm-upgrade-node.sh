#!/usr/bin/env bash
# cp-2: kubeadm upgrade node to 1.36.3
set -euo pipefail

kubeadm upgrade node 2>&1
