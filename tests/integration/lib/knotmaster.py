# SPDX-License-Identifier: MIT
"""A real `knotd` as the hidden master of integration tests, in its own temp dir.

    m = knotmaster.KnotMaster(workdir, notify_to=("127.0.0.1", hf_port), key=KEY)
    m.add_zone("example.com.", knotmaster.zone_text("example.com.", 1, BODY))
    m.start()                       # returns once every zone answers SOA
    m.set_zone("example.com.", knotmaster.zone_text("example.com.", 2, BODY2))  # bump + NOTIFY
    m.kill()                        # SIGKILL; m.stop() for SIGTERM
    knotmaster.cleanup_all()        # in a finally block: kills every knotd still running

Zones are loaded with `zonefile-load: difference` and `journal-content: changes`, so every
reload of a changed zone file (`knotc zone-reload`) stores a changeset and knotd can answer
IXFR from any older serial it has seen (pass ixfr=False for a zone served by AXFR only). knotd
sends NOTIFY for a zone to `notify_to` after each change when the zone has notify=True; the
NOTIFY comes from the master's own address (`via`), signed when the zone has tsig=True.
Outgoing transfers are logged by knotd as `[zone.] AXFR, outgoing, remote ..., started,
serial N` / `IXFR, outgoing, ...`; see log_text() / wait_log().
"""

import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import hftest  # noqa: E402  (same directory: lib/ is on sys.path for every test)

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"
READY_TIMEOUT = 20.0

# Every KnotMaster started in this process, so that a failing test still kills them all.
_LIVE = []


def zone_text(origin, serial, body, ttl=3600, soa=(3600, 600, 86400, 300),
              mname="ns.hidden.invalid.", rname="hostmaster.hidden.invalid."):
    """A zone file: $ORIGIN, $TTL, the SOA (refresh, retry, expire, minimum = `soa`) and `body`
    (relative or absolute records, one a line)."""
    return ("$ORIGIN %s\n$TTL %d\n@ SOA %s %s %d %d %d %d %d\n%s"
            % (origin, ttl, mname, rname, serial, soa[0], soa[1], soa[2], soa[3],
               body if body.endswith("\n") or not body else body + "\n"))


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the test process dies, even by SIGKILL, so no
    knotd outlives a test that was killed by a CTest timeout."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class KnotMaster:
    """One knotd process serving zones as a hidden master.

    host/port: where knotd listens (port: a free one by default).
    notify_to: (host, port) of the secondary to NOTIFY, or None.
    key: (name, algorithm, base64 secret) of the TSIG key zones with tsig=True require.
    tcp_io_timeout: knotd's tcp-io-timeout in ms (None: knotd's default, 500).
    """

    def __init__(self, workdir, name="knotd", host="127.0.0.1", port=None, notify_to=None,
                 key=None, tcp_io_timeout=None):
        self.workdir = os.path.join(workdir, name)
        self.name = name
        self.host = host
        self.port = port or hftest.free_port(host)
        self.notify_to = notify_to
        self.key = key
        self.tcp_io_timeout = tcp_io_timeout
        self.zones = {}  # origin -> dict(file, notify, tsig, transfer, ixfr, max_size)
        self.proc = None
        self._log = None
        for sub in ("run", "storage", "zones"):
            os.makedirs(os.path.join(self.workdir, sub), exist_ok=True)
        self.conf = os.path.join(self.workdir, "knot.conf")
        self.socket = os.path.join(self.workdir, "run", "knot.sock")
        self.log_path = os.path.join(self.workdir, "knotd.log")

    def __repr__(self):
        return "%s at %s" % (self.name, self.address)

    @property
    def address(self):
        """host@port, as holdfast's `masters: addresses:` wants it."""
        return "%s@%d" % (self.host, self.port)

    # -- zones and config --------------------------------------------------------------------

    def add_zone(self, origin, text, notify=True, tsig=False, transfer=True, ixfr=True):
        """Adds a zone (before start()). transfer=False: an ACL denies AXFR/IXFR of it."""
        if not origin.endswith("."):
            origin += "."
        path = os.path.join(self.workdir, "zones", origin + "zone")
        with open(path, "w") as f:
            f.write(text)
        self.zones[origin] = dict(file=path, notify=notify, tsig=tsig, transfer=transfer,
                                  ixfr=ixfr)

    def _zone_options(self, origin):
        z = self.zones[origin]
        opts = ["  - domain: %s" % origin, "    file: %s" % z["file"]]
        if z["ixfr"]:
            opts += ["    zonefile-load: difference", "    journal-content: changes"]
        else:
            opts += ["    zonefile-load: whole", "    journal-content: none"]
        if z["notify"] and self.notify_to:
            opts.append("    notify: %s" % ("secondary-tsig" if z["tsig"] else "secondary"))
        if not z["transfer"]:
            acl = "transfer-deny"
        elif z["tsig"]:
            acl = "transfer-tsig"
        else:
            acl = "transfer-any"
        opts.append("    acl: %s" % acl)
        return opts

    def write_config(self):
        w = self.workdir
        lines = [
            "server:",
            "  rundir: %s/run" % w,
            "  listen: %s" % self.address,
            "  udp-workers: 1",
            "  tcp-workers: 2",
            "  background-workers: 1",
            '  nsid: ""',
        ]
        if self.tcp_io_timeout is not None:
            lines.append("  tcp-io-timeout: %d" % self.tcp_io_timeout)
        lines += [
            "control:",
            "  listen: %s" % self.socket,
            "database:",
            "  storage: %s/storage" % w,
            "log:",
            "  - target: stderr",
            "    any: info",
        ]
        if self.key:
            lines += ["key:", "  - id: %s" % self.key[0], "    algorithm: %s" % self.key[1],
                      "    secret: %s" % self.key[2]]
        if self.notify_to:
            target = "%s@%d" % self.notify_to
            lines += ["remote:",
                      "  - id: secondary", "    address: %s" % target, "    via: %s" % self.host]
            if self.key:
                lines += ["  - id: secondary-tsig", "    address: %s" % target,
                          "    via: %s" % self.host, "    key: %s" % self.key[0]]
        lines += ["acl:",
                  "  - id: transfer-any", "    action: transfer",
                  "  - id: transfer-deny", "    action: transfer", "    deny: on"]
        if self.key:
            lines += ["  - id: transfer-tsig", "    action: transfer", "    key: %s" % self.key[0]]
        lines += ["template:",
                  "  - id: default",
                  "    zonefile-sync: -1",
                  "    semantic-checks: off",
                  "zone:"]
        for origin in self.zones:
            lines += self._zone_options(origin)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    # -- process -----------------------------------------------------------------------------

    def start(self, timeout=READY_TIMEOUT):
        """Starts knotd and waits until every zone answers SOA authoritatively."""
        if self.running():
            raise RuntimeError("%s already running" % self.name)
        self.write_config()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([KNOTD, "-c", self.conf], stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir, start_new_session=True,
                                     preexec_fn=die_with_parent)
        _LIVE.append(self)
        deadline = time.monotonic() + timeout
        for origin in self.zones:
            while self.soa_serial(origin) is None:
                if not self.running():
                    raise RuntimeError("%s exited (%s) during start-up:\n%s"
                                       % (self.name, self.proc.returncode, self.log_tail()))
                if time.monotonic() > deadline:
                    raise RuntimeError("%s did not serve %s within %.0f s:\n%s"
                                       % (self.name, origin, timeout, self.log_tail()))
                time.sleep(0.02)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after `timeout` s."""
        if self.running():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._finish()

    def kill(self):
        """SIGKILL, as a master that dies without a word."""
        if self.running():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._finish()

    def _finish(self):
        if self._log is not None:
            self._log.close()
            self._log = None
        if self in _LIVE:
            _LIVE.remove(self)

    def knotc(self, *args, timeout=60, check=True):
        """Runs `knotc -s SOCKET args...`; returns its stdout."""
        r = subprocess.run([KNOTC, "-s", self.socket, "-t", "30"] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        if check and (r.returncode != 0 or "error" in r.stdout.lower()):
            raise RuntimeError("knotc %s failed (rc %d): %s %s\n%s"
                               % (" ".join(args), r.returncode, r.stdout.strip(),
                                  r.stderr.strip(), self.log_tail()))
        return r.stdout

    # -- changes -----------------------------------------------------------------------------

    def set_zone(self, origin, text, wait=True, timeout=60):
        """Rewrites the zone file and reloads it (`knotc zone-reload`). knotd computes the
        difference (stored for IXFR) and NOTIFYs the secondary if the zone has notify=True.
        With `wait`, returns once knotd serves the new file's serial."""
        if not origin.endswith("."):
            origin += "."
        with open(self.zones[origin]["file"], "w") as f:
            f.write(text)
        self.knotc("zone-reload", origin)
        if wait:
            m = re.search(r"^@\s+SOA\s+\S+\s+\S+\s+(\d+)", text, re.M)
            if m:
                self.wait_serial(origin, int(m.group(1)), timeout)

    def reconfigure(self, **changes):
        """Changes zone or key settings and reloads knotd's config (`knotc reload`).
        changes: key=(name, alg, secret), or zone=origin plus notify/tsig/transfer values."""
        if "key" in changes:
            self.key = changes.pop("key")
        origin = changes.pop("zone", None)
        if origin is not None:
            self.zones[origin].update(changes)
        self.write_config()
        self.knotc("reload")

    def wait_serial(self, origin, serial, timeout=30):
        deadline = time.monotonic() + timeout
        while self.soa_serial(origin) != serial:
            if not self.running():
                raise RuntimeError("%s exited:\n%s" % (self.name, self.log_tail()))
            if time.monotonic() > deadline:
                raise RuntimeError("%s does not serve %s serial %d after %.0f s:\n%s"
                                   % (self.name, origin, serial, timeout, self.log_tail()))
            time.sleep(0.02)

    # -- queries and log ---------------------------------------------------------------------

    def query(self, qname, qtype="SOA", timeout=1.0):
        """One UDP query to knotd; the parsed response or None."""
        q = dns.message.make_query(qname, qtype, use_edns=False)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.sendto(q.to_wire(), (self.host, self.port))
                while True:
                    resp = dns.message.from_wire(sock.recv(65535))
                    if resp.id == q.id:
                        return resp
            except (OSError, dns.exception.DNSException):
                return None

    def soa_serial(self, origin):
        return hftest.answer_soa_serial(self.query(origin, "SOA", timeout=0.3))

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_log(self, pattern, timeout, start=0):
        """Waits for a regex in knotd's log (from character `start`); returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log_text(), start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not log %r within %.0f s:\n%s"
                                   % (self.name, pattern, timeout, self.log_tail()))
            time.sleep(0.01)


def cleanup_all():
    """Kills every knotd this process started and did not stop (call in `finally`)."""
    for m in list(_LIVE):
        try:
            m.kill()
        except (ProcessLookupError, subprocess.TimeoutExpired):
            m._finish()
