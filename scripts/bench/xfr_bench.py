#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Zone transfer benchmark: holdfast, knotd and nsd as secondaries of one knotd master.

Each secondary in turn (fresh state every time, the order rotating over rounds):

  (a) AXFR start-to-served: the time from exec of the secondary to its first authoritative SOA
      answer with the master's serial for the big zone (a fresh state dir, so it is an AXFR), and
      its peak RSS (VmHWM from /proc/PID/status, the largest process of its session).
  (b) NOTIFY-to-served lag: once the secondary is idle, one record (canary A) is changed on the
      master with `knotc zone-begin/zone-unset/zone-set/zone-commit` (knotd bumps the serial and
      sends NOTIFY at once); the lag runs from `knotc zone-commit` returning to the secondary
      answering both the new SOA serial and the new address. Several changes per round, each
      at least --change-gap seconds after the previous one was served.

The master is a separate knotd (zonefile-load: difference, journal-content: changes, so it can
serve IXFR), pinned to --master-cpu; the secondary is pinned to --server-cpu. Everything runs on
127.0.0.1; all secondaries take turns on one port, the one the master notifies.

The table goes to stdout, progress to stderr. --results FILE appends raw lines
("server<TAB>kind<TAB>key=value ...", kinds xfr_axfr, xfr_notify, xfr_note) in bench.sh's format.
Every process started here runs in its own session and is killed on exit, errors and signals
included; this process is also their subreaper, so nothing they fork escapes.
"""
import argparse
import ctypes
import os
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORIGIN = "bench.example."
CANARY = "canary." + ORIGIN
CANARY_ADDR = "198.51.100.77"  # gen_zone.py's canary; the changes in (b) move it
SERVERS = ("knotd", "nsd", "nsd-db", "holdfast")
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def log(msg):
    print(f"[xfr {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Stop(BaseException):
    """A signal arrived: unwind, so that `finally` kills everything."""


def on_signal(signum, _frame):
    raise Stop(f"signal {signum}")


# ---------------------------------------------------------------------------------------------
# Processes: each server runs in its own session (so its whole family can be found and killed),
# pinned to one core, with SIGKILL as its parent-death signal.

_libc = ctypes.CDLL(None, use_errno=True)


def _child_setup(cpu):
    def setup():
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
    return setup


def proc_stat(pid):
    """(state, ppid, session) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return None
    fields = st[st.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[3])


def proc_ticks(pid):
    """CPU ticks of a process and of the children it has reaped (nsd's reload processes)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return 0
    fields = st[st.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
    return sum(int(x) for x in fields[11:15])


def core_ticks(core):
    """(busy, irq+softirq, total) ticks of one core from /proc/stat; steal counts as busy."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{core} "):
                v = [int(x) for x in line.split()[1:9]]
                return sum(v) - v[3] - v[4], v[5] + v[6], sum(v)
    return 0, 0, 0


class Noise:
    """Share of the benchmark cores used by processes other than ours (a compile job...): busy
    time minus interrupts minus what the secondary, the master and this script used."""

    def __init__(self, bench, cores):
        self.bench, self.sec_sid, self.cores = bench, None, cores
        self.start = self.snap()

    def snap(self):
        ours = sum(proc_ticks(p) for p in session_pids(self.sec_sid)) if self.sec_sid else 0
        ours += sum(proc_ticks(p) for p in session_pids(self.bench.master.pid))
        t = os.times()
        ours += int(round((t.user + t.system + t.children_user + t.children_system)
                          * os.sysconf("SC_CLK_TCK")))
        return [core_ticks(c) for c in self.cores], ours

    def other_pct(self):
        """Since the last call (or creation)."""
        end = self.snap()
        (c0, o0), (c1, o1) = self.start, end
        self.start = end
        busy = sum(b[0] - a[0] - (b[1] - a[1]) for a, b in zip(c0, c1))
        total = sum(b[2] - a[2] for a, b in zip(c0, c1))
        return 100.0 * max(0, busy - (o1 - o0)) / max(total, 1)


def session_pids(sid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = proc_stat(int(d))
            if s and s[2] == sid:
                out.append(int(d))
    return out


class Procs:
    def __init__(self):
        self.live = {}  # pid -> Popen

    def start(self, cmd, cpu, logpath):
        with open(logpath, "ab") as logf:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, start_new_session=True,
                                 preexec_fn=_child_setup(cpu))
        self.live[p.pid] = p
        return p

    def reap_orphans(self):
        """As subreaper we inherit what servers fork and abandon; reap those once they exit."""
        me = os.getpid()
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) not in self.live:
                s = proc_stat(int(d))
                if s and s[0] == "Z" and s[1] == me:
                    try:
                        os.waitpid(int(d), os.WNOHANG)
                    except ChildProcessError:
                        pass

    def stop(self, p, grace=20.0):
        """SIGTERM, wait up to `grace`, then SIGKILL the whole session. Returns the exit code
        (None if it had to be killed)."""
        code = p.poll()
        if code is None:
            try:
                p.send_signal(signal.SIGTERM)
                code = p.wait(grace)
            except subprocess.TimeoutExpired:
                log(f"pid {p.pid} ignored SIGTERM for {grace:.0f}s; killing")
                code = None
        self.kill_session(p.pid)
        if p.poll() is None:
            p.wait()
        self.live.pop(p.pid, None)
        return code

    def kill_session(self, sid):
        for _ in range(50):
            pids = [x for x in session_pids(sid) if (proc_stat(x) or ("Z",))[0] != "Z"]
            if not pids:
                break
            for x in pids:
                try:
                    os.kill(x, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
        self.reap_orphans()

    def kill_all(self):
        for pid, p in list(self.live.items()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.kill_session(pid)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.live.clear()


# ---------------------------------------------------------------------------------------------
# Memory of a server's session: VmHWM (the kernel's peak RSS) per process, last value read before
# the process exits; the peak of the summed VmRSS over the session as a detail.

def status_kib(pid):
    vals = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:", "RssAnon:", "RssFile:", "RssShmem:")):
                    k, v = line.split(":", 1)
                    vals[k] = int(v.split()[0])
    except OSError:
        pass
    return vals


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemWatch:
    """Samples a server's session: VmHWM/VmRSS (cheap) at every call, the process list every
    0.1 s, PSS (smaps_rollup walks the page tables) every 0.2 s."""

    def __init__(self, sid):
        self.sid = sid
        self.hwm = {}
        self.tree_rss_peak = 0
        self.tree_pss_peak = 0
        self.pids = [sid]
        self.scan_at = 0.0
        self.pss_at = 0.0
        self.last = {}

    def sample(self, force=False, cheap=False):
        """cheap: only the status files of the processes already known (while timing a change,
        where a /proc scan or a page-table walk would add milliseconds)."""
        now = time.monotonic()
        full = force or not cheap
        if full and (force or now - self.scan_at >= 0.1):
            self.pids = session_pids(self.sid) or [self.sid]
            self.scan_at = now
        if full and (force or now - self.pss_at >= 0.2):
            self.tree_pss_peak = max(self.tree_pss_peak, sum(pss_kib(p) for p in self.pids))
            self.pss_at = now
        total = 0
        last = {"RssAnon": 0, "RssFile": 0, "RssShmem": 0}
        for pid in self.pids:
            v = status_kib(pid)
            if "VmHWM" in v:
                self.hwm[pid] = max(self.hwm.get(pid, 0), v["VmHWM"])
            total += v.get("VmRSS", 0)
            for k in last:
                last[k] += v.get(k, 0)
        self.tree_rss_peak = max(self.tree_rss_peak, total)
        self.last = last

    def peak_kib(self):
        return max(self.hwm.values(), default=0)

    def cpu_ticks(self):
        return sum(proc_ticks(p) for p in session_pids(self.sid))


# ---------------------------------------------------------------------------------------------
# DNS over UDP (dnspython for the messages).

class Resolver:
    def __init__(self, port):
        import dns.message  # noqa: F401
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", port))
        self.qid = random.randrange(65536)

    def close(self):
        self.sock.close()

    def send(self, name, rdtype):
        import dns.message
        self.qid = (self.qid + 1) & 0xFFFF
        q = dns.message.make_query(name, rdtype)
        q.id = self.qid
        q.flags &= ~0x0100  # no RD
        try:
            self.sock.send(q.to_wire())
        except ConnectionRefusedError:
            pass  # an ICMP error from an earlier probe: nobody listens yet
        return self.qid

    def recv(self, timeout):
        """One message within `timeout` seconds, or None."""
        import dns.message
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            try:
                wire = self.sock.recv(65535)
            except ConnectionRefusedError:
                continue
            try:
                return dns.message.from_wire(wire)
            except Exception:
                continue

    def ask(self, name, rdtype, timeout=2.0, tries=3):
        for _ in range(tries):
            qid = self.send(name, rdtype)
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                m = self.recv(end - time.monotonic())
                if m is not None and m.id == qid:
                    return m
        return None


def authoritative(m):
    return m is not None and m.rcode() == 0 and bool(m.flags & 0x0400)


def soa_serial(m):
    """Serial of an authoritative SOA answer for the origin, else None."""
    import dns.rdatatype
    if not authoritative(m):
        return None
    for rrset in m.answer:
        if rrset.rdtype == dns.rdatatype.SOA and rrset.name.to_text().lower() == ORIGIN:
            return rrset[0].serial
    return None


def a_addrs(m):
    import dns.rdatatype
    if not authoritative(m):
        return set()
    return {r.address for rrset in m.answer if rrset.rdtype == dns.rdatatype.A for r in rrset}


# ---------------------------------------------------------------------------------------------
# Configurations.

def port_free(port):
    socks = []
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(avoid=()):
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 30000)
        if port not in avoid and port_free(port):
            return port
    raise RuntimeError("no free port")


def conf_master(d, port, zone, sec_port):
    os.makedirs(f"{d}/run", exist_ok=True)
    os.makedirs(f"{d}/db", exist_ok=True)
    with open(f"{d}/knot.conf", "w") as f:
        f.write(f"""server:
    rundir: "{d}/run"
    listen: 127.0.0.1@{port}
log:
  - target: stderr
    any: info
database:
    storage: "{d}/db"
control:
    listen: "{d}/knot.sock"
remote:
  - id: secondary
    address: 127.0.0.1@{sec_port}
acl:
  - id: transfer
    address: 127.0.0.1
    action: transfer
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    zonefile-load: difference
    journal-content: changes
    serial-policy: increment
zone:
  - domain: {ORIGIN}
    file: "{zone}"
    notify: secondary
    acl: transfer
""")
    return ["knotd", "-c", f"{d}/knot.conf"]


def conf_knotd(d, port, master_port, _args):
    # Like bench.sh's knotd: one UDP, one TCP and one background worker. Otherwise defaults,
    # so the zone is kept the default way: the zone file is written (zonefile-sync: 0) after
    # each transfer, changes go to the journal.
    os.makedirs(f"{d}/run", exist_ok=True)
    os.makedirs(f"{d}/state/db", exist_ok=True)
    with open(f"{d}/knot.conf", "w") as f:
        f.write(f"""server:
    rundir: "{d}/run"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{d}/state/db"
remote:
  - id: master
    address: 127.0.0.1@{master_port}
acl:
  - id: notify
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "{d}/state"
zone:
  - domain: {ORIGIN}
    master: master
    acl: notify
""")
    return ["knotd", "-c", f"{d}/knot.conf"]


def conf_nsd(d, port, master_port, _args, db=False):
    # As in bench.sh: one server process, minimal responses, no rate limiting.
    os.makedirs(f"{d}/state", exist_ok=True)
    database = f'"{d}/state/nsd.db"' if db else '""'
    with open(f"{d}/nsd.conf", "w") as f:
        f.write(f"""server:
    ip-address: 127.0.0.1@{port}
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{d}/state"
    database: {database}
    zonelistfile: "{d}/state/zone.list"
    xfrdfile: "{d}/state/xfrd.state"
    xfrdir: "{d}/state"
    pidfile: "{d}/nsd.pid"
    logfile: "{d}/nsd.log"
    verbosity: 2
    minimal-responses: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: {ORIGIN}
    zonefile: "{d}/state/{ORIGIN}zone"
    request-xfr: 127.0.0.1@{master_port} NOKEY
    allow-notify: 127.0.0.1 NOKEY
""")
    return ["nsd", "-d", "-c", f"{d}/nsd.conf"]


def conf_holdfast(d, port, master_port, args):
    with open(f"{d}/holdfast.yaml", "w") as f:
        f.write(f"""server:
  listen: ["127.0.0.1@{port}"]
  workers: 1
  storage: {d}/state/storage
log:
  level: info
masters:
  - id: master
    addresses: ["127.0.0.1@{master_port}"]
zones:
  - domain: {ORIGIN}
    masters: [master]
    refresh: 120s
""")
    os.makedirs(f"{d}/state", exist_ok=True)
    return [args.holdfast, "run", "-c", f"{d}/holdfast.yaml"]


CONF = {
    "knotd": conf_knotd,
    "nsd": conf_nsd,
    "nsd-db": lambda d, p, m, a: conf_nsd(d, p, m, a, db=True),
    "holdfast": conf_holdfast,
}


def server_logs(name, d):
    """Files to read the server's messages from."""
    return [f"{d}/server.log"] + ([f"{d}/nsd.log"] if name.startswith("nsd") else [])


def log_tail(name, d, n=12):
    lines = []
    for path in server_logs(name, d):
        try:
            with open(path, errors="replace") as f:
                lines += [f"  {os.path.basename(path)}: {x.rstrip()}" for x in f.readlines()[-n:]]
        except OSError:
            pass
    return "\n".join(lines)


def logged_axfr_seconds(name, d):
    """The server's own account of the AXFR duration, when it logs one (knotd, holdfast)."""
    pat = re.compile(r"AXFR, incoming.*?(\d+(?:\.\d+)?) ?(s|seconds|ms)\b")
    for path in server_logs(name, d):
        try:
            with open(path, errors="replace") as f:
                for line in f:
                    m = pat.search(line)
                    if m:
                        v = float(m.group(1))
                        return v / 1000 if m.group(2) == "ms" else v
        except OSError:
            pass
    return None


# ---------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.procs = Procs()
        self.rows = []  # (server, kind, dict)
        self.notes = []  # (server, text)
        self.master = None
        self.master_port = None
        self.sec_port = None
        self.canary_addr = CANARY_ADDR
        self.addr_seq = 0

    # --- results ---
    def record(self, server, kind, kv):
        self.rows.append((server, kind, kv))
        if self.args.results:
            with open(self.args.results, "a") as f:
                f.write(f"{server}\t{kind}\t" + " ".join(f"{k}={v}" for k, v in kv.items()) + "\n")

    def note(self, server, text):
        log(f"{server}: {text}")
        self.notes.append((server, text))
        if self.args.results:
            with open(self.args.results, "a") as f:
                f.write(f"{server}\txfr_note\t{text}\n")

    # --- master ---
    def knotc(self, *cmd):
        d = f"{self.work}/master"
        r = subprocess.run(["knotc", "-c", f"{d}/knot.conf", "-s", f"{d}/knot.sock", "-t", "30",
                            *cmd], stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"knotc {' '.join(cmd)}: {(r.stdout + r.stderr).strip()}")
        return r.stdout

    def start_master(self, zone):
        d = f"{self.work}/master"
        os.makedirs(d, exist_ok=True)
        self.master_port = free_port()
        self.sec_port = free_port(avoid={self.master_port})
        cmd = conf_master(d, self.master_port, zone, self.sec_port)
        cpu = self.args.master_cpu if self.args.master_cpu >= 0 else None
        log(f"master knotd on 127.0.0.1@{self.master_port} (core {cpu}), loading {zone}")
        t0 = time.monotonic()
        self.master = self.procs.start(cmd, cpu, f"{d}/server.log")
        res = Resolver(self.master_port)
        try:
            while True:
                if self.master.poll() is not None:
                    raise RuntimeError("master knotd exited:\n" + log_tail("knotd", d))
                if time.monotonic() - t0 > self.args.load_timeout:
                    raise RuntimeError("master knotd did not load the zone:\n"
                                       + log_tail("knotd", d))
                serial = soa_serial(res.ask(ORIGIN, "SOA", timeout=0.2, tries=1))
                if serial is not None:
                    break
                time.sleep(0.05)
        finally:
            res.close()
        log(f"master serves serial {serial} after {time.monotonic() - t0:.1f}s")
        # One AXFR out before the first secondary, so that it does not pay for the master's
        # first transfer (whatever the master sets up or faults in then).
        if shutil.which("kdig"):
            t1 = time.monotonic()
            r = subprocess.run(["kdig", "@127.0.0.1", "-p", str(self.master_port), "AXFR",
                                ORIGIN, "+noall", "+stats"], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=self.args.load_timeout,
                               preexec_fn=_child_setup(self.args.server_cpu))
            m = re.search(r"\((\d+) messages, (\d+) records\)", r.stdout)
            log(f"warm-up AXFR from the master: {m.group(2) if m else '?'} records in "
                f"{time.monotonic() - t1:.1f}s (kdig)")
        self.wait_idle(None, "master")

    def master_serial(self):
        res = Resolver(self.master_port)
        try:
            serial = soa_serial(res.ask(ORIGIN, "SOA"))
        finally:
            res.close()
        if serial is None:
            raise RuntimeError("master does not answer its SOA")
        return serial

    def change_canary(self):
        """One record changed on the master; returns (new address, t when knotc returned)."""
        self.addr_seq += 1
        new = f"198.51.100.{100 + self.addr_seq % 150}"
        self.knotc("zone-begin", ORIGIN)
        try:
            self.knotc("zone-unset", ORIGIN, CANARY, "A", self.canary_addr)
            self.knotc("zone-set", ORIGIN, CANARY, "3600", "A", new)
            self.knotc("zone-commit", ORIGIN)
        except Exception:
            try:
                self.knotc("zone-abort", ORIGIN)
            except Exception:
                pass
            raise
        t = time.monotonic()
        self.canary_addr = new
        return new, t

    # --- waiting ---
    def wait_idle(self, watch, what, quiet=0.5, limit=60.0):
        """Until the secondary's session and the master each used at most one clock tick over
        `quiet` seconds (a flush of the zone file after a transfer, a reload...). Returns the
        seconds waited."""
        t0 = time.monotonic()
        master_sid = self.master.pid

        def ticks():
            m = sum(proc_ticks(p) for p in session_pids(master_sid))
            return m, (watch.cpu_ticks() if watch else 0)
        prev = ticks()
        while time.monotonic() - t0 < limit:
            time.sleep(quiet)
            if watch:
                watch.sample(force=True)
            cur = ticks()
            if cur[0] - prev[0] <= 1 and cur[1] - prev[1] <= 1:
                return time.monotonic() - t0
            prev = cur
        self.note(what, f"not idle after {limit:.0f}s; measuring anyway")
        return time.monotonic() - t0

    # --- one secondary, one round ---
    def run_secondary(self, name, rnd):
        """(a) then (b) for one server; False if it never served the transferred zone."""
        a = self.args
        d = f"{self.work}/{name}-r{rnd + 1}"
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        t_wait = time.monotonic()
        while not port_free(self.sec_port):
            if time.monotonic() - t_wait > 10:
                raise RuntimeError(f"port {self.sec_port} still busy")
            time.sleep(0.1)
        cmd = CONF[name](d, self.sec_port, self.master_port, a)
        expected = self.master_serial()
        res = Resolver(self.sec_port)
        log(f"{name} (round {rnd + 1}): AXFR of serial {expected} on 127.0.0.1@{self.sec_port}")
        noise = Noise(self, sorted({a.server_cpu, max(a.master_cpu, 0)}))
        t0 = time.monotonic()
        p = self.procs.start(cmd, a.server_cpu, f"{d}/server.log")
        noise.sec_sid = p.pid
        watch = MemWatch(p.pid)
        kv = None
        try:
            # (a) start -> the master's serial served.
            served = self.poll_served(p, watch, res, t0, a.timeout, a.interval,
                                      lambda s, _addrs: s == expected, want_a=False)
            if served is None:
                why = (f"exited with code {p.poll()}" if p.poll() is not None
                       else f"nothing within {a.timeout:.0f}s")
                self.note(name, f"round {rnd + 1}: no authoritative SOA {expected} ({why})"
                          f"\n{log_tail(name, d)}")
                return False
            kv = {"round": rnd, "seconds": f"{served:.4f}", "peak_rss_kib": watch.peak_kib(),
                  "other_axfr_pct": f"{noise.other_pct():.0f}",
                  "tree_rss_kib": watch.tree_rss_peak, "tree_pss_kib": watch.tree_pss_peak,
                  "anon_kib": watch.last["RssAnon"],
                  "file_kib": watch.last["RssFile"] + watch.last["RssShmem"]}
            got = a_addrs(res.ask(CANARY, "A"))
            kv["canary_ok"] = int(self.canary_addr in got)
            if not kv["canary_ok"]:
                self.note(name, f"round {rnd + 1}: serves serial {expected} but {CANARY} A is "
                          f"{sorted(got) or 'missing'}, not {self.canary_addr}")
            xfr_s = logged_axfr_seconds(name, d)
            if xfr_s is not None:
                kv["logged_axfr_s"] = f"{xfr_s:.3f}"
            log(f"{name}: served after {served:.3f}s, peak RSS "
                f"{kv['peak_rss_kib'] / 1024:.0f} MiB"
                + (f" (its log: AXFR {xfr_s:.2f}s)" if xfr_s is not None else ""))
            kv["settle_s"] = f"{self.wait_idle(watch, name):.2f}"

            # (b) one-record changes, NOTIFY -> served.
            n = 0
            t_last = t0 + served
            for k in range(a.changes):
                # Changes spaced by --change-gap at least: nsd reloads at most once a second
                # (xfrd-reload-timeout), and back-to-back changes are not what this measures.
                time.sleep(max(0.0, t_last + a.change_gap - time.monotonic()))
                old = self.master_serial()
                new_addr, tc = self.change_canary()
                lag = self.poll_served(
                    p, watch, res, tc, a.change_timeout, a.notify_interval,
                    lambda s, addrs, old=old, new_addr=new_addr:
                        s is not None and s != old and new_addr in addrs, want_a=True)
                # Checked after the fact, so that this query is not inside the timed window.
                new_serial = self.master_serial()
                if lag is None:
                    why = (f"exited with code {p.poll()}" if p.poll() is not None
                           else f"not within {a.change_timeout:.0f}s")
                    self.note(name, f"round {rnd + 1}: change {k + 1} (serial {new_serial}) "
                              f"not served ({why})")
                    break
                s_now = soa_serial(res.ask(ORIGIN, "SOA"))
                if s_now != new_serial:
                    self.note(name, f"round {rnd + 1}: after change {k + 1} serves serial "
                              f"{s_now}, the master {new_serial}")
                n += 1
                t_last = time.monotonic()
                self.record(name, "xfr_notify", {"round": rnd, "change": k,
                                                 "ms": f"{lag * 1000:.2f}",
                                                 "serial": new_serial})
                log(f"{name}: change {k + 1}/{a.changes} (serial {new_serial}) served after "
                    f"{lag * 1000:.1f} ms")
                self.wait_idle(watch, name)
            watch.sample(force=True)
            kv["hwm_end_kib"] = watch.peak_kib()
            kv["changes_served"] = n
            kv["other_notify_pct"] = f"{noise.other_pct():.0f}"
            return kv
        finally:
            res.close()
            early = p.poll()
            code = self.procs.stop(p)
            if early is not None:
                if kv is not None and kv.get("changes_served") == a.changes:
                    self.note(name, f"round {rnd + 1}: exited by itself with code {early}")
            elif code is None:
                self.note(name, f"round {rnd + 1}: had to be killed")
            elif code != 0:
                self.note(name, f"round {rnd + 1}: exit code {code} after SIGTERM")
            if kv is not None:
                kv.setdefault("hwm_end_kib", watch.peak_kib())
                self.record(name, "xfr_axfr", kv)
            if not a.keep:
                shutil.rmtree(f"{d}/state", ignore_errors=True)

    def poll_served(self, p, watch, res, t0, timeout, interval, done, want_a):
        """Probe SOA (and canary A when want_a) every `interval` s until done(serial, addrs);
        seconds since t0, or None on timeout or exit. Memory is sampled along the way (only
        VmHWM/VmRSS while timing a change)."""
        serial, addrs = None, set()
        ids = {}
        last_sample = 0.0
        while True:
            now = time.monotonic()
            if now - t0 > timeout or p.poll() is not None:
                return None
            if now - last_sample >= 0.02:
                watch.sample(cheap=want_a)
                last_sample = now
            ids[res.send(ORIGIN, "SOA")] = "soa"
            if want_a:
                ids[res.send(CANARY, "A")] = "a"
            end = time.monotonic() + interval
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    break
                m = res.recv(left)
                if m is None:
                    break
                kind = ids.pop(m.id, None)
                if kind == "soa":
                    s = soa_serial(m)
                    if s is not None:
                        serial = s
                elif kind == "a":
                    addrs = a_addrs(m)
                if kind and done(serial, addrs):
                    t = time.monotonic() - t0
                    watch.sample(force=True)
                    return t
            if len(ids) > 4096:
                ids.clear()


# ---------------------------------------------------------------------------------------------
# Report.

def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def align(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                      enumerate(zip(r, widths))).rstrip() for r in rows]


def version(cmd, pat):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
        m = re.search(pat, out.stdout + out.stderr)
        return m.group(1).strip() if m else "?"
    except Exception:
        return "?"


def report(bench, servers, header):
    rows = bench.rows
    axfr = {s: [kv for x, k, kv in rows if x == s and k == "xfr_axfr"] for s in servers}
    lags = {s: [float(kv["ms"]) for x, k, kv in rows if x == s and k == "xfr_notify"]
            for s in servers}

    def med(s, key):
        v = [float(kv[key]) for kv in axfr[s] if key in kv]
        return statistics.median(v) if v else None

    base_t = med("knotd", "seconds") if "knotd" in axfr else None
    base_m = med("knotd", "peak_rss_kib") if "knotd" in axfr else None
    out = [f"# {header}"]
    head = ["server", "axfr_served_s", "peak_rss_MiB", "time_vs_knotd", "rss_vs_knotd",
            "notify_ms_med", "notify_ms_min", "notify_ms_max"]
    table = []
    for s in servers:
        t, m, lg = med(s, "seconds"), med(s, "peak_rss_kib"), lags[s]
        table.append([s, fmt(t, ".3f"), fmt(m / 1024 if m else None, ".0f"),
                      fmt(t / base_t if t and base_t else None, ".2f"),
                      fmt(m / base_m if m and base_m else None, ".2f"),
                      fmt(statistics.median(lg) if lg else None, ".1f"),
                      fmt(min(lg) if lg else None, ".1f"), fmt(max(lg) if lg else None, ".1f")])
    out += align([head] + table)

    if "holdfast" in servers and base_t and base_m:
        t, m, lg = med("holdfast", "seconds"), med("holdfast", "peak_rss_kib"), lags["holdfast"]
        goals = []
        if t:
            goals.append(f"time {t / base_t:.2f}x knotd ({'ok' if t / base_t <= 0.7 else 'MISSED'},"
                         " goal <= 0.70x)")
        if m:
            goals.append(f"peak RSS {m / base_m:.2f}x knotd "
                         f"({'ok' if m / base_m <= 0.7 else 'MISSED'}, goal <= 0.70x)")
        if lg:
            ml = statistics.median(lg)
            goals.append(f"NOTIFY->served {ml:.0f} ms ({'ok' if ml < 100 else 'MISSED'}, "
                         "goal < 100 ms)")
        if goals:
            out.append("# holdfast goals: " + "; ".join(goals))

    out.append("")
    out.append("# transfer details per round, up to serving: peak = VmHWM of the secondary's "
               "largest process; tree_rss/tree_pss = peak of the sum over its processes (RSS "
               "sampled every 20 ms, PSS every 0.2 s); anon/file = its RSS when served; "
               "log_axfr_s = the AXFR time in its own log; settle = wait until idle after "
               "serving; end = VmHWM after the changes; other% = the two cores' time used by "
               "other processes, during the AXFR and during the changes)")
    dhead = ["server", "round", "served_s", "peak_MiB", "tree_rss_MiB", "tree_pss_MiB",
             "anon_MiB", "file_MiB", "log_axfr_s", "settle_s", "end_MiB", "notify_ms",
             "other%_axfr", "other%_notify"]
    drows = []
    for s in servers:
        for kv in axfr[s]:
            r = int(kv["round"])
            ms = [kv2["ms"] for x, k, kv2 in rows
                  if x == s and k == "xfr_notify" and int(kv2["round"]) == r]
            drows.append([s, str(r + 1), f"{float(kv['seconds']):.3f}",
                          f"{int(kv['peak_rss_kib']) / 1024:.0f}",
                          f"{int(kv['tree_rss_kib']) / 1024:.0f}",
                          f"{int(kv['tree_pss_kib']) / 1024:.0f}",
                          f"{int(kv['anon_kib']) / 1024:.0f}",
                          f"{int(kv['file_kib']) / 1024:.0f}",
                          kv.get("logged_axfr_s", "-"), kv["settle_s"],
                          f"{int(kv['hwm_end_kib']) / 1024:.0f}",
                          "/".join(f"{float(x):.0f}" for x in ms) or "-",
                          kv.get("other_axfr_pct", "-"), kv.get("other_notify_pct", "-")])
    if drows:
        out += align([dhead] + drows)
    others = [float(kv[k]) for s in servers for kv in axfr[s]
              for k in ("other_axfr_pct", "other_notify_pct") if k in kv]
    if others and max(others) >= 10:
        out.append(f"# warning: other processes took up to {max(others):.0f}% of the two "
                   "benchmark cores: times are not comparable between servers (run again on a "
                   "quiet machine)")
    for s, text in bench.notes:
        out.append(f"# note: {s}: {text.splitlines()[0]}")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="knotd,nsd,holdfast",
                    help="comma-separated, from " + ",".join(SERVERS))
    ap.add_argument("--holdfast", help="holdfast binary (required if holdfast is listed)")
    ap.add_argument("--zone", help="zone file for the master (default: generated with "
                    "gen_zone.py --records N --seed 2, as bench.sh's 1M-record zone)")
    ap.add_argument("--records", type=int, default=1000000, help="records when generating")
    ap.add_argument("--rounds", type=int, default=2, help="rounds over all servers (default 2)")
    ap.add_argument("--changes", type=int, default=5,
                    help="one-record changes per server and round for NOTIFY->served (default 5)")
    ap.add_argument("--quick", action="store_true",
                    help="1 round, 3 changes, 100k records when generating")
    ap.add_argument("--server-cpu", type=int, default=0, help="core for the secondary")
    ap.add_argument("--master-cpu", type=int, default=1,
                    help="core for the master knotd and this script; -1: no pinning")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds a secondary may take to serve the transferred zone")
    ap.add_argument("--change-timeout", type=float, default=30,
                    help="seconds a secondary may take to serve a change")
    ap.add_argument("--change-gap", type=float, default=2.0,
                    help="least seconds between one change being served and the next (default 2)")
    ap.add_argument("--load-timeout", type=float, default=600,
                    help="seconds the master may take to load the zone")
    ap.add_argument("--interval", type=float, default=0.005, help="SOA poll interval in (a)")
    ap.add_argument("--notify-interval", type=float, default=0.002, help="poll interval in (b)")
    ap.add_argument("--workdir", help="directory for configs, logs and state (default: a new "
                    "temp dir, removed at the end unless --keep; a given one is left in place)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir, configs, logs, state")
    ap.add_argument("--results", help="append raw results to this file (bench.sh format)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.changes = 1, 3
        if not args.zone and args.records == 1000000:
            args.records = 100000

    servers = [s for s in args.servers.split(",") if s]
    for s in servers:
        if s not in SERVERS:
            ap.error(f"unknown server {s}")
    if "holdfast" in servers:
        if not args.holdfast or not os.access(args.holdfast, os.X_OK):
            ap.error(f"holdfast listed but --holdfast {args.holdfast!r} is not an executable")
        args.holdfast = os.path.abspath(args.holdfast)
    ncpu = os.cpu_count() or 1
    if args.server_cpu >= ncpu:
        ap.error(f"--server-cpu {args.server_cpu}: only {ncpu} cores")
    if args.master_cpu >= ncpu or args.master_cpu == args.server_cpu:
        log(f"cannot pin the master to core {args.master_cpu} ({ncpu} cores); not pinned")
        args.master_cpu = -1
    for tool in ("knotd", "knotc") + (("nsd",) if any(s.startswith("nsd") for s in servers)
                                      else ()):
        if not shutil.which(tool):
            ap.error(f"{tool} not found")
    try:
        import dns.message  # noqa: F401
    except ImportError:
        ap.error("python3-dnspython missing")

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if args.master_cpu >= 0:
        # The prober and knotc stay off the secondary's core.
        os.sched_setaffinity(0, {args.master_cpu})

    made_work = not args.workdir
    work = args.workdir or tempfile.mkdtemp(prefix="holdfast-xfr.")
    os.makedirs(work, exist_ok=True)
    work = os.path.abspath(work)
    bench = Bench(args, work)
    rc = 0
    try:
        zone = args.zone and os.path.abspath(args.zone)
        if not zone:
            zone = f"{work}/big.zone"
            log(f"generating a {args.records}-record zone in {zone}")
            subprocess.run(["/usr/bin/python3", f"{HERE}/gen_zone.py", "--origin", ORIGIN,
                            "--records", str(args.records), "--seed", "2", "--zone-out", zone,
                            "--queries-out", f"{work}/big.queries", "--queries", "1"],
                           check=True)
        with open(zone) as f:
            n_records = sum(1 for line in f if line and line[0] not in "$;\n")
        bench.start_master(zone)

        failed = set()
        for r in range(args.rounds):
            order = [servers[(i + r) % len(servers)] for i in range(len(servers))]
            log(f"round {r + 1}/{args.rounds}: {' '.join(order)}")
            for s in order:
                if s in failed:
                    continue
                try:
                    kv = bench.run_secondary(s, r)
                except RuntimeError as e:
                    bench.note(s, f"round {r + 1}: {e}")
                    kv = False
                if kv is False:
                    failed.add(s)
                    bench.note(s, "left out of the remaining rounds")

        v_hf = "-"
        if "holdfast" in servers:
            v_hf = version([args.holdfast, "--version"], r"^(.*)$")
            cache = os.path.join(os.path.dirname(args.holdfast), "CMakeCache.txt")
            bt = version(["sed", "-n", "s/^CMAKE_BUILD_TYPE:STRING=//p", cache], r"(.+)")
            v_hf += f" [{bt}]"
        header = (f"zone transfers: secondaries of one knotd master; knotd "
                  f"{version(['knotd', '--version'], r'version (.*)')}, nsd "
                  f"{version(['nsd', '-v'], r'NSD version (.*)')}, holdfast {v_hf}; "
                  f"{n_records} records, {args.rounds} round(s), {args.changes} changes each; "
                  f"secondary on core {args.server_cpu}, master on core "
                  f"{args.master_cpu if args.master_cpu >= 0 else 'any'}")
        print(report(bench, servers, header), flush=True)
    except Stop as e:
        log(f"stopped by {e}")
        rc = 130
    except Exception as e:  # noqa: BLE001  (report, then clean up)
        log(f"error: {e}")
        rc = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        bench.procs.kill_all()
        if args.keep:
            log(f"kept {work}")
        elif made_work:
            shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
