#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Health checker benchmark (issue 11): holdfast's CPU per probe for 5,000 HTTP and HTTPS targets
# (127.0.0.1..127.0.19.136, one local nginx-light) probed every 5 s. Runs inside a network
# namespace of its own (nothing leaves the machine). Needs build/tests/lb_probe_bench
# (`/work/wt/build.sh release lb_probe_bench` or `cmake --build build --target lb_probe_bench`).
# Usage: scripts/bench/lb_probes.sh [targets] [seconds] [interval_ms] [max_in_flight]
# LB_PROBES_RESULTS=FILE appends the bench's raw key=value lines there (scripts/bench.sh --lb).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bench=${LB_PROBE_BENCH:-$root/build/tests/lb_probe_bench}
targets=${1:-5000}
seconds=${2:-20}
interval=${3:-5000}
inflight=${4:-0} # 0: the monitor's default

if [[ "${HF_LB_NETNS:-}" != 1 ]]; then
  # -r maps the caller to root inside a user namespace when not already root.
  flags=(-n)
  [[ $(id -u) == 0 ]] || flags=(-r -n)
  exec unshare "${flags[@]}" env HF_LB_NETNS=1 "$0" "$@"
fi

[[ -x $bench ]] || { echo "missing $bench: build target lb_probe_bench" >&2; exit 1; }
ip link set lo up
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
tmp=$(mktemp -d /tmp/holdfast-lbbench-XXXXXX)
trap '[[ -f $tmp/nginx.pid ]] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null; sleep 0.2; rm -rf "$tmp"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -subj /CN=health.test \
  -addext subjectAltName=DNS:health.test 2>/dev/null
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  server {
    listen 0.0.0.0:8080 backlog=8192;
    listen 0.0.0.0:8443 ssl backlog=8192;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    location = /health { return 200 "OK\n"; }
  }
}
EOF
nginx -p "$tmp" -c "$tmp/nginx.conf"
for _ in $(seq 50); do [[ -s $tmp/nginx.pid ]] && break; sleep 0.1; done

run() { # type -> one key=value line from the bench
  local out
  out=$("$bench" --targets "$targets" --type "$1" --interval-ms "$interval" \
    --duration "$seconds" --host health.test --ca "$tmp/cert.pem" --max-in-flight "$inflight") \
    || echo "lb_probe_bench --type $1 failed with exit status $?" >&2
  echo "$out" >&2
  echo "$out" | grep "^type=" || true # a failed type leaves its line empty, the other stays
}
http=$(run http)
https=$(run https)
[[ -z ${LB_PROBES_RESULTS:-} ]] || printf '%s\n%s\n' "$http" "$https" >>"$LB_PROBES_RESULTS"
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

printf '\nhealth checker: %s targets, interval %s ms, %s s each (CPU of the bench process)\n' \
  "$targets" "$interval" "$seconds"
printf '%-6s %8s %9s %13s %8s %8s %11s %7s\n' check probes probes/s 'CPU us/probe' user sys latency_ms failed
for kind in http https; do
  line=${!kind}
  probes=$(field "$line" probes)
  ok=$(field "$line" ok)
  printf '%-6s %8s %9s %13s %8s %8s %11s %7s\n' "$kind" "$probes" \
    "$(field "$line" probes_per_s)" "$(field "$line" cpu_us_per_probe)" \
    "$(field "$line" user_us_per_probe)" "$(field "$line" sys_us_per_probe)" \
    "$(field "$line" mean_latency_ms)" $((probes - ${ok:-0}))
done
