#!/usr/bin/env bash
# the admin kubeconfig (stdout is secret)
set -euo pipefail

sed 's#server: https://127.0.0.1:6444$#server: https://192.0.2.10:6443#' /etc/kubernetes/admin.conf
