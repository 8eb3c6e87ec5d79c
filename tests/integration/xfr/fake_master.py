# SPDX-License-Identifier: MIT
"""A fake primary for the faults a real one will not produce (garbage, truncation, stalls).

It serves one zone (or several with the same records: pass a list of origins) on 127.0.0.1
over UDP and TCP, from threads of the test process:

    fm = FakeMaster("bad.test.", records)   # records: zone file lines relative to the origin
    fm.start()
    fm.set(serial=2, mode="truncated")
    ...
    fm.stop()                               # or fake_master.cleanup_all() in a finally block

Modes (switch at any time with set()):
  good       SOA over UDP/TCP; AXFR, and IXFR answered AXFR-style (RFC 1995 4 allows it)
  silent     no answer to anything (UDP dropped, TCP accepted and never answered)
  stall      SOA answered (with the current serial, so the secondary wants a transfer), TCP
             accepted, the AXFR/IXFR query read, then nothing is sent
  malformed  SOA answered; AXFR/IXFR gets a length-framed message whose answer section is
             broken (a record's RDLENGTH runs past the end of the message)
  truncated  SOA answered; AXFR/IXFR gets the opening SOA and part of the records, then the
             connection is closed before the closing SOA (RFC 5936 2.2)
  drip       SOA answered; AXFR/IXFR is answered in full, one small message (one record) every
             `drip_interval` seconds (9 by default: under holdfast's 10 s per-message timeout)
  tc         SOA answers over UDP and over TCP have the TC bit and no records (a broken master;
             over TCP there is nothing to fall back to); AXFR/IXFR as in good
Every request is recorded in `requests` as (monotonic time, transport, qtype text).

Run as a script to serve by hand: fake_master.py ZONE PORT MODE [SERIAL].
"""

import socket
import struct
import sys
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone

MODES = ("good", "silent", "stall", "malformed", "truncated", "drip", "tc")
RECORDS_PER_MESSAGE = 50

_LIVE = []


class FakeMaster:
    def __init__(self, origin, records, serial=1, mode="good", host="127.0.0.1", port=0,
                 drip_interval=9.0):
        origins = [origin] if isinstance(origin, str) else list(origin)
        self.origins = [dns.name.from_text(o) for o in origins]
        self.origin = self.origins[0]
        self.drip_interval = drip_interval
        self.host = host
        self.lock = threading.Lock()
        self.records = list(records)
        self.serial = serial
        self.mode = mode
        self.requests = []
        self._stop = threading.Event()
        self._threads = []
        self._conns = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((host, port))
        self.port = self.tcp.getsockname()[1]
        self.udp.bind((host, self.port))
        self.tcp.listen(16)

    @property
    def address(self):
        return "%s@%d" % (self.host, self.port)

    def set(self, serial=None, mode=None, records=None):
        with self.lock:
            if serial is not None:
                self.serial = serial
            if mode is not None:
                assert mode in MODES, mode
                self.mode = mode
            if records is not None:
                self.records = list(records)

    def start(self):
        for fn in (self._udp_loop, self._tcp_loop):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self._threads.append(t)
        _LIVE.append(self)
        return self

    def stop(self):
        self._stop.set()
        for s in [self.udp, self.tcp] + self._conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=2)
        if self in _LIVE:
            _LIVE.remove(self)

    def xfr_requests(self, since=0.0):
        return [r for r in self.requests if r[0] >= since and r[2] in ("AXFR", "IXFR")]

    # -- zone data ---------------------------------------------------------------------------

    def _zone(self, origin=None):
        """(SOA rrset, list of the other rrsets) of the current serial."""
        origin = origin or self.origin
        with self.lock:
            serial, records = self.serial, list(self.records)
        text = "$TTL 3600\n@ SOA ns.fake.invalid. hostmaster.fake.invalid. %d 3600 600 86400 " \
               "300\n" % serial + "\n".join(records) + "\n"
        zone = dns.zone.from_text(text, origin=origin, relativize=False,
                                  check_origin=False)
        soa, rest = None, []
        for name, node in sorted(zone.nodes.items()):
            for rds in node.rdatasets:
                rrset = dns.rrset.RRset(name, rds.rdclass, rds.rdtype)
                rrset.update(rds)
                if rds.rdtype == dns.rdatatype.SOA and name == origin:
                    soa = rrset
                else:
                    rest.append(rrset)
        return soa, rest

    def _origin_of(self, query):
        """The served origin the query asks about, or None."""
        name = query.question[0].name if query.question else None
        return name if name in self.origins else None

    def _soa_response(self, query, mode):
        resp = dns.message.make_response(query)
        origin = self._origin_of(query)
        if origin is None:
            resp.set_rcode(dns.rcode.REFUSED)
            return resp
        resp.flags |= dns.flags.AA
        if mode == "tc":
            resp.flags |= dns.flags.TC
            return resp
        resp.answer.append(self._zone(origin)[0])
        return resp

    # -- UDP ---------------------------------------------------------------------------------

    def _udp_loop(self):
        while not self._stop.is_set():
            try:
                wire, peer = self.udp.recvfrom(65535)
            except OSError:
                return
            try:
                query = dns.message.from_wire(wire)
            except dns.exception.DNSException:
                continue
            qtype = dns.rdatatype.to_text(query.question[0].rdtype) if query.question else "-"
            self.requests.append((time.monotonic(), "udp", qtype))
            with self.lock:
                mode = self.mode
            if mode == "silent" or query.opcode() != dns.opcode.QUERY or not query.question:
                continue
            if query.question[0].rdtype == dns.rdatatype.SOA:
                resp = self._soa_response(query, mode)
            else:
                resp = dns.message.make_response(query)
                resp.set_rcode(dns.rcode.REFUSED if query.question[0].rdtype in (
                    dns.rdatatype.AXFR, dns.rdatatype.IXFR) else dns.rcode.NOERROR)
            try:
                self.udp.sendto(resp.to_wire(), peer)
            except OSError:
                pass

    # -- TCP ---------------------------------------------------------------------------------

    def _tcp_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            self._conns.append(conn)
            t = threading.Thread(target=self._tcp_conn, args=(conn,), daemon=True)
            t.start()

    def _recv_exact(self, conn, n):
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def _send(self, conn, msg_wire):
        conn.sendall(struct.pack("!H", len(msg_wire)) + msg_wire)

    def _hold(self, conn):
        """Keeps the connection open, sending nothing, until the client closes it."""
        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                if not conn.recv(65535):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def _tcp_conn(self, conn):
        try:
            with self.lock:
                mode = self.mode
            if mode == "silent":
                self._hold(conn)
                return
            while not self._stop.is_set():
                head = self._recv_exact(conn, 2)
                if head is None:
                    return
                wire = self._recv_exact(conn, struct.unpack("!H", head)[0])
                if wire is None:
                    return
                query = dns.message.from_wire(wire)
                qtype = query.question[0].rdtype
                self.requests.append((time.monotonic(), "tcp", dns.rdatatype.to_text(qtype)))
                with self.lock:
                    mode = self.mode
                if qtype == dns.rdatatype.SOA:
                    self._send(conn, self._soa_response(query, mode).to_wire())
                elif qtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
                    if not self._transfer(conn, query, mode):
                        return
                else:
                    resp = dns.message.make_response(query)
                    resp.set_rcode(dns.rcode.REFUSED)
                    self._send(conn, resp.to_wire())
        except (OSError, dns.exception.DNSException):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _messages(self, query, rrsets, per_message=RECORDS_PER_MESSAGE):
        """Splits rrsets (one RR each, in order) into response messages."""
        out = []
        for start in range(0, len(rrsets), per_message):
            resp = dns.message.make_response(query)
            resp.flags |= dns.flags.AA
            if start:
                resp.question = []  # RFC 5936 2.2.1: later messages may omit the question
            resp.answer = rrsets[start:start + per_message]
            out.append(resp.to_wire())
        return out

    def _transfer(self, conn, query, mode):
        """Answers one AXFR/IXFR in `mode`; returns False when the connection is to be closed."""
        origin = self._origin_of(query)
        if origin is None:
            resp = dns.message.make_response(query)
            resp.set_rcode(dns.rcode.REFUSED)
            self._send(conn, resp.to_wire())
            return True
        soa, rest = self._zone(origin)
        single = []
        for rrset in rest:  # one RR per rrset entry, so messages can be cut anywhere
            for rd in rrset:
                one = dns.rrset.RRset(rrset.name, rrset.rdclass, rrset.rdtype)
                one.add(rd, rrset.ttl)
                single.append(one)
        if mode == "stall":
            self._hold(conn)
            return False
        if mode in ("good", "tc"):
            for wire in self._messages(query, [soa] + single + [soa]):
                self._send(conn, wire)
            return True
        if mode == "drip":
            for i, wire in enumerate(self._messages(query, [soa] + single + [soa], per_message=1)):
                if i and self._stop.wait(self.drip_interval):
                    return False
                self._send(conn, wire)
            return True
        if mode == "truncated":
            half = single[:max(1, len(single) // 2)]
            for wire in self._messages(query, [soa] + half):
                self._send(conn, wire)
            time.sleep(0.2)
            conn.shutdown(socket.SHUT_RDWR)
            return False
        if mode == "malformed":
            # A well-formed message [SOA], then one more A record whose RDLENGTH (400) runs
            # past the end of the message: the frame is complete, its content is not.
            wire = bytearray(self._messages(query, [soa])[0])
            struct.pack_into("!H", wire, 6, struct.unpack_from("!H", wire, 6)[0] + 1)
            wire += struct.pack("!HHHIH", 0xC00C, dns.rdatatype.A, dns.rdataclass.IN, 3600,
                                400) + bytes([192, 0, 2, 99])
            self._send(conn, bytes(wire))
            self._hold(conn)
            return False
        raise AssertionError("unknown mode %s" % mode)


def cleanup_all():
    for fm in list(_LIVE):
        fm.stop()


if __name__ == "__main__":
    zone, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    serial = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    recs = ["@ NS ns1", "ns1 A 192.0.2.1"] + ["h%d A 198.51.100.%d" % (i, i % 250 + 1)
                                            for i in range(200)]
    fm = FakeMaster(zone, recs, serial=serial, mode=mode, port=port).start()
    print("serving %s on %s in mode %s" % (zone, fm.address, mode), flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        fm.stop()
