#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what holdfast needs, builds it and runs it in the foreground on a config (default:
# the bundled conf/holdfast.yaml: a primary zone example.com. with a managed name
# lb.example.com., and a secondary zone example.net., on port 5353). For the secondary zone it
# starts a local knotd as the hidden master on 127.0.0.1@5300 (conf/master/), stopped again when
# holdfast exits.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-conf/holdfast.yaml}
bash scripts/setup.sh
bash scripts/build.sh release

master_dir="$PWD/run/master"
mkdir -p "$master_dir"
sed -e "s|RUNDIR|$master_dir|g" -e "s|ZONEFILE|$PWD/conf/master/example.net.zone|" \
  conf/master/knot.conf >"$master_dir/knot.conf"
knotd -c "$master_dir/knot.conf" >"$master_dir/knotd.log" 2>&1 &
knotd_pid=$!
trap 'kill "$knotd_pid" 2>/dev/null || true' EXIT

cat <<MSG
holdfast is starting on $config; a local knotd (pid $knotd_pid, log $master_dir/knotd.log) is
the hidden master of example.net. on 127.0.0.1@5300. In another shell:
  kdig @127.0.0.1 -p 5353 www.example.com A        # primary zone (conf/zones/example.com.zone)
  kdig @127.0.0.1 -p 5353 www.example.net A        # secondary zone, transferred from knotd
  kdig @::1 -p 5353 +tcp example.com MX
  for i in 1 2 3; do kdig +short @127.0.0.1 -p 5353 lb.example.com A; done   # managed, 2:1
  curl -s http://127.0.0.1:9153/metrics | grep holdfast_zone_sync_lag_seconds
  build/holdfast zone list -c $config
Change the master: edit conf/master/example.net.zone (raise the serial), then
  knotc -s $master_dir/knot.sock zone-reload example.net.
and knotd's NOTIFY makes holdfast serve the change at once.
Stop with Ctrl-C. The LMDB store is in run/storage; a restart serves it at once, master or not.
MSG
build/holdfast run -c "$config"
