#!/usr/bin/env bash
# worker-1: kubeadm upgrade node to 1.36.3
set -euo pipefail

kubeadm upgrade node 2>&1
