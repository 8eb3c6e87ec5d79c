#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Measurement helpers for scripts/bench.sh: free ports, startup timing, dnsperf runs with the
server's CPU time from /proc, memory from smaps_rollup, and the final report.

Subcommands print one line of key=value pairs (or the report) on stdout; diagnostics go to stderr.
"""
import argparse
import os
import random
import re
import select
import socket
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# /proc: a server is measured as its whole process tree (nsd forks a serving child and xfrd).

def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append(int(d))
    return kids


def process_tree(pid):
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_ticks(pid):
    """utime + stime of one process: the kernel sums all its threads, live and exited."""
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    fields = st[st.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def tree_cpu_seconds(pid):
    total = 0
    for p in process_tree(pid):
        try:
            total += cpu_ticks(p)
        except OSError:
            pass
    return total / CLK_TCK


def core_ticks(core):
    """(busy, irq+softirq, total) ticks of one core from /proc/stat; steal counts as busy."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                v = [int(x) for x in line.split()[1:9]]
                user, nice, system, idle, iowait, irq, softirq, steal = v
                return sum(v) - idle - iowait, irq + softirq, sum(v)
    raise RuntimeError(f"cpu{core} not in /proc/stat")


def smaps_rollup_kib(pid):
    vals = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            m = re.match(r"^(\w+):\s+(\d+) kB", line)
            if m:
                vals[m.group(1)] = int(m.group(2))
    return vals


# ---------------------------------------------------------------------------------------------

def cmd_freeport(args):
    """A port free for both UDP and TCP on the address, outside the ephemeral range."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 30000)
        socks = []
        try:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind((args.addr, port))
            print(port)
            return 0
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    print("benchtool: no free port", file=sys.stderr)
    return 1


def build_query(name, qid):
    import dns.message
    import dns.rdatatype
    q = dns.message.make_query(name, dns.rdatatype.A)
    q.id = qid
    q.flags &= ~0x0100  # no RD: an authoritative server's answer should not depend on it
    return q.to_wire()


def answer_ok(wire, addr):
    import dns.message
    import dns.rcode
    import dns.rdatatype
    try:
        m = dns.message.from_wire(wire)
    except Exception:
        return False
    if m.rcode() != dns.rcode.NOERROR or not (m.flags & 0x0400):  # AA
        return False
    for rrset in m.answer:
        if rrset.rdtype == dns.rdatatype.A and any(r.address == addr for r in rrset):
            return True
    return False


def cmd_wait_answer(args):
    """Release the gated server (open + write the FIFO), then poll until a correct answer.

    t0 is taken immediately before the gate opens, so the figure covers exec, config parsing,
    zone loading and socket setup: everything from process start to the first correct answer.
    """
    import dns.message  # noqa: F401  (import before t0: its cost must not count)
    wires = [build_query(args.name, qid) for qid in range(1, 65536, 97)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((args.server, args.port))
    gate = open(args.gate, "w")  # blocks until the gated shell opens it for reading
    t0 = time.monotonic()
    gate.write("go\n")
    gate.close()
    deadline = t0 + args.timeout
    n = 0
    while True:
        now = time.monotonic()
        if now > deadline:
            print(f"benchtool: no correct answer after {args.timeout}s", file=sys.stderr)
            return 1
        if args.pid and not os.path.exists(f"/proc/{args.pid}"):
            print("benchtool: server exited before answering", file=sys.stderr)
            return 1
        try:
            sock.send(wires[n % len(wires)])
            n += 1
            # Wait up to `interval` for this probe (a late answer to an earlier probe counts
            # too); a wrong answer (e.g. SERVFAIL while loading) means probe again after 1 ms.
            end = time.monotonic() + args.interval
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([sock], [], [], left)
                if not r:
                    break
                if answer_ok(sock.recv(65535), args.addr):
                    print(f"seconds={time.monotonic() - t0:.4f} probes={n}")
                    return 0
                time.sleep(0.001)
                break
        except ConnectionRefusedError:
            time.sleep(0.001)  # not bound yet (ICMP port unreachable)


def parse_dnsperf(text):
    out = {}
    pats = {
        "sent": r"Queries sent:\s+(\d+)",
        "completed": r"Queries completed:\s+(\d+)",
        "lost": r"Queries lost:\s+(\d+)",
        "qps": r"Queries per second:\s+([\d.]+)",
        "runtime": r"Run time \(s\):\s+([\d.]+)",
        "avg_resp": r"Average packet size:\s+request \d+, response (\d+)",
        "avg_lat": r"Average Latency \(s\):\s+([\d.]+)",
    }
    for k, p in pats.items():
        m = re.search(p, text)
        if m:
            out[k] = m.group(1)
    m = re.search(r"Response codes:\s+(.*)", text)
    if m:
        # "NOERROR 1797 (89.85%), NXDOMAIN 203 (10.15%)" -> NOERROR:89.9,NXDOMAIN:10.2
        codes = re.findall(r"(\w+) \d+ \(([\d.]+)%\)", m.group(1))
        out["rcodes"] = ",".join(f"{c}:{float(p):.1f}" for c, p in codes)
    return out


def cmd_perf(args):
    """Run dnsperf (pinned) against a server; report QPS and the server's CPU per query."""
    cmd = ["taskset", "-c", str(args.client_cpu), "dnsperf", "-s", args.server,
           "-p", str(args.port), "-d", args.queries, "-m", args.mode,
           "-c", str(args.clients), "-q", str(args.outstanding), "-T", "1",
           "-t", str(args.query_timeout), "-O", "suppress=timeout,unexpected"]
    if args.duration:
        cmd += ["-l", str(args.duration)]
    if args.maxruns:
        cmd += ["-n", str(args.maxruns)]
    if args.dnssec:
        cmd.append("-D")  # DO bit (and EDNS)
    cpu0 = tree_cpu_seconds(args.pid)
    srv_core0, cli_core0 = core_ticks(args.server_cpu), core_ticks(args.client_cpu)
    w0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    text = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - w0
    cpu1 = tree_cpu_seconds(args.pid)
    srv_core1, cli_core1 = core_ticks(args.server_cpu), core_ticks(args.client_cpu)
    if args.log:
        with open(args.log, "a") as f:
            f.write(" ".join(cmd) + "\n" + text + "\n")
    res = parse_dnsperf(text)
    if os.waitstatus_to_exitcode(status) != 0 or "completed" not in res:
        print(f"benchtool: dnsperf failed:\n{text}", file=sys.stderr)
        return 1
    completed = int(res["completed"])
    srv = cpu1 - cpu0
    runtime = float(res.get("runtime", wall))
    cli = ru.ru_utime + ru.ru_stime
    # Per core: busy time that is neither the pinned process nor interrupt work is someone
    # else's (another job on the machine, or the hypervisor's steal): the noise indicator.
    d = [(a1 - a0) for a0, a1 in zip(srv_core0, srv_core1)]
    e = [(a1 - a0) for a0, a1 in zip(cli_core0, cli_core1)]
    srv_other = max(0.0, (d[0] - d[1]) / CLK_TCK - srv) / max(d[2] / CLK_TCK, 1e-9)
    cli_other = max(0.0, (e[0] - e[1]) / CLK_TCK - cli) / max(e[2] / CLK_TCK, 1e-9)
    per_q = (1e6 / completed) if completed else float("nan")
    res.update({
        "server_cpu_s": f"{srv:.3f}",
        "us_per_q": f"{srv * per_q:.3f}",
        # Interrupt time on the server's core (loopback delivery of its replies, TCP acks) is
        # not charged to any process; reported beside us_per_q, not added to it.
        "softirq_us_per_q": f"{d[1] / CLK_TCK * per_q:.3f}",
        "server_util": f"{100 * srv / runtime:.0f}",
        "client_util": f"{100 * cli / wall:.0f}",
        "srv_core_other": f"{100 * srv_other:.0f}",
        "cli_core_other": f"{100 * cli_other:.0f}",
    })
    print(" ".join(f"{k}={v}" for k, v in res.items()))
    return 0


def cmd_lb_check(args):
    """Ask one name N times (A, UDP) and count each address answered: a managed weighted name
    must give each member exactly its share (one worker, so one selector), a static name its
    one address every time. A fast wrong answer means nothing, so this runs before timing."""
    import dns.message
    import dns.query
    import dns.rdatatype
    want = dict((a, int(n)) for a, n in (x.split("=") for x in args.expect.split(",")))
    got = {}
    for _ in range(args.n):
        r = dns.query.udp(dns.message.make_query(args.name, dns.rdatatype.A), args.server,
                          port=args.port, timeout=2)
        addrs = sorted(x.address for rrs in r.answer if rrs.rdtype == dns.rdatatype.A
                       for x in rrs)
        key = "+".join(addrs) or "none"
        got[key] = got.get(key, 0) + 1
    shares = ",".join(f"{a}:{n}" for a, n in sorted(got.items()))
    print(f"name={args.name} answers={args.n} shares={shares} ok={int(got == want)}")
    return 0


def cmd_mem(args):
    """RSS of the largest process and PSS summed over the tree (PSS shares what is shared)."""
    rss_max = pss_sum = rss_sum = 0
    for p in process_tree(args.pid):
        try:
            v = smaps_rollup_kib(p)
        except OSError:
            continue
        rss_max = max(rss_max, v.get("Rss", 0))
        rss_sum += v.get("Rss", 0)
        pss_sum += v.get("Pss", 0)
    print(f"rss_kib={rss_max} rss_sum_kib={rss_sum} pss_kib={pss_sum} "
          f"procs={len(process_tree(args.pid))}")
    return 0


def cmd_tree(args):
    print(" ".join(str(p) for p in process_tree(args.pid)))
    return 0


# ---------------------------------------------------------------------------------------------
# Report: bench.sh appends "server<TAB>kind<TAB>key=value ..." lines to a results file.

def load_results(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            kv = dict(x.split("=", 1) for x in parts[2].split() if "=" in x)
            rows.append((parts[0], parts[1], kv))
    return rows


def median_of(rows, server, kind, key):
    vals = [float(kv[key]) for s, k, kv in rows if s == server and k == kind and key in kv]
    return statistics.median(vals) if vals else None


def first_of(rows, server, kind, key):
    for s, k, kv in rows:
        if s == server and k == kind and key in kv:
            return kv[key]
    return None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


PLAIN_KINDS = {"udp", "tcp", "mem_load", "mem_restart", "start_100k", "start_1m_load",
               "start_1m_restart"}
DNSSEC_MODES = {"nsec3": "NSEC3 (SHA-1, 0 extra iterations, no salt, no opt-out)",
                "nsec": "NSEC"}


def plain_report(rows, servers, out):
    base = median_of(rows, "knotd", "udp", "us_per_q")
    head = ["server", "udp_qps", "udp_us/q", "tcp_qps", "tcp_us/q", "ratio_cpu_udp",
            "rss_1M_MiB", "pss_1M_MiB", "first_answer_s"]
    table = []
    for s in servers:
        udp_us = median_of(rows, s, "udp", "us_per_q")
        rss = first_of(rows, s, "mem_load", "rss_kib")
        pss = first_of(rows, s, "mem_load", "pss_kib")
        fa = first_of(rows, s, "start_1m_restart", "seconds")
        table.append([
            s,
            fmt(median_of(rows, s, "udp", "qps"), ".0f"),
            fmt(udp_us, ".2f"),
            fmt(median_of(rows, s, "tcp", "qps"), ".0f"),
            fmt(median_of(rows, s, "tcp", "us_per_q"), ".2f"),
            fmt(udp_us / base if (udp_us is not None and base) else None, ".2f"),
            fmt(int(rss) / 1024 if rss else None, ".0f"),
            fmt(int(pss) / 1024 if pss else None, ".0f"),
            fmt(float(fa) if fa else None, ".3f"),
        ])
    out += align([head] + table)
    rrl_line(rows, out)

    # Details: what makes the headline numbers trustworthy (or not).
    out.append("")
    out.append("# throughput details (medians over rounds; util% = CPU s / run s of one core; "
               "other% = that core's time used by other processes)")
    dhead = ["server", "proto", "qps", "us/q", "us/q_by_round", "softirq_us/q", "srv_util%",
             "dnsperf_util%", "srv_core_other%", "client_core_other%", "lost", "resp_bytes"]
    drows = []
    others = []
    for s in servers:
        for proto in ("udp", "tcp"):
            by_round = [kv["us_per_q"] for x, k, kv in rows if x == s and k == proto]
            if not by_round:
                continue
            med = {key: median_of(rows, s, proto, key) for key in
                   ("qps", "us_per_q", "softirq_us_per_q", "server_util", "client_util",
                    "srv_core_other", "cli_core_other", "lost", "avg_resp")}
            others += [v for v in (med["srv_core_other"], med["cli_core_other"]) if v is not None]
            drows.append([s, proto, fmt(med["qps"], ".0f"), fmt(med["us_per_q"], ".2f"),
                          "/".join(f"{float(x):.2f}" for x in by_round),
                          fmt(med["softirq_us_per_q"], ".2f"), fmt(med["server_util"], ".0f"),
                          fmt(med["client_util"], ".0f"), fmt(med["srv_core_other"], ".0f"),
                          fmt(med["cli_core_other"], ".0f"), fmt(med["lost"], ".0f"),
                          fmt(med["avg_resp"], ".0f")])
    if drows:
        out += align([dhead] + drows)
    if others and max(others) >= 10:
        out.append(f"# warning: other processes took up to {max(others):.0f}% of a benchmark "
                   "core: QPS is not comparable between servers; CPU per query holds up better")

    out.append("")
    out.append("# startup and memory details (load = empty state; restart = state kept)")
    shead = ["server", "load_100k_s", "load_1M_s", "restart_1M_s", "rss_load_MiB",
             "pss_load_MiB", "rss_restart_MiB", "pss_restart_MiB"]
    srows = []
    for s in servers:
        def mib(kind, key):
            v = first_of(rows, s, kind, key)
            return fmt(int(v) / 1024 if v else None, ".0f")

        def secs(kind):
            v = first_of(rows, s, kind, "seconds")
            return fmt(float(v) if v else None, ".3f")
        srows.append([s, secs("start_100k"), secs("start_1m_load"), secs("start_1m_restart"),
                      mib("mem_load", "rss_kib"), mib("mem_load", "pss_kib"),
                      mib("mem_restart", "rss_kib"), mib("mem_restart", "pss_kib")])
    out += align([shead] + srows)

    out.append("")
    out.append("# response codes (first round) -- should match across servers and protocols")
    ref = None
    for s in servers:
        for proto in ("udp", "tcp"):
            codes = first_of(rows, s, proto, "rcodes")
            flag = ""
            if codes and ref is None:
                ref = (f"{s} {proto}", rcode_mix(codes))
            elif codes and rcode_differs(ref[1], rcode_mix(codes)):
                flag = f"   <-- differs from {ref[0]}: check answers before trusting the speed"
            out.append(f"{s:<9} {proto}  {codes or '-'}{flag}")


def rrl_line(rows, out):
    """--rrl: UDP CPU per query of holdfast with server.rrl on (nobody over the limit) over
    holdfast without it, per round (the two run back to back) and of the medians."""
    def by_round(server):
        return {kv.get("round"): float(kv["us_per_q"]) for s, k, kv in rows
                if s == server and k == "udp" and "us_per_q" in kv}
    on, off = by_round("holdfast-rrl"), by_round("holdfast")
    rounds = [r for r in on if r in off and off[r] > 0]
    if not rounds:
        return
    ratios = [on[r] / off[r] for r in rounds]
    med = statistics.median(on.values()) / statistics.median(off.values())
    verdict = "met" if med <= 1.05 else "NOT met"
    out.append(f"# holdfast rrl: UDP us/q with server.rrl on / off = {med:.3f}x (medians; by "
               f"round {'/'.join(f'{x:.3f}' for x in ratios)}); goal <= 1.05x: {verdict}")


def dnssec_report(rows, servers, mode, out):
    """The signed-zone table: DO-bit queries over UDP, the same columns as the UDP table."""
    kind, check, start = f"dnssec_{mode}", f"dnssec_{mode}_check", f"start_{mode}"
    base_qps = median_of(rows, "knotd", kind, "qps")
    base_us = median_of(rows, "knotd", kind, "us_per_q")
    signed = first_of(rows, "sign", f"sign_{mode}", "seconds")
    how = ("" if signed is None else "; signed zone from the cache"
           if first_of(rows, "sign", f"sign_{mode}", "cached") == "1"
           else f"; signed in {float(signed):.0f} s")
    out.append(f"# signed zone, {DNSSEC_MODES[mode]}, ECDSA P-256{how}")
    out.append("# DO-bit queries over UDP (dnsperf -D), the same query mix as the UDP table; "
               "medians over rounds; ratios to knotd")
    head = ["server", "qps", "us/q", "ratio_qps", "ratio_cpu", "us/q_by_round", "softirq_us/q",
            "srv_util%", "dnsperf_util%", "srv_core_other%", "client_core_other%",
            "resp_bytes", "load_s", "dnssec_answers"]
    table, others, verdicts = [], [], {}
    for s in servers:
        qps = median_of(rows, s, kind, "qps")
        us = median_of(rows, s, kind, "us_per_q")
        by_round = [kv["us_per_q"] for x, k, kv in rows if x == s and k == kind]
        med = {key: median_of(rows, s, kind, key) for key in
               ("softirq_us_per_q", "server_util", "client_util", "srv_core_other",
                "cli_core_other", "avg_resp")}
        others += [v for v in (med["srv_core_other"], med["cli_core_other"]) if v is not None]
        ok = first_of(rows, s, check, "ok")
        if ok is None:
            verdict = "-"
        elif ok == "1":
            verdict = f"ok ({first_of(rows, s, check, 'checked')} checked)"
        else:
            verdict = (f"BAD: {first_of(rows, s, check, 'bad')}/"
                       f"{first_of(rows, s, check, 'checked')} "
                       f"({first_of(rows, s, check, 'failing') or '?'})")
        verdicts[s] = ok
        load = first_of(rows, s, start, "seconds")
        if qps is None and ok is None and load is None:
            continue
        table.append([
            s, fmt(qps, ".0f"), fmt(us, ".2f"),
            fmt(qps / base_qps if (qps is not None and base_qps) else None, ".2f"),
            fmt(us / base_us if (us is not None and base_us) else None, ".2f"),
            "/".join(f"{float(x):.2f}" for x in by_round) or "-",
            fmt(med["softirq_us_per_q"], ".2f"), fmt(med["server_util"], ".0f"),
            fmt(med["client_util"], ".0f"), fmt(med["srv_core_other"], ".0f"),
            fmt(med["cli_core_other"], ".0f"), fmt(med["avg_resp"], ".0f"),
            fmt(float(load) if load else None, ".3f"), verdict])
    out += align([head] + table)
    if others and max(others) >= 10:
        out.append(f"# warning: other processes took up to {max(others):.0f}% of a benchmark "
                   "core: QPS is not comparable between servers; CPU per query holds up better")
    if "holdfast" in servers:
        hf = median_of(rows, "holdfast", kind, "qps")
        if hf is None or not base_qps:
            line = "not measured (needs holdfast and knotd)"
        else:
            r = hf / base_qps
            if verdicts.get("holdfast") == "1":
                line = f"{'met' if r >= 1.0 else 'NOT met'} ({r:.2f}x)"
            else:
                line = (f"NOT met: holdfast's DO answers fail the DNSSEC check (dnssec_answers), "
                        f"so its {r:.2f}x does not count")
        out.append(f"# holdfast goal: signed DO QPS >= 1.0x knotd: {line}")
    out.append(f"# response codes, signed {mode.upper()} (first round)")
    ref = None
    for s in servers:
        codes = first_of(rows, s, kind, "rcodes")
        if codes is None:
            continue
        flag = ""
        if ref is None:
            ref = (s, rcode_mix(codes))
        elif rcode_differs(ref[1], rcode_mix(codes)):
            flag = f"   <-- differs from {ref[0]}: check answers before trusting the speed"
        out.append(f"{s:<9} {codes}{flag}")


def lb_report(rows, out):
    """--lb: server CPU per A query for a static name and a managed weighted name of the same
    zone on the same holdfast (rounds alternate), the health checker's CPU per probe, and the
    failover times."""
    names = {k: first_of(rows, "holdfast", k, "name") for k in ("lb_static", "lb_weighted")}
    if any(k in ("lb_static", "lb_weighted") for _, k, _ in rows):
        out.append("# traffic management: one holdfast, one worker, A queries for one name per"
                   " run, rounds alternating static/weighted")
        table = [["name", "kind", "qps", "us/q", "softirq_us/q", "us/q by round"]]
        for k in ("lb_static", "lb_weighted"):
            per = [kv["us_per_q"] for s, kk, kv in rows if kk == k and "us_per_q" in kv]
            table.append([names[k] or "-", k[3:],
                          fmt(median_of(rows, "holdfast", k, "qps"), ".0f"),
                          fmt(median_of(rows, "holdfast", k, "us_per_q"), ".3f"),
                          fmt(median_of(rows, "holdfast", k, "softirq_us_per_q"), ".3f"),
                          "/".join(per) or "-"])
        out.extend(align(table))
        st = median_of(rows, "holdfast", "lb_static", "us_per_q")
        we = median_of(rows, "holdfast", "lb_weighted", "us_per_q")
        if st and we:
            by = {}
            for _, k, kv in rows:
                if k in ("lb_static", "lb_weighted") and "us_per_q" in kv:
                    by.setdefault(kv.get("round"), {})[k] = float(kv["us_per_q"])
            ratios = [v["lb_weighted"] / v["lb_static"] for v in by.values()
                      if "lb_static" in v and "lb_weighted" in v and v["lb_static"] > 0]
            verdict = "met" if we / st <= 1.1 else "NOT met"
            out.append(f"# holdfast lb: weighted/static us/q = {we / st:.3f}x (medians; by round "
                       f"{'/'.join(f'{x:.3f}' for x in ratios)}); goal <= 1.1x: {verdict}")
        for _, k, kv in rows:
            if k == "lb_check":
                out.append(f"# answer check: {kv.get('name')} x{kv.get('answers')}: "
                           f"{kv.get('shares')} ({'ok' if kv.get('ok') == '1' else 'WRONG'})")
    probes = [kv for _, k, kv in rows if k == "lb_probe"]
    if probes:
        if len(out) > 1:
            out.append("")
        p0 = probes[0]
        out.append(f"# health checker (lb_probe_bench, own network namespace, one nginx): "
                   f"{p0.get('targets')} targets every {p0.get('interval_ms')} ms, CPU of the "
                   f"checking process")
        table = [["check", "probes", "probes/s", "cpu_us/probe", "user_us", "sys_us",
                  "latency_ms", "failed", "reasons"]]
        known = {"type", "targets", "interval_ms", "wall_s", "probes", "probes_per_s", "cpu_s",
                 "cpu_us_per_probe", "user_us_per_probe", "sys_us_per_probe",
                 "mean_latency_ms", "ok"}
        for kv in probes:
            n = int(kv.get("probes", 0))
            why = ",".join(f"{k}:{v}" for k, v in kv.items() if k not in known)
            table.append([kv.get("type", "?"), str(n), kv.get("probes_per_s", "-"),
                          kv.get("cpu_us_per_probe", "-"), kv.get("user_us_per_probe", "-"),
                          kv.get("sys_us_per_probe", "-"), kv.get("mean_latency_ms", "-"),
                          str(n - int(kv.get("ok", 0))), why or "-"])
        out.extend(align(table))
        http = [float(kv["cpu_us_per_probe"]) for kv in probes
                if kv.get("type") == "http" and "cpu_us_per_probe" in kv]
        if http:
            verdict = "met" if http[0] <= 50 else "NOT met"
            out.append(f"# holdfast lb: HTTP probe CPU {http[0]:.1f} us/probe; goal <= 50 us: "
                       f"{verdict}")
    for _, k, kv in rows:
        if k != "lb_failover":
            continue
        if len(out) > 1:
            out.append("")
        out.append(f"# failover (policy failover, http check interval {kv.get('interval_s')} s, "
                   f"timeout {kv.get('timeout_s')} s, fall {kv.get('fall')}, rise "
                   f"{kv.get('rise')}; DNS polled every {kv.get('poll_s')} s)")
        table = [["event", "seconds (each repeat)", "median", "max", "bound_s", "within"]]
        for ev, key, bound in (("503 -> backup answered", "down_s", "bound_down_s"),
                               ("200 -> primary answered", "up_s", "bound_up_s")):
            vals = [float(x) for x in kv.get(key, "-").split(",") if x not in ("-", "")]
            b = float(kv.get(bound, "nan"))
            table.append([ev, kv.get(key, "-"),
                          fmt(statistics.median(vals) if vals else None, ".2f"),
                          fmt(max(vals) if vals else None, ".2f"), f"{b:g}",
                          ("yes" if max(vals) <= b else "NO") if vals else "-"])
        out.extend(align(table))


def cmd_report(args):
    rows = load_results(args.results)
    servers = [s for s in args.servers.split(",") if s]
    out = [f"# {args.header}"]
    if any(k in PLAIN_KINDS for _, k, _ in rows):
        plain_report(rows, servers, out)
    for mode in DNSSEC_MODES:
        if any(k == f"dnssec_{mode}" or k == f"dnssec_{mode}_check" for _, k, _ in rows):
            if len(out) > 1:
                out.append("")
            dnssec_report(rows, servers, mode, out)
    if any(k.startswith("lb_") for _, k, _ in rows):
        if len(out) > 1:
            out.append("")
        lb_report(rows, out)
    with open(args.results) as f:
        for line in f:
            if "\tnote\t" in line:
                s, _, msg = line.rstrip("\n").split("\t", 2)
                out.append(f"# note: {s}: {msg}")
    print("\n".join(out))
    return 0


def rcode_mix(text):
    return {c: float(p) for c, p in (x.split(":") for x in text.split(","))}


def rcode_differs(a, b):
    """More than one percentage point apart on any rcode (dnsperf's mix is sampled)."""
    return any(abs(a.get(k, 0) - b.get(k, 0)) > 1.0 for k in set(a) | set(b))


def align(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                      enumerate(zip(r, widths))).rstrip() for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("freeport")
    p.add_argument("--addr", default="127.0.0.1")
    p.set_defaults(fn=cmd_freeport)

    p = sub.add_parser("wait-answer")
    p.add_argument("--gate", required=True)
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--addr", required=True)
    p.add_argument("--pid", type=int)
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--interval", type=float, default=0.005)
    p.set_defaults(fn=cmd_wait_answer)

    p = sub.add_parser("perf")
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--mode", default="udp", choices=["udp", "tcp"])
    p.add_argument("--duration", type=float)
    p.add_argument("--maxruns", type=int)
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--outstanding", type=int, default=100)
    p.add_argument("--query-timeout", type=float, default=2)
    p.add_argument("--dnssec", action="store_true", help="set the DO bit (dnsperf -D)")
    p.add_argument("--client-cpu", default="1")
    p.add_argument("--server-cpu", default="0")
    p.add_argument("--log")
    p.set_defaults(fn=cmd_perf)

    p = sub.add_parser("lb-check")
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--n", type=int, default=50, help="queries")
    p.add_argument("--expect", required=True, help="ADDR=COUNT,... (exact counts)")
    p.set_defaults(fn=cmd_lb_check)

    p = sub.add_parser("mem")
    p.add_argument("--pid", type=int, required=True)
    p.set_defaults(fn=cmd_mem)

    p = sub.add_parser("tree")
    p.add_argument("--pid", type=int, required=True)
    p.set_defaults(fn=cmd_tree)

    p = sub.add_parser("report")
    p.add_argument("--results", required=True)
    p.add_argument("--servers", required=True)
    p.add_argument("--header", default="")
    p.set_defaults(fn=cmd_report)

    args = ap.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
