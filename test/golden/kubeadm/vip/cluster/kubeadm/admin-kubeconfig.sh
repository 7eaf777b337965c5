#!/usr/bin/env bash
# the admin kubeconfig (stdout is secret)
set -euo pipefail

cat /etc/kubernetes/admin.conf
