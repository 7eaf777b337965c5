#!/usr/bin/env bash
# cp-1: kubeadm upgrade apply to 1.36.3
set -euo pipefail

kubeadm upgrade plan v1.36.3 2>&1
kubeadm upgrade apply v1.36.3 --yes 2>&1
