#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what holdfast needs, builds it and runs it in the foreground on a config
# (default: the bundled conf/holdfast.yaml, which serves conf/zones/example.com.zone on port 5353).
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-conf/holdfast.yaml}
bash scripts/setup.sh
bash scripts/build.sh release
cat <<MSG
holdfast is starting on $config. In another shell, ask it:
  kdig @127.0.0.1 -p 5353 example.com SOA
  kdig @127.0.0.1 -p 5353 www.example.com A
  kdig @::1 -p 5353 +tcp example.com MX
Stop it with Ctrl-C. Its LMDB store is in run/storage; a restart serves it at once.
MSG
exec build/holdfast run -c "$config"
