# SPDX-License-Identifier: MIT
"""Start knotd, nsd and holdfast on the same zones in a private temp dir, and stop them again."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import dns.exception
import dns.flags
import dns.message
import dns.rcode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hftest  # noqa: E402  (shared helpers of the integration tests)
import dns.rdatatype

# Same CHAOS strings for every server, so id.server / version.bind answers are comparable.
IDENTITY = "diff-test"
VERSION = "diff-test-1"
UDP_MAX_PAYLOAD = 1232  # knotd's default; holdfast's and nsd's are set to the same value
READY_TIMEOUT = 10.0


def free_port():
    """A port on 127.0.0.1 that is free for both UDP and TCP right now."""
    return hftest.free_port()


class Server:
    """One reference or tested server process: config in workdir, log in workdir/NAME.log."""

    name = "server"

    def __init__(self, workdir, zones):
        self.workdir = os.path.join(workdir, self.name)
        os.makedirs(self.workdir, exist_ok=True)
        self.zones = zones  # list of (origin, absolute zone file path)
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.workdir, self.name + ".log")
        self._log = None

    def command(self):
        raise NotImplementedError

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir,
                                     start_new_session=True)
        self._wait_ready()

    def _wait_ready(self):
        """Ready = every zone's SOA is answered authoritatively (RFC 1034 6.2.1 style poll)."""
        deadline = time.monotonic() + READY_TIMEOUT
        pending = [origin for origin, _ in self.zones]
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s during start-up:\n%s"
                                   % (self.name, self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not answer SOA for %s within %.0f s:\n%s"
                                   % (self.name, ", ".join(pending), READY_TIMEOUT,
                                      self.log_tail()))
            if self._soa_ok(pending[0]):
                pending.pop(0)
            else:
                time.sleep(0.05)

    def _soa_ok(self, origin):
        query = dns.message.make_query(origin, dns.rdatatype.SOA)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.2)
            try:
                sock.sendto(query.to_wire(), ("127.0.0.1", self.port))
                wire = sock.recv(65535)
                resp = dns.message.from_wire(wire)
            except (OSError, dns.exception.DNSException):
                return False
        return (resp.rcode() == dns.rcode.NOERROR and resp.flags & dns.flags.AA
                and len(resp.answer) == 1)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def warnings(self):
        """Log lines that suggest a zone was not loaded as written."""
        with open(self.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return [ln for ln in text.splitlines()
                if any(w in ln.lower() for w in ("error", "warning", "failed", "refused"))]


class Knotd(Server):
    name = "knotd"

    def command(self):
        conf = os.path.join(self.workdir, "knot.conf")
        os.makedirs(os.path.join(self.workdir, "run"), exist_ok=True)
        os.makedirs(os.path.join(self.workdir, "storage"), exist_ok=True)
        lines = [
            "server:",
            "  rundir: %s/run" % self.workdir,
            "  listen: 127.0.0.1@%d" % self.port,
            "  udp-max-payload: %d" % UDP_MAX_PAYLOAD,
            "  udp-workers: 1",
            "  tcp-workers: 1",
            "  background-workers: 1",
            '  identity: "%s"' % IDENTITY,
            '  version: "%s"' % VERSION,
            '  nsid: ""',  # knotd's default NSID is the host name; holdfast and nsd send none
            "database:",
            "  storage: %s/storage" % self.workdir,
            "log:",
            "  - target: stderr",
            "    any: info",
            "template:",
            "  - id: default",
            "    zonefile-sync: -1",
            "    zonefile-load: whole",
            "    journal-content: none",
            "    semantic-checks: off",
            "zone:",
        ]
        for origin, path in self.zones:
            lines += ["  - domain: %s" % origin, "    file: %s" % path]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return [shutil.which("knotd") or "/usr/sbin/knotd", "-c", conf]


class Nsd(Server):
    name = "nsd"

    def command(self):
        conf = os.path.join(self.workdir, "nsd.conf")
        w = self.workdir
        lines = [
            "server:",
            "  ip-address: 127.0.0.1@%d" % self.port,
            "  port: %d" % self.port,
            "  do-ip6: no",
            "  server-count: 1",
            '  database: ""',
            '  zonelistfile: "%s/zone.list"' % w,
            '  xfrdfile: "%s/xfrd.state"' % w,
            '  xfrdir: "%s"' % w,
            '  pidfile: "%s/nsd.pid"' % w,
            '  username: ""',
            '  chroot: ""',
            '  zonesdir: "%s"' % w,
            '  identity: "%s"' % IDENTITY,
            "  hide-identity: no",
            '  version: "%s"' % VERSION,
            "  hide-version: no",
            "  verbosity: 1",
            # Response rate limiting is compiled in and on by default: thousands of queries
            # from 127.0.0.1 would be slipped/truncated.
            "  rrl-ratelimit: 0",
            "  rrl-whitelist-ratelimit: 0",
            "  ipv4-edns-size: %d" % UDP_MAX_PAYLOAD,
            "  ipv6-edns-size: %d" % UDP_MAX_PAYLOAD,
            "remote-control:",
            "  control-enable: no",
        ]
        for origin, path in self.zones:
            lines += ["zone:", "  name: %s" % origin, '  zonefile: "%s"' % path]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return [shutil.which("nsd") or "/usr/sbin/nsd", "-d", "-c", conf]


class Holdfast(Server):
    name = "holdfast"

    def __init__(self, workdir, zones, binary):
        super().__init__(workdir, zones)
        self.binary = binary

    def command(self):
        conf = os.path.join(self.workdir, "holdfast.yaml")
        lines = [
            "server:",
            '  listen: ["127.0.0.1@%d"]' % self.port,
            "  workers: 1",
            "  storage: %s/store" % self.workdir,
            "  udp-max-payload: %d" % UDP_MAX_PAYLOAD,
            '  identity: "%s"' % IDENTITY,
            '  version: "%s"' % VERSION,
            "zones:",
        ]
        for origin, path in self.zones:
            lines += ["  - domain: %s" % origin, "    file: %s" % path]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        return [self.binary, "run", "-c", conf]
