#!/bin/bash
# _host_ns.sh ROOT CMD...: run CMD in the current (private) mount namespace with the
# directories real xl uses bound to ROOT's subdirectories, so neither xl nor dxl touches
# the host's /etc/xen, /var/lib/xen, /var/run/xen, /var/log/xen or /srv. Run it under
# `unshare -m` as root. Mount points that do not exist on the host are created (empty).
set -eu
root=$1
shift
mount --make-rprivate / 2>/dev/null || true
for pair in etc-xen:/etc/xen var-lib-xen:/var/lib/xen run-xen:/var/run/xen \
            log-xen:/var/log/xen srv:/srv; do
  src="$root/${pair%%:*}"
  dst="${pair#*:}"
  mkdir -p "$src" "$dst"
  mount --bind "$src" "$dst"
done
exec "$@"
