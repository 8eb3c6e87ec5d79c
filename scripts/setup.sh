#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages holdfast needs to build, run and test; skips what is present.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libknot-dev libuv1-dev liblmdb-dev libspdlog-dev
            libfmt-dev libyaml-cpp-dev nlohmann-json3-dev libcpp-httplib-dev libcli11-dev
            libgtest-dev libgmock-dev libcurl4-openssl-dev)
# kdig and curl for the queries scripts/run.sh suggests; knotd as its local hidden master.
run_pkgs=(knot-dnsutils knot curl)
test_pkgs=(knot nsd dnsperf lmdb-utils python3 python3-dnspython procps util-linux iproute2
           prometheus bind9-utils bind9-dnsutils nginx-light openssl)

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_pkgs[@]}")
[ "${1:-}" = "--fuzz" ] && want+=(clang libclang-rt-14-dev)

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Debian starts knotd, nsd and nginx as services on install; holdfast's tests run their own copies.
for svc in knot nsd nginx; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
exit 0
