# SPDX-License-Identifier: MIT
"""Shared helpers for holdfast integration tests: ports, config, process control, queries.

Import from a test with
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import hftest
Everything a test starts lives in a temp dir and on 127.0.0.1; every process is killed at the
end (Holdfast.stop / kill, also when the test fails: use it as a context manager or
hftest.cleanup_all() in a finally block).
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

HOST = "127.0.0.1"

# Every Holdfast started in this process, so that a failing test still kills them all.
_LIVE = []


def log(msg):
    """Progress line on stdout (ctest shows it with --output-on-failure or -V)."""
    print("[%8.3f] %s" % (time.monotonic() - _T0, msg), flush=True)


_T0 = time.monotonic()


def free_port(host=HOST):
    """A port on `host` (127.0.0.1 by default; any 127.0.0.0/8 address works on Linux) that is
    free for both UDP and TCP right now."""
    for _ in range(100):
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                udp.bind((host, port))
            except OSError:
                continue
            finally:
                udp.close()
            return port
        finally:
            tcp.close()
    raise RuntimeError("no free port found")


def write_config(path, port, storage, zones, workers=1, log_level="info", server_extra=()):
    """Writes a holdfast YAML config. zones: list of (domain, file path); server_extra: more
    `key: value` lines for the server section."""
    lines = [
        "server:",
        '  listen: ["%s@%d"]' % (HOST, port),
        "  workers: %d" % workers,
        "  storage: %s" % storage,
    ] + ["  " + extra for extra in server_extra] + [
        "log:",
        "  level: %s" % log_level,
        "zones:",
    ]
    for domain, file in zones:
        lines.append("  - domain: %s" % domain)
        lines.append("    file: %s" % file)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Holdfast:
    """One `holdfast run -c CONFIG` process; stderr goes to log_path (appended per start)."""

    # Run in the child before exec (e.g. knotmaster.die_with_parent); None: nothing.
    preexec_fn = None

    def __init__(self, binary, config, port, log_path):
        self.binary = binary
        self.config = config
        self.port = port
        self.log_path = log_path
        self.proc = None
        self.started_at = None
        self._log = None
        self._log_offset = 0  # where this run's output starts in log_path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("holdfast already running")
        self._log = open(self.log_path, "ab")
        self._log_offset = self._log.tell()
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen([self.binary, "run", "-c", self.config],
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=self.preexec_fn)
        _LIVE.append(self)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Sends `sig` to this process only and, for SIGKILL, reaps it. Returns the exit code."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, sig)
        if sig == signal.SIGKILL:
            self.proc.wait(timeout=10)
            self._close_log()
            return self.proc.returncode
        return None

    def stop(self, timeout=30, check=True):
        """SIGTERM, then SIGKILL if it has not exited after `timeout` s. Returns seconds taken.
        With `check`, a server that does not exit cleanly (code 0: no sanitizer report, no hang)
        fails the test."""
        t = time.monotonic()
        problem = None
        if self.running():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
                if code != 0:
                    problem = "holdfast exited with code %d after SIGTERM" % code
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
                problem = "holdfast did not stop within %d s of SIGTERM" % timeout
        self._close_log()
        if self in _LIVE:
            _LIVE.remove(self)
        if check and problem:
            raise AssertionError("%s; log tail:\n%s" % (problem, self.log_tail(40)))
        return time.monotonic() - t

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def run_log(self):
        """This run's log output so far."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=30):
        return "\n".join(self.run_log().splitlines()[-lines:])

    def wait_log(self, pattern, timeout):
        """Waits for a regex to appear in this run's log; returns the match or raises."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.run_log())
            if m:
                return m
            if not self.running():
                raise RuntimeError("holdfast exited (%s) before logging %r:\n%s"
                                   % (self.proc.returncode, pattern, self.log_tail()))
            if time.monotonic() > deadline:
                raise RuntimeError("holdfast did not log %r within %.0f s:\n%s"
                                   % (pattern, timeout, self.log_tail()))
            time.sleep(0.02)

    def wait_log_or_none(self, pattern, timeout):
        """Like wait_log, but returns this run's log text, or "" if the pattern never came."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            text = self.run_log()
            if rx.search(text):
                return text
            if not self.running() or time.monotonic() > deadline:
                return ""
            time.sleep(0.02)

    def wait_answering(self, qname, timeout=10.0, qtype="SOA"):
        """Waits until any DNS answer arrives for qname; returns (response, seconds since start)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise RuntimeError("holdfast exited (%s) during start-up:\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            resp = query(self.port, qname, qtype, timeout=0.02)
            if resp is not None:
                return resp, time.monotonic() - self.started_at
            if time.monotonic() > deadline:
                raise RuntimeError("holdfast did not answer %s within %.0f s:\n%s"
                                   % (qname, timeout, self.log_tail()))
            time.sleep(0.005)

    def wait_serial(self, zone, serial, timeout):
        """Waits until the zone's SOA answer carries `serial`; returns seconds since start."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise RuntimeError("holdfast exited (%s):\n%s"
                                   % (self.proc.returncode, self.log_tail()))
            if soa_serial(self.port, zone, timeout=0.5) == serial:
                return time.monotonic() - self.started_at
            if time.monotonic() > deadline:
                raise RuntimeError("%s serial %d not served within %.0f s:\n%s"
                                   % (zone, serial, timeout, self.log_tail()))
            time.sleep(0.02)


def pin_threads(pid, cpus):
    """Sets the CPU affinity of every thread of process `pid` (sched_setaffinity is per thread;
    new threads inherit from their creator). Returns False where the system refuses."""
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            os.sched_setaffinity(int(tid), cpus)
        return True
    except (OSError, AttributeError):
        return False


def cleanup_all():
    """Kills every Holdfast this process started and did not stop (call in `finally`)."""
    for h in list(_LIVE):
        try:
            if h.running():
                os.kill(h.proc.pid, signal.SIGKILL)
                h.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        h._close_log()
        _LIVE.remove(h)


def make_query(qname, qtype="SOA"):
    return dns.message.make_query(qname, dns.rdatatype.from_text(qtype)
                                  if isinstance(qtype, str) else qtype, use_edns=False)


def query(port, qname, qtype="SOA", timeout=1.0, sock=None):
    """One UDP query to 127.0.0.1@port; the parsed response, or None on timeout/garbage."""
    q = make_query(qname, qtype)
    own = sock is None
    if own:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.sendto(q.to_wire(), (HOST, port))
        deadline = time.monotonic() + timeout
        while True:
            wire, _ = sock.recvfrom(65535)
            try:
                resp = dns.message.from_wire(wire)
            except dns.exception.DNSException:
                return None
            if resp.id == q.id:
                return resp
            if time.monotonic() > deadline:  # a late answer to an earlier query: skip it
                return None
    except (OSError, socket.timeout):
        return None
    finally:
        if own:
            sock.close()


def soa_serial(port, zone, timeout=1.0):
    """The serial of an authoritative NOERROR SOA answer, else None."""
    return answer_soa_serial(query(port, zone, "SOA", timeout=timeout))


def authority_serial(resp):
    """The serial of the SOA in the authority section (negative answers), else None."""
    for rrset in resp.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


def describe(resp):
    if resp is None:
        return "no answer"
    return "%s aa=%d answer=%s authority=%s" % (
        dns.rcode.to_text(resp.rcode()), bool(resp.flags & dns.flags.AA),
        [r.to_text() for r in resp.answer], [r.to_text() for r in resp.authority])


def in_workdir(prefix, keep, fn):
    """Runs fn(tmpdir) in a fresh temp dir; kills leftover servers and removes the dir after
    (unless `keep`)."""
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix=prefix)
    log("workdir %s" % tmp)
    try:
        fn(tmp)
    finally:
        cleanup_all()
        if keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main_wrapper(fn):
    """Runs fn(), kills leftover processes, exits 0 on success and 1 on failure."""
    ok = False
    try:
        fn()
        ok = True
    except AssertionError as e:
        log("FAIL: %s" % e)
    except Exception as e:  # noqa: BLE001 - any error fails the test with its message
        log("ERROR: %s: %s" % (type(e).__name__, e))
        import traceback
        traceback.print_exc()
    finally:
        cleanup_all()
    log("PASS" if ok else "FAILED")
    sys.exit(0 if ok else 1)


# --- secondary zones, transfers, NOTIFY (used by tests/integration/xfr) ----------------------


def _yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if re.fullmatch(r"[A-Za-z0-9_.\-/]+", text) and not text.startswith("-"):
        return text
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def _yaml_value(value):
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(_yaml_scalar(v) for v in value)
    return _yaml_scalar(value)


def write_xfr_config(path, port, storage, zones, keys=(), masters=(), nameserver_sets=(),
                     log_level="info", workers=1):
    """Writes a holdfast YAML config with secondary zones.

    zones: dicts with `domain` and the zone's other keys (`masters: [id]`, `refresh: "2s"`,
           `file: path` for a primary zone, `nameservers: set-id`, ...); values are scalars or
           lists of scalars.
    keys: (id, algorithm, base64 secret) tuples.
    masters: dicts with `id`, `addresses` (list of "addr@port"), optional `key`, `source`.
    nameserver_sets: (id, [(name, [addresses])]) tuples."""
    lines = [
        "server:",
        '  listen: ["%s@%d"]' % (HOST, port),
        "  workers: %d" % workers,
        "  storage: %s" % storage,
        "log:",
        "  level: %s" % log_level,
    ]
    if keys:
        lines.append("keys:")
        for kid, alg, secret in keys:
            lines += ["  - id: %s" % kid, "    algorithm: %s" % alg,
                      "    secret: %s" % _yaml_scalar(secret)]
    if masters:
        lines.append("masters:")
        for m in masters:
            lines.append("  - id: %s" % m["id"])
            for k, v in m.items():
                if k != "id":
                    lines.append("    %s: %s" % (k, _yaml_value(v)))
    if nameserver_sets:
        lines.append("nameserver-sets:")
        for sid, nameservers in nameserver_sets:
            lines += ["  - id: %s" % sid, "    nameservers:"]
            for name, addresses in nameservers:
                lines += ["      - name: %s" % name,
                          "        addresses: %s" % _yaml_value(addresses)]
    lines.append("zones:")
    for z in zones:
        lines.append("  - domain: %s" % z["domain"])
        for k, v in z.items():
            if k != "domain":
                lines.append("    %s: %s" % (k, _yaml_value(v)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def query_tcp(port, qname, qtype="SOA", timeout=2.0, host=HOST):
    """One query over TCP; the parsed response, or None on error/timeout."""
    import dns.query
    try:
        return dns.query.tcp(make_query(qname, qtype), host, port=port, timeout=timeout)
    except (OSError, EOFError, dns.exception.DNSException):
        return None


def send_notify(port, zone, source="127.0.0.1", serial=None, key=None, tcp=False, timeout=2.0,
                host=HOST):
    """Sends a NOTIFY (RFC 1996 3.7: opcode NOTIFY, AA, question zone/SOA, optionally the new
    SOA in the answer section) from `source` (an address, any port) to host@port, signed with
    key = (name, algorithm, base64 secret) if given. Returns None on timeout, else a dict:
    rcode (int, from the header), opcode, qr, id_ok, tsig ("ok", "none", or why the response's
    TSIG did not verify) and the response wire."""
    import struct
    import dns.name
    import dns.opcode
    import dns.rrset
    import dns.tsigkeyring
    q = dns.message.make_query(zone, dns.rdatatype.SOA, use_edns=False)
    q.flags = dns.flags.AA  # (the opcode lives in the flags: set it after them)
    q.set_opcode(dns.opcode.NOTIFY)
    keyring = None
    if serial is not None:
        q.answer.append(dns.rrset.from_text(zone, 0, "IN", "SOA",
                                            "ns.invalid. h.invalid. %d 1 1 1 1" % serial))
    if key is not None:
        keyring = dns.tsigkeyring.from_text({key[0]: (key[1], key[2])})
        q.use_tsig(keyring, dns.name.from_text(key[0]))
    wire = q.to_wire()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    try:
        sock.settimeout(timeout)
        sock.bind((source, 0))
        if tcp:
            sock.connect((host, port))
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                chunk = sock.recv(65535)
                if not chunk:
                    return None
                buf += chunk
            resp = buf[2:2 + struct.unpack("!H", buf[:2])[0]]
        else:
            sock.sendto(wire, (host, port))
            while True:
                resp, _ = sock.recvfrom(65535)
                if len(resp) >= 12 and resp[:2] == wire[:2]:
                    break
    except (OSError, socket.timeout):
        return None
    finally:
        sock.close()
    if len(resp) < 12:
        return None
    out = {"rcode": resp[3] & 0x0F, "opcode": (resp[2] >> 3) & 0x0F, "qr": bool(resp[2] & 0x80),
           "id_ok": resp[:2] == wire[:2], "wire": resp, "tsig": "none"}
    try:
        parsed = dns.message.from_wire(resp, keyring=keyring, request_mac=q.mac if key else b"")
        if parsed.had_tsig:
            out["tsig"] = "ok"
    except dns.exception.DNSException as e:
        out["tsig"] = "%s: %s" % (type(e).__name__, e)
    return out


def rrsets_text(section):
    """A section as a sorted list of 'name ttl class type rdata' lines: RRset and RR order do
    not matter, TTLs and names (case-insensitively) do."""
    out = []
    for rrset in section:
        for line in rrset.to_text().splitlines():
            parts = line.split(None, 1)
            out.append(parts[0].lower() + " " + parts[1] if len(parts) == 2 else line)
    return sorted(out)


def answer_summary(resp):
    """What two servers must agree on for one query: rcode, AA, answer and authority."""
    if resp is None:
        return None
    return (dns.rcode.to_text(resp.rcode()), bool(resp.flags & dns.flags.AA),
            rrsets_text(resp.answer), rrsets_text(resp.authority))


def log_mark(server):
    """Where `server`'s (Holdfast's) run log ends now; pass it to log_since()."""
    return len(server.run_log())


def log_since(server, mark):
    """The run log written after log_mark() returned `mark`."""
    return server.run_log()[mark:]


def wait_log_since(server, mark, pattern, timeout):
    """Waits for a regex in the run log after `mark`; returns the match or raises (with the
    log written since the mark)."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        m = rx.search(log_since(server, mark))
        if m:
            return m
        if not server.running():
            raise AssertionError("holdfast exited (%s) before logging %r:\n%s"
                                 % (server.proc.returncode, pattern, server.log_tail()))
        if time.monotonic() > deadline:
            raise AssertionError("holdfast did not log %r within %.0f s; log since:\n%s"
                                 % (pattern, timeout, log_since(server, mark)[-4000:]))
        time.sleep(0.02)


# --- HTTP control plane: config keys, requests, Prometheus text (used by tests/integration/control)


def add_server_keys(path, lines):
    """Adds `key: value` lines (e.g. "http: 127.0.0.1@9153") to the server section of a config
    written by write_config() or write_xfr_config(); a key already there is replaced."""
    with open(path) as f:
        text = f.read().splitlines()
    start = text.index("server:") + 1
    end = start
    while end < len(text) and text[end].startswith("  "):
        end += 1
    keys = {ln.split(":", 1)[0].strip() for ln in lines}
    section = [ln for ln in text[start:end] if ln.split(":", 1)[0].strip() not in keys]
    text[start:end] = section + ["  " + ln for ln in lines]
    with open(path, "w") as f:
        f.write("\n".join(text) + "\n")


def http_request(port, path, method="GET", token=None, headers=None, timeout=5.0, host=HOST):
    """One HTTP request to host:port; returns (status, headers as a dict with lowercase names,
    body as text). An error status is returned, not raised; a refused or reset connection
    raises OSError (urllib.error.URLError is one)."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request("http://%s:%d%s" % (host, port, path), method=method,
                                 data=b"" if method in ("POST", "PUT") else None)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    if token is not None:
        req.add_header("Authorization", "Bearer %s" % token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, hdrs, body = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, hdrs, body = e.code, e.headers, e.read()
    return (status, {k.lower(): v for k, v in hdrs.items()},
            body.decode("utf-8", "replace"))


def http_json(port, path, method="GET", token=None, timeout=5.0):
    """http_request() whose body must be JSON: returns (status, parsed body, headers)."""
    import json
    status, hdrs, body = http_request(port, path, method=method, token=token, timeout=timeout)
    try:
        data = json.loads(body)
    except ValueError as e:
        raise AssertionError("%s %s -> %d, body is not JSON (%s): %r"
                             % (method, path, status, e, body[:500]))
    return status, data, hdrs


def wait_http(port, path="/healthz", timeout=10.0, server=None):
    """Waits until GET path answers at all (any status); returns the seconds waited."""
    t0 = time.monotonic()
    while True:
        try:
            http_request(port, path, timeout=1.0)
            return time.monotonic() - t0
        except OSError as e:
            last = e
        if server is not None and not server.running():
            raise RuntimeError("holdfast exited (%s) before its HTTP listener answered:\n%s"
                               % (server.proc.returncode, server.log_tail()))
        if time.monotonic() - t0 > timeout:
            raise RuntimeError("no HTTP answer on %s:%d%s within %.0f s (%s)"
                               % (HOST, port, path, timeout, last))
        time.sleep(0.02)


_PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$')
_PROM_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse_prometheus(text):
    """Samples of a Prometheus text-format (0.0.4) body: {(name, ((label, value), ...) sorted):
    float}. Raises ValueError on a line it cannot read (promtool is the real validator)."""
    samples = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = _PROM_LINE.match(line)
        if not m:
            raise ValueError("unreadable metrics line: %r" % line)
        labels, rest = [], m.group(2) or ""
        while rest.strip():
            lm = _PROM_LABEL.match(rest)
            if not lm:
                raise ValueError("unreadable labels in metrics line: %r" % line)
            value = lm.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
            labels.append((lm.group(1), value))
            rest = rest[lm.end():]
        samples[(m.group(1), tuple(sorted(labels)))] = float(m.group(3))
    return samples


def metric(samples, name, **labels):
    """The value of the sample `name` with exactly these labels, or None."""
    return samples.get((name, tuple(sorted(labels.items()))))


def metric_sum(samples, name, **labels):
    """The sum of every sample `name` whose labels include these (0.0 when there is none)."""
    want = set(labels.items())
    return sum(v for (n, lbls), v in samples.items() if n == name and want <= set(lbls))


# --- query load with dnsperf (used by tests/integration/reload) ------------------------------


class DnsperfLoad:
    """`dnsperf -v` in the background, over UDP: the (qname, qtype) `queries` in a loop at `qps`
    for `seconds`, each query given up after `query_timeout` s (then it counts as lost). dnsperf
    (Debian package dnsperf) waits for every outstanding answer before it exits. result() waits
    for it and parses its report, including the rcode of every single answer."""

    def __init__(self, workdir, port, queries, seconds, qps, query_timeout=2, host=HOST):
        import shutil
        self.binary = shutil.which("dnsperf") or "/usr/bin/dnsperf"
        self.data = os.path.join(workdir, "dnsperf-queries")
        self.out_path = os.path.join(workdir, "dnsperf.out")
        with open(self.data, "w") as f:
            f.write("".join("%s %s\n" % q for q in queries))
        self.cmd = [self.binary, "-s", host, "-p", str(port), "-d", self.data, "-l", str(seconds),
                    "-Q", str(qps), "-t", str(query_timeout), "-v"]
        self.seconds = seconds
        self.proc = None
        self.started_at = None
        self._out = None

    def start(self):
        import knotmaster  # die_with_parent: no dnsperf outlives a killed test
        self._out = open(self.out_path, "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=knotmaster.die_with_parent)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def remaining(self):
        """Seconds until dnsperf stops sending."""
        return self.started_at + self.seconds - time.monotonic()

    def stop(self):
        """Kills dnsperf if it still runs (cleanup after a failure)."""
        if self.running():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self._out is not None:
            self._out.close()
            self._out = None

    def text(self):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def result(self, timeout):
        """Waits for dnsperf to exit; returns a dict: sent, completed, lost, interrupted (ints),
        rcodes ({"NOERROR": n, ...} from the summary), per_query ({(qname, qtype): {code: n}}
        from the -v lines; code "T" is a timeout), max_latency (s), text (the report without
        the -v lines). Raises if dnsperf fails or its report cannot be read."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("dnsperf did not exit within %.0f s" % timeout)
        self.stop()
        text = self.text()
        report = "\n".join(ln for ln in text.splitlines() if not ln.startswith(">"))
        if code != 0:
            raise AssertionError("dnsperf exited with %d:\n%s" % (code, report[-3000:]))
        out = {"text": report, "rcodes": {}, "per_query": {}}
        for key, label in (("sent", "sent"), ("completed", "completed"), ("lost", "lost"),
                           ("interrupted", "interrupted")):
            m = re.search(r"Queries %s:\s+(\d+)" % label, report)
            out[key] = int(m.group(1)) if m else 0
            if m is None and key != "interrupted":
                raise AssertionError("no 'Queries %s' in dnsperf's report:\n%s" % (label, report))
        m = re.search(r"Response codes:\s+(.*)", report)
        for rc, n in re.findall(r"([A-Z]+) (\d+) \(", m.group(1) if m else ""):
            out["rcodes"][rc] = int(n)
        m = re.search(r"Average Latency \(s\):.*max ([0-9.]+)", report)
        out["max_latency"] = float(m.group(1)) if m else None
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[0] == ">":
                counts = out["per_query"].setdefault((parts[2], parts[3]), {})
                counts[parts[1]] = counts.get(parts[1], 0) + 1
        return out


def answer_soa_serial(resp):
    """The serial of an authoritative NOERROR SOA answer in `resp`, else None."""
    if resp is None or resp.rcode() != dns.rcode.NOERROR or not resp.flags & dns.flags.AA:
        return None
    for rrset in resp.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return rrset[0].serial
    return None


def run_cases(description, cases, tools=(), cleanup=cleanup_all, prefix="hf-"):
    """The command line of a multi-case integration test: --holdfast BINARY, --case NAME
    (repeatable; default all), --keep. Checks that `tools` ((path, Debian package) pairs) are
    there, runs each case fn(tmpdir, binary) in its own temp dir, calls `cleanup` after each
    (killing what it started), prints a summary and exits 0 only if every case passed."""
    import argparse
    import shutil
    import tempfile
    import traceback
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--holdfast", required=True, help="path to the holdfast binary")
    ap.add_argument("--case", action="append", choices=sorted(cases),
                    help="run only this case (repeatable)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs (logs, stores)")
    args = ap.parse_args()
    binary = os.path.abspath(args.holdfast)
    for tool, package in [(binary, "holdfast, build it first")] + list(tools):
        if not os.access(tool, os.X_OK):
            log("FAIL: %s not found (%s)" % (tool, package))
            sys.exit(1)
    # CTest's timeout sends SIGTERM: turn it into SystemExit so the `finally` blocks kill
    # what the case started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    names = args.case or list(cases)
    results = {}
    try:
        for name in names:
            tmp = tempfile.mkdtemp(prefix="%s%s-" % (prefix, name))
            log("=== %s (workdir %s)" % (name, tmp))
            t0 = time.monotonic()
            results[name] = False
            try:
                cases[name](tmp, binary)
                results[name] = True
                log("=== %s: PASS (%.1f s)" % (name, time.monotonic() - t0))
            except AssertionError as e:
                log("=== %s: FAIL (%.1f s): %s" % (name, time.monotonic() - t0, e))
            except Exception as e:  # noqa: BLE001 - any error fails the case with its message
                log("=== %s: ERROR (%.1f s): %s: %s" % (name, time.monotonic() - t0,
                                                         type(e).__name__, e))
                traceback.print_exc()
            finally:
                cleanup()
                if args.keep:
                    log("kept %s" % tmp)
                else:
                    shutil.rmtree(tmp, ignore_errors=True)
                    if not results[name]:
                        log("(run again with --keep to inspect the logs)")
    finally:
        cleanup()
    for name in names:
        log("%-10s %s" % (name, "PASS" if results.get(name) else "FAIL"))
    ok = all(results.get(n) for n in names)
    log("PASS" if ok else "FAILED")
    sys.exit(0 if ok else 1)
