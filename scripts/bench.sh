#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks holdfast against knotd and nsd on one generated zone: QPS and server CPU per query
# (UDP, TCP), memory with a 1 M-record zone, and time from process start to the first answer.
# Then, as secondaries of one knotd master, the time and peak RSS to serve that zone by AXFR and
# the NOTIFY-to-served lag of one-record changes (scripts/bench/xfr_bench.py; --no-xfr skips it).
# The DNSSEC part serves the same zone signed (NSEC3, 0 extra iterations, no salt; signed once with
# BIND's dnssec-signzone and cached, scripts/bench/dnssec.py) and measures DO-bit queries over UDP
# after checking that each server's answers carry valid RRSIGs and NSEC3 proofs.
# --lb adds the traffic management part (issue 11): holdfast's CPU per A query for a managed
# weighted name vs a static name of the same zone, the health checker's CPU per probe
# (scripts/bench/lb_probes.sh) and failover times (scripts/bench/lb_failover.py).
#
# Layout: the server is pinned to one core with one worker, dnsperf to the other core. Servers
# take turns in each round (the order rotates), each freshly started, warmed up for 1 s, then
# measured over UDP and over TCP. CPU per query = the server's utime+stime delta (whole process
# tree, all threads, /proc/PID/stat) / queries dnsperf completed: one dnsperf core saturates near
# the servers' own rate, so QPS alone hides the difference. Helpers live in scripts/bench/.
#
# Progress goes to stderr, the final table to stdout. Everything runs on 127.0.0.1 with free high
# ports, in one temp dir, and every process started here is killed on exit.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/bench.sh [options]
  --rounds N          rounds over all servers (default 3)
  --duration S        seconds per dnsperf run, per server and protocol (default 10)
  --quick             smoke run: 1 round, 2 s runs, 20k-name zone, 100k-record "1M" zone
  --servers LIST      comma-separated, from knotd,nsd,nsd-db,holdfast
                      (default knotd,nsd,holdfast; nsd-db is NSD with its nsd.db store)
  --holdfast PATH     holdfast binary (default: <repo>/build/holdfast, built if missing)
  --names N           names in the throughput zone (default 100000)
  --records N         records in the memory/startup zone (default 1000000)
  --no-big            skip the memory/startup part
  --xfr, --no-xfr     run (default) or skip the zone transfer part (servers as secondaries of a
                      knotd master: AXFR start-to-served time and peak RSS, NOTIFY->served lag)
  --xfr-rounds N      rounds of the transfer part (default 2)
  --dnssec, --no-dnssec
                      run (default) or skip the signed-zone part: the same zone signed (ECDSA
                      P-256, NSEC3 with 0 extra iterations and no salt), DO-bit queries over UDP
                      (dnsperf -D) with the same query mix, --rounds x --duration per server;
                      each server's DO answers are checked first (RRSIGs validate, NXDOMAIN and
                      NODATA carry NSEC3 proofs) and a warning is printed if they do not
  --dnssec-only       only the signed-zone part (no unsigned throughput, 1M or transfer parts)
  --dnssec-modes LIST nsec3 (default), nsec, or nsec3,nsec: one signed table per mode
  --sign-cache DIR    where signed zones are kept between runs, keyed by the zone's content
                      (default ${XDG_CACHE_HOME:-~/.cache}/holdfast-bench; signing 100k names
                      takes ~10 s per mode, done again when signatures have < 10 days left)
  --server-cpu N      core for the server (default 0)
  --client-cpu N      core for dnsperf (default 1)
  --udp-load C,Q      dnsperf clients,outstanding for UDP (default 4,200)
  --tcp-load C,Q      dnsperf clients,outstanding for TCP (default 32,500)
  --results FILE      also copy the raw per-run results there
  --rrl               also run holdfast with response rate limiting on (server.rrl at a rate
                      no client reaches) in the throughput rounds, as server holdfast-rrl, and
                      print its UDP CPU per query over plain holdfast's (goal <= 1.05x)
  --lb                also run the traffic management part with holdfast: CPU per A query for a
                      managed weighted name (pool of 3, weights 20/20/10, no check) vs a static
                      name of the same zone (--rounds x --duration each, alternating; goal <=
                      1.1x), CPU per HTTP and HTTPS probe for --lb-targets targets in a network
                      namespace of its own (needs build/tests/lb_probe_bench and nginx; goal
                      <= 50 us for HTTP), and the failover time of a checked failover pair
  --lb-only           only the traffic management part (like --lb --no-big --no-xfr
                      --no-dnssec, without the unsigned throughput rounds)
  --lb-targets N      health checker targets (default 5000; 0 skips the probe part)
  --lb-probe-seconds S
                      seconds per probe type (default 20)
  --lb-failover N     failover repeats (default 3; 0 skips it)
  --keep              keep the temp dir (configs, logs, dnsperf output)
  -h, --help          this text
EOF
}

REPO="$(cd "$(dirname "$0")/.." && pwd)"
HERE="$REPO/scripts/bench"
PY=/usr/bin/python3
TOOL=("$PY" "$HERE/benchtool.py")

rounds=3 duration=10 names=100000 records=1000000 big=1 keep=0 xfr=1 xfr_rounds=2 xfr_changes=5
servers="knotd,nsd,holdfast" holdfast="$REPO/build/holdfast" results_copy=""
plain=1 dnssec=1 dnssec_modes="nsec3" sign_cache="${XDG_CACHE_HOME:-$HOME/.cache}/holdfast-bench"
server_cpu=0 client_cpu=1 udp_load="4,200" tcp_load="32,500" rrl=0
lb=0 lb_targets=5000 lb_probe_seconds=20 lb_failover=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --quick) rounds=1 duration=2 names=20000 records=100000 xfr_rounds=1 xfr_changes=3 ;;
    --servers) servers="$2"; shift ;;
    --holdfast) holdfast="$2"; shift ;;
    --names) names="$2"; shift ;;
    --records) records="$2"; shift ;;
    --no-big) big=0 ;;
    --xfr) xfr=1 ;;
    --no-xfr) xfr=0 ;;
    --xfr-rounds) xfr_rounds="$2"; shift ;;
    --dnssec) dnssec=1 ;;
    --no-dnssec) dnssec=0 ;;
    --dnssec-only) dnssec=1 plain=0 big=0 xfr=0 ;;
    --dnssec-modes) dnssec_modes="$2"; shift ;;
    --sign-cache) sign_cache="$2"; shift ;;
    --server-cpu) server_cpu="$2"; shift ;;
    --client-cpu) client_cpu="$2"; shift ;;
    --udp-load) udp_load="$2"; shift ;;
    --tcp-load) tcp_load="$2"; shift ;;
    --results) results_copy="$2"; shift ;;
    --rrl) rrl=1 ;;
    --lb) lb=1 ;;
    --lb-only) lb=1 plain=0 big=0 xfr=0 dnssec=0 ;;
    --lb-targets) lb_targets="$2"; shift ;;
    --lb-probe-seconds) lb_probe_seconds="$2"; shift ;;
    --lb-failover) lb_failover="$2"; shift ;;
    --keep) keep=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

for n in "$rounds" "$duration" "$names" "$records" "$server_cpu" "$client_cpu" "$xfr_rounds" \
    "$lb_targets" "$lb_probe_seconds" "$lb_failover"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "bench: '$n' is not a whole number" >&2; exit 2; }
done
modes=()
IFS=, read -r -a modes <<<"$dnssec_modes"
for m in "${modes[@]}"; do
  [[ "$m" == nsec3 || "$m" == nsec ]] \
    || { echo "bench: --dnssec-modes takes nsec3 and/or nsec" >&2; exit 2; }
done
[ "$rounds" -gt 0 ] || dnssec=0   # like the unsigned throughput part, it runs --rounds rounds
[[ "$udp_load,$tcp_load" =~ ^[0-9]+,[0-9]+,[0-9]+,[0-9]+$ ]] \
  || { echo "bench: --udp-load/--tcp-load take CLIENTS,OUTSTANDING" >&2; exit 2; }

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

ORIGIN="bench.example."
CANARY="canary.$ORIGIN" CANARY_ADDR="198.51.100.77"
LOAD_TIMEOUT=600   # seconds a server may take to load a zone before it is given up on

# --- environment -------------------------------------------------------------------------------
bash "$REPO/scripts/setup.sh" --test >&2
for tool in knotd nsd dnsperf taskset; do
  command -v "$tool" >/dev/null || die "$tool not found after setup.sh"
done
if [ "$dnssec" = 1 ]; then
  for tool in dnssec-keygen dnssec-signzone; do
    command -v "$tool" >/dev/null || die "$tool (bind9-utils) not found after setup.sh"
  done
fi
"$PY" -c 'import dns.message' 2>/dev/null || die "python3-dnspython missing for $PY"
ncpu=$(nproc --all)
if [ "$server_cpu" -ge "$ncpu" ] || [ "$client_cpu" -ge "$ncpu" ] \
    || [ "$server_cpu" = "$client_cpu" ]; then
  die "need two distinct cores (server $server_cpu, client $client_cpu, have $ncpu)"
fi

T="$(mktemp -d /tmp/holdfast-bench.XXXXXX)"
RESULTS="$T/results.tsv"
: >"$RESULTS"
PIDS=()   # servers started so far
STEP=""   # the helper (dnsperf run, startup timer) currently waited for

tree_pids() { "${TOOL[@]}" tree --pid "$1" 2>/dev/null || echo "$1"; }

# bg_wait CMD...: run CMD in the background and wait for it. Bash runs a trap only once its
# foreground command ends; `wait` returns at once, so Ctrl-C / SIGTERM take effect immediately.
bg_wait() {
  "$@" &
  STEP=$!
  local rc=0
  wait "$STEP" || rc=$?
  STEP=""
  return "$rc"
}

cleanup() {
  local rc=$? pid
  for pid in $STEP "${PIDS[@]}"; do
    [ -e "/proc/$pid" ] || continue
    # shellcheck disable=SC2046
    kill -KILL $(tree_pids "$pid") 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$keep" = 1 ]; then log "kept $T"; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# record SERVER KIND "key=value ..." -> one results line
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }
note() { log "$1: $2"; printf '%s\tnote\t%s\n' "$1" "$2" >>"$RESULTS"; }

# --- holdfast binary -----------------------------------------------------------------------------
want=()
IFS=, read -r -a want <<<"$servers"
active=()
for s in "${want[@]}"; do
  case "$s" in
    knotd|nsd|nsd-db) active+=("$s") ;;
    holdfast)
      if [ ! -x "$holdfast" ] && [ "$holdfast" = "$REPO/build/holdfast" ] \
          && [ -f "$REPO/CMakeLists.txt" ]; then
        log "building holdfast (log: $T/build.log)"
        if (cd "$REPO" && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
              && cmake --build build -j2) >"$T/build.log" 2>&1; then
          log "build done"
        else
          tail -n 20 "$T/build.log" >&2 || true
        fi
      fi
      if [ -x "$holdfast" ]; then
        active+=(holdfast)
      else
        note holdfast "skipped: no binary at $holdfast (build failed or no CMakeLists.txt)"
      fi ;;
    *) die "unknown server $s" ;;
  esac
done
if [ "$rrl" = 1 ]; then
  if [[ " ${active[*]} " == *" holdfast "* ]]; then
    active+=(holdfast-rrl)
  else
    note holdfast-rrl "skipped: --rrl needs holdfast among the servers"
  fi
fi
[ ${#active[@]} -gt 0 ] || die "no server to benchmark"

# --- zones ---------------------------------------------------------------------------------------
DATA="$T/data"
mkdir -p "$DATA" "$T/logs"
what="the $names-name zone"
[ "$big" = 1 ] && what+=" and the $records-record zone"
log "generating $what in $DATA"
"$PY" "$HERE/gen_zone.py" --origin "$ORIGIN" --names "$names" --seed 1 \
  --zone-out "$DATA/small.zone" --queries-out "$DATA/small.queries" --queries 200000 >&2
if [ "$big" = 1 ]; then
  "$PY" "$HERE/gen_zone.py" --origin "$ORIGIN" --records "$records" --seed 2 \
    --zone-out "$DATA/big.zone" --queries-out "$DATA/big.queries" --queries 100000 >&2
fi

# The signed copies (one per mode), from the cache when this zone was signed before.
declare -A SIGNED DNSKEY
if [ "$dnssec" = 1 ]; then
  for m in "${modes[@]}"; do
    log "signing the $names-name zone ($m; cache: $sign_cache)"
    out=$("$PY" "$HERE/dnssec.py" sign --zone "$DATA/small.zone" --origin "$ORIGIN" --mode "$m" \
          --cache "$sign_cache") || die "signing the zone ($m) failed"
    SIGNED[$m]=$(sed -n 's/.*path=\([^ ]*\).*/\1/p' <<<"$out")
    DNSKEY[$m]=$(sed -n 's/.*dnskey=\([^ ]*\).*/\1/p' <<<"$out")
    log "signed zone ($m): $out"
    record sign "sign_$m" "$out"
  done
fi

# --- per-server configuration: conf_NAME DIR PORT ZONEFILE sets CMD ------------------------------
CMD=()
conf_knotd() {
  local dir=$1 port=$2 zone=$3
  mkdir -p "$dir/run" "$dir/db"
  cat >"$dir/knot.conf" <<EOF
server:
    rundir: "$dir/run"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: notice
database:
    storage: "$dir/db"
template:
  - id: default
    storage: "$dir"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $ORIGIN
    file: "$zone"
EOF
  CMD=(knotd -c "$dir/knot.conf")
}

# nsd: zone file only, the default since NSD 4.8 (it parses the file at every start).
# nsd-db: with nsd.db, NSD 4's stored form: faster restart, but the mmap'd db costs memory.
conf_nsd() { conf_nsd_common "$@" '""'; }
conf_nsd_db() { conf_nsd_common "$@" "\"$1/nsd.db\""; }
conf_nsd_common() {
  local dir=$1 port=$2 zone=$3 db=$4
  # minimal-responses: like knotd, no authority NS on positive answers (same response sizes).
  # rrl-*: Debian builds NSD with response rate limiting on (200 qps per /24), which would
  # throttle dnsperf; knotd and holdfast have none by default.
  cat >"$dir/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1@$port
    server-count: 1
    tcp-count: 512
    username: ""
    chroot: ""
    zonesdir: "$dir"
    database: $db
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    pidfile: "$dir/nsd.pid"
    logfile: "$dir/nsd.log"
    verbosity: 1
    minimal-responses: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $ORIGIN
    zonefile: "$zone"
EOF
  CMD=(nsd -d -c "$dir/nsd.conf")
}

conf_holdfast() {
  local dir=$1 port=$2 zone=$3
  mkdir -p "$dir/store"
  cat >"$dir/holdfast.yaml" <<EOF
server:
  listen: ["127.0.0.1@$port"]
  workers: 1
  storage: $dir/store
zones:
  - domain: $ORIGIN
    file: $zone
EOF
  CMD=("$holdfast" run -c "$dir/holdfast.yaml")
}

# The same holdfast with response rate limiting on, at a rate no client reaches (dnsperf's
# NXDOMAINs all count against one zone): what the shared table costs per query when nobody is
# limited. Only in the throughput rounds.
conf_holdfast_rrl() {
  conf_holdfast "$@"
  sed -i 's/^  workers: 1$/  workers: 1\n  rrl: {rate-limit: 1000000, slip: 2}/' "$1/holdfast.yaml"
}

# --lb: the throughput zone plus a static name and a managed weighted name (the zone's own A at
# lbw is replaced by the pool's answer). No check: nothing is probed, every member is up.
LB_STATIC="static.$ORIGIN" LB_STATIC_ADDR="192.0.2.100" LB_WEIGHTED="lbw.$ORIGIN"
conf_holdfast_lb() {
  conf_holdfast "$@"
  cat >>"$1/holdfast.yaml" <<EOF
pools:
  - id: lbw
    members:
      - {id: a, address: 192.0.2.1, weight: 20}
      - {id: b, address: 192.0.2.2, weight: 20}
      - {id: c, address: 192.0.2.3, weight: 10}
records:
  - {name: $LB_WEIGHTED, type: A, pool: lbw, policy: weighted, ttl: 60s}
EOF
}

# --- process control -----------------------------------------------------------------------------
SRV_PID="" SRV_PORT=""
# start_server NAME DIR ZONEFILE RESULT_KIND: start pinned, time exec -> first correct answer.
start_server() {
  local name=$1 dir=$2 zone=$3 kind=$4 out
  mkdir -p "$dir"
  SRV_PORT=$("${TOOL[@]}" freeport)
  "conf_${name//-/_}" "$dir" "$SRV_PORT" "$zone"
  rm -f "$dir/gate"
  mkfifo "$dir/gate"
  # The subshell waits on the FIFO, then execs (its PID becomes the server's): the timer starts
  # inside wait-answer right before it opens the gate, so Python's own start-up is not counted.
  ( read -r _ <"$dir/gate"; exec taskset -c "$server_cpu" "${CMD[@]}" ) \
    >>"$dir/server.log" 2>&1 &
  SRV_PID=$!
  PIDS+=("$SRV_PID")
  if bg_wait "${TOOL[@]}" wait-answer --gate "$dir/gate" --port "$SRV_PORT" --name "$CANARY" \
       --addr "$CANARY_ADDR" --pid "$SRV_PID" --timeout "$LOAD_TIMEOUT" >"$T/step.out"; then
    out=$(<"$T/step.out")
    [ -n "$kind" ] && record "$name" "$kind" "$out"
    log "$name up on port $SRV_PORT: $out"
    return 0
  fi
  log "$name did not answer; last lines of $dir/server.log:"
  tail -n 15 "$dir/server.log" >&2 || true
  stop_server
  return 1
}

stop_server() {
  local pid=$SRV_PID i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    # Done when the main process is gone or a zombie (its children were reaped with it).
    [ -e "/proc/$pid" ] || break
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
    sleep 0.1
  done
  if [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
    log "pid $pid ignored SIGTERM for 30 s; killing"
    # shellcheck disable=SC2046
    kill -KILL $(tree_pids "$pid") 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  SRV_PID=""
}

# perf NAME PROTO QUERIES [extra benchtool args] -> key=value line in $T/step.out
perf() {
  local name=$1 proto=$2 queries=$3 load
  shift 3
  if [ "$proto" = tcp ]; then load=$tcp_load; else load=$udp_load; fi
  bg_wait "${TOOL[@]}" perf --pid "$SRV_PID" --port "$SRV_PORT" --queries "$queries" \
    --mode "$proto" --clients "${load%,*}" --outstanding "${load#*,}" \
    --server-cpu "$server_cpu" --client-cpu "$client_cpu" \
    --log "$T/logs/$name-dnsperf.log" "$@" >"$T/step.out"
}

# --- versions ------------------------------------------------------------------------------------
# (sed reads all input: with pipefail, `head` would SIGPIPE the writer.)
v_knot=$(knotd --version 2>&1 | sed -n '1s/.*version //p')
v_nsd=$(nsd -v 2>&1 | sed -n '1s/NSD version //p')
v_perf=$(dnsperf -h 2>&1 | sed -n 's/^Version //p')
v_hf="-"
if [[ " ${active[*]} " == *" holdfast "* ]]; then
  v_hf=$(timeout 5 "$holdfast" --version 2>/dev/null | sed -n 1p || true)
  [ -n "$v_hf" ] || v_hf="git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
  # A debug build would make holdfast look slow for the wrong reason: say which build this is.
  cache="$(dirname "$holdfast")/CMakeCache.txt"
  btype=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache" 2>/dev/null || true)
  v_hf+=" [${btype:-unknown build type}]"
  case "$btype" in
    Release|RelWithDebInfo) ;;
    *) note holdfast "build type '${btype:-unknown}' (from $cache); Release is what counts" ;;
  esac
fi
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
header="knotd $v_knot, nsd $v_nsd, dnsperf $v_perf, holdfast $v_hf; $cpu_model;"
header+=" $names names, ${rounds}x${duration}s rounds, UDP load $udp_load"
[ "$plain" = 1 ] && header+=", TCP load $tcp_load"
[ "$big" = 1 ] && header+=", big zone $records records"
[ "$dnssec" = 1 ] && header+=", signed: ${modes[*]}"

plain_rounds=$rounds
[ "$plain" = 1 ] || plain_rounds=0
total_est=$(( ${#active[@]} * plain_rounds * (2 * duration + 4) ))
[ "$dnssec" = 1 ] \
  && total_est=$(( total_est + ${#active[@]} * ${#modes[@]} * rounds * (duration + 5) ))
log "servers: ${active[*]}; throughput phases ~${total_est}s"

# --- throughput: rounds, servers alternating -----------------------------------------------------
failed=" "
for ((r = 0; r < plain_rounds; r++)); do
  order=()
  for ((i = 0; i < ${#active[@]}; i++)); do
    order+=("${active[(i + r) % ${#active[@]}]}")
  done
  log "round $((r + 1))/$rounds: ${order[*]}"
  for s in "${order[@]}"; do
    [[ "$failed" == *" $s "* ]] && continue
    kind=""
    [ "$r" = 0 ] && kind=start_100k
    if ! start_server "$s" "$T/$s" "$DATA/small.zone" "$kind"; then
      note "$s" "failed to serve the ${names}-name zone; left out"
      failed+="$s "
      continue
    fi
    perf "$s" udp "$DATA/small.queries" --duration 1 || true   # warm-up
    for proto in udp tcp; do
      if perf "$s" "$proto" "$DATA/small.queries" --duration "$duration"; then
        out=$(<"$T/step.out")
        record "$s" "$proto" "round=$r $out"
        log "$s $proto: $out"
      else
        note "$s" "dnsperf $proto failed in round $((r + 1))"
      fi
    done
    stop_server
  done
done

# --- signed zone: DO-bit queries over UDP, rounds, servers alternating ----------------------------
# The same zone signed, the same query file (answers, CNAMEs and referrals, 10 % NXDOMAIN, 10 %
# NODATA), every query with the DO bit. In the first round each server's answers are checked
# (dnssec.py check); a server whose answers lack RRSIGs or NSEC3 proofs is still measured, but
# warned about here and flagged in the table, since a fast incomplete answer proves nothing.
if [ "$dnssec" = 1 ]; then
  for ((r = 0; r < rounds; r++)); do
    order=()
    for ((i = 0; i < ${#active[@]}; i++)); do
      order+=("${active[(i + r) % ${#active[@]}]}")
    done
    log "signed round $((r + 1))/$rounds: ${order[*]} (${modes[*]})"
    for s in "${order[@]}"; do
      [ "$s" = holdfast-rrl ] && continue
      for m in "${modes[@]}"; do
        [[ "$failed" == *" $s-$m "* ]] && continue
        kind=""
        [ "$r" = 0 ] && kind="start_$m"
        if ! start_server "$s" "$T/$s-$m" "${SIGNED[$m]}" "$kind"; then
          note "$s" "failed to serve the signed ($m) zone; left out"
          failed+="$s-$m "
          continue
        fi
        if [ "$r" = 0 ]; then
          if bg_wait "$PY" "$HERE/dnssec.py" check --port "$SRV_PORT" --origin "$ORIGIN" \
               --mode "$m" --dnskey "${DNSKEY[$m]}" --canary "$CANARY" \
               --queries "$DATA/small.queries" >"$T/step.out" 2>"$T/$s-$m/check.log"; then
            out=$(<"$T/step.out")
            record "$s" "dnssec_${m}_check" "$out"
            if [[ "$out" == ok=1* ]]; then
              log "$s: DO answers on the signed ($m) zone check out: $out"
            else
              log "WARNING: $s: DO answers on the signed ($m) zone lack DNSSEC records: $out"
              sed 's/^/    /' "$T/$s-$m/check.log" >&2
              # (the note goes under the report; the line above already said it here)
              printf '%s\tnote\t%s\n' "$s" "WARNING: DO answers on the signed $m zone fail\
 the check ($out); its signed QPS is not comparable (details in the progress output)" \
                >>"$RESULTS"
            fi
          else
            note "$s" "WARNING: the DNSSEC answer check could not run ($m)"
            cat "$T/$s-$m/check.log" >&2 || true
          fi
        fi
        perf "$s-$m" udp "$DATA/small.queries" --duration 1 --dnssec || true   # warm-up
        if perf "$s-$m" udp "$DATA/small.queries" --duration "$duration" --dnssec; then
          out=$(<"$T/step.out")
          record "$s" "dnssec_$m" "round=$r $out"
          log "$s signed $m udp DO: $out"
        else
          note "$s" "dnsperf on the signed ($m) zone failed in round $((r + 1))"
        fi
        stop_server
      done
    done
  done
fi

# --- memory and restart with the big zone --------------------------------------------------------
if [ "$big" = 1 ]; then
  for s in "${active[@]}"; do
    [[ "$failed" == *" $s "* || "$s" == holdfast-rrl ]] && continue
    dir="$T/$s-big"
    log "$s: loading the $records-record zone"
    if ! start_server "$s" "$dir" "$DATA/big.zone" start_1m_load; then
      note "$s" "failed to load the $records-record zone"
      continue
    fi
    # Answer some queries first (once through the query file, capped at 60 s).
    perf "$s" udp "$DATA/big.queries" --maxruns 1 --duration 60 || true
    out=$("${TOOL[@]}" mem --pid "$SRV_PID")
    record "$s" mem_load "$out"
    log "$s memory after load + queries: $out"
    stop_server
    log "$s: restart with the stored zone"
    if ! start_server "$s" "$dir" "$DATA/big.zone" start_1m_restart; then
      note "$s" "failed to restart with the stored $records-record zone"
      continue
    fi
    perf "$s" udp "$DATA/big.queries" --maxruns 1 --duration 60 || true
    out=$("${TOOL[@]}" mem --pid "$SRV_PID")
    record "$s" mem_restart "$out"
    stop_server
  done
fi

# --- traffic management (--lb): weighted vs static name, probe CPU, failover time -------------
if [ "$lb" = 1 ] && [[ " ${active[*]} " != *" holdfast "* ]]; then
  note lb "skipped: --lb needs holdfast among the servers"
elif [ "$lb" = 1 ]; then
  { cat "$DATA/small.zone"
    printf '%s 300 IN A %s\n%s 300 IN A 192.0.2.99\n' "$LB_STATIC" "$LB_STATIC_ADDR" "$LB_WEIGHTED"
  } >"$DATA/lb.zone"
  echo "$LB_STATIC A" >"$DATA/lb_static.queries"
  echo "$LB_WEIGHTED A" >"$DATA/lb_weighted.queries"
  # Rounds: one fresh server each, both names measured back to back, the order alternating, so
  # drift (other load, frequency) hits both alike. us/q is the server's CPU per query.
  for ((r = 0; r < rounds; r++)); do
    kinds=(lb_static lb_weighted)
    [ $((r % 2)) = 1 ] && kinds=(lb_weighted lb_static)
    log "lb round $((r + 1))/$rounds: ${kinds[*]}"
    if ! start_server holdfast-lb "$T/holdfast-lb" "$DATA/lb.zone" ""; then
      note lb "holdfast failed to serve the zone with a managed name; lb rounds skipped"
      break
    fi
    if [ "$r" = 0 ]; then
      # A fast wrong answer means nothing: exact 20/20/10 shares over 50 answers (one worker).
      for chk in "$LB_WEIGHTED 192.0.2.1=20,192.0.2.2=20,192.0.2.3=10" \
                 "$LB_STATIC $LB_STATIC_ADDR=50"; do
        if "${TOOL[@]}" lb-check --port "$SRV_PORT" --name "${chk%% *}" --n 50 \
             --expect "${chk#* }" >"$T/step.out"; then
          out=$(<"$T/step.out")
          record holdfast lb_check "$out"
          log "lb answers: $out"
          [[ "$out" == *ok=1 ]] || note lb "WARNING: wrong answers for ${chk%% *}: $out"
        else
          note lb "WARNING: the answer check for ${chk%% *} could not run"
        fi
      done
    fi
    for k in "${kinds[@]}"; do
      perf holdfast-lb udp "$DATA/$k.queries" --duration 1 || true   # warm-up
      if perf holdfast-lb udp "$DATA/$k.queries" --duration "$duration"; then
        out=$(<"$T/step.out")
        n=$LB_STATIC
        [ "$k" = lb_weighted ] && n=$LB_WEIGHTED
        record holdfast "$k" "round=$r name=$n $out"
        log "holdfast $k: $out"
      else
        note lb "dnsperf $k failed in round $((r + 1))"
      fi
    done
    stop_server
  done
  # Probe CPU: 5,000 targets on 127.0.x.y and one nginx, in a network namespace of its own.
  probe_bin="$(dirname "$holdfast")/tests/lb_probe_bench"
  if [ "$lb_targets" -gt 0 ] && { [ ! -x "$probe_bin" ] || ! command -v nginx >/dev/null; }; then
    note lb "probe part skipped: needs $probe_bin (target lb_probe_bench) and nginx"
  elif [ "$lb_targets" -gt 0 ]; then
    log "lb probes: $lb_targets targets, ${lb_probe_seconds}s per type (http, https)"
    : >"$T/lb_probes.raw"
    if bg_wait env LB_PROBE_BENCH="$probe_bin" LB_PROBES_RESULTS="$T/lb_probes.raw" bash \
         "$HERE/lb_probes.sh" "$lb_targets" "$lb_probe_seconds" >"$T/lb_probes.txt" 2>&1; then
      while read -r line; do
        if [ -n "$line" ]; then record holdfast lb_probe "$line"; fi
      done <"$T/lb_probes.raw"
      for t in http https; do
        grep -q "^type=$t " "$T/lb_probes.raw" \
          || note lb "the $t probe run failed: $(grep -m1 failed "$T/lb_probes.txt")"
      done
    else
      note lb "the probe benchmark failed: $(tail -n 5 "$T/lb_probes.txt" | tr '\n' ' ')"
    fi
  fi
  if [ "$lb_failover" -gt 0 ]; then
    log "lb failover: $lb_failover repeats (about 10 s each)"
    if bg_wait "$PY" "$HERE/lb_failover.py" --holdfast "$holdfast" --repeats "$lb_failover" \
         --cpu "$server_cpu" >"$T/step.out"; then
      out=$(<"$T/step.out")
      record holdfast lb_failover "$out"
      log "lb failover: $out"
    else
      note lb "the failover measurement failed (see above)"
    fi
  fi
fi

report_servers=$(IFS=,; echo "${active[*]}")

# --- zone transfers: each server as a secondary of one knotd master -----------------------------
# xfr_bench.py runs its own master (pinned to the client core) and secondaries (server core), one
# at a time; its table is printed after the report. It appends its raw lines to $RESULTS.
if [ "$xfr" = 1 ]; then
  xfr_args=(--servers "${report_servers/,holdfast-rrl/}"   # (rrl: throughput rounds only)
            --rounds "$xfr_rounds" --changes "$xfr_changes"
            --server-cpu "$server_cpu" --master-cpu "$client_cpu" --workdir "$T/xfr"
            --results "$RESULTS")
  if [ -f "$DATA/big.zone" ]; then
    xfr_args+=(--zone "$DATA/big.zone")
  else
    xfr_args+=(--records "$records")
  fi
  [[ " ${active[*]} " == *" holdfast "* ]] && xfr_args+=(--holdfast "$holdfast")
  [ "$keep" = 1 ] && xfr_args+=(--keep)
  log "zone transfers: ${active[*]} as secondaries, $xfr_rounds round(s)"
  if ! bg_wait "$PY" "$HERE/xfr_bench.py" "${xfr_args[@]}" >"$T/xfr.txt"; then
    note xfr "the transfer benchmark failed (see the messages above)"
  fi
fi

[ -z "$results_copy" ] || cp "$RESULTS" "$results_copy"
log "done in ${SECONDS}s"
reported=0
if [ "$rounds" -gt 0 ] || [ "$big" = 1 ] || [ "$lb" = 1 ]; then
  "${TOOL[@]}" report --results "$RESULTS" --servers "$report_servers" --header "$header"
  reported=1
fi
if [ "$xfr" = 1 ] && [ -s "$T/xfr.txt" ]; then
  [ "$reported" = 0 ] || echo
  cat "$T/xfr.txt"
fi
