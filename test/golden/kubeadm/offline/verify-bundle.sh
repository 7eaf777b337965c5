cd '/var/lib/ironroot/bundle/1.36.3'
if ! report=$(printf '%s\n' \
  '1111111111111111111111111111111111111111111111111111111111111111  debs/kubeadm_1.36.3-1.1_amd64.deb' \
  '2222222222222222222222222222222222222222222222222222222222222222  images/pause_3.10.tar' | sha256sum --check --strict 2>&1); then
  bad=$(printf '%s\n' "$report" | grep -v ': OK$' | sed 's/^/  /')
  echo "offline bundle in /var/lib/ironroot/bundle/1.36.3: files missing or not matching bundle.json; copy the bundle again:" >&2
  printf '%s\n' "$bad" >&2
  exit 4
fi
