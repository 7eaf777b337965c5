#!/usr/bin/env bash
# fresh join credentials on a running control plane (stdout is secret)
set -euo pipefail

export KUBECONFIG=/etc/kubernetes/admin.conf
token=$(kubeadm token create --ttl 1h --description "ironroot join")
key=$(kubeadm init phase upload-certs --upload-certs 2>/dev/null | tail -n 1)
hash=$(openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)
printf 'token=%s\ncertificateKey=%s\ncaCertHash=sha256:%s\n' "$token" "$key" "$hash"
