#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""DNSSEC helpers for scripts/bench.sh: sign the benchmark zone (cached), and check that a server
answers DO queries on it with what a validator needs.

  sign   --zone Z --origin O --mode nsec3|nsec --cache DIR
         Signs Z with BIND's dnssec-keygen/dnssec-signzone (ECDSA P-256, one KSK and one ZSK;
         NSEC3: SHA-1, 0 extra iterations, no salt, no opt-out, as RFC 9276 recommends), in
         `full` output format (one record per line, absolute names). The result is cached under
         DIR, keyed by the zone file's content, the origin, the mode and the dnssec-signzone
         version; it is signed again once its signatures have less than 10 days left. Prints
         "path=SIGNED dnskey=FILE seconds=S cached=0|1".
  check  --port P --origin O --mode nsec3|nsec --dnskey FILE --queries Q
         Sends DO queries over UDP (TCP after TC) and checks each answer: every RRset in the
         answer and authority sections carries an RRSIG that validates with the zone's DNSKEY
         (read from FILE, not from the server); an NXDOMAIN proves the name away (NSEC3: the
         closest encloser matches, the next closer name and the wildcard at the closest encloser
         are covered; NSEC: the name and the wildcard are covered); a NODATA has a matching
         NSEC3/NSEC without the type; a referral to an unsigned child proves there is no DS.
         Probes: the canary (A, then TXT for NODATA), the apex DNSKEY, two made-up names, and
         the first --samples lines of the query file. Prints one line "ok=0|1 ..." on stdout
         and the problems found on stderr; exits 0 whenever it could ask the server.
"""
import argparse
import base64
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

RESIGN_MARGIN = 10 * 86400   # sign again when the signatures expire sooner than this
VALIDITY = 30 * 86400        # signature validity (inception one hour back)
KEEP_ENTRIES = 4             # cache entries kept (least recently used go first)


def log(msg):
    print(f"dnssec: {msg}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# sign

def signzone_version():
    res = subprocess.run(["dnssec-signzone", "-V"], capture_output=True, text=True)
    return (res.stdout + res.stderr).strip().splitlines()[0] if res.returncode == 0 else "?"


def run(args, cwd):
    res = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), res.returncode,
                                                   (res.stderr or res.stdout).strip()))
    return res.stdout


def cache_key(zone, origin, mode):
    h = hashlib.sha256()
    with open(zone, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    h.update(f"\0{origin}\0{mode}\0alg13 ksk+zsk\0nsec3 1 0 -\0{signzone_version()}".encode())
    return h.hexdigest()[:20]


def prune(cache, keep):
    entries = []
    for d in os.listdir(cache):
        p = os.path.join(cache, d)
        if d.startswith("signed-") and os.path.isdir(p):
            entries.append((os.path.getmtime(p), p))
        elif d.startswith("tmp-") and time.time() - os.path.getmtime(p) > 3600:
            shutil.rmtree(p, ignore_errors=True)  # left by an interrupted run
    entries.sort(reverse=True)
    for _, p in entries[keep:]:
        shutil.rmtree(p, ignore_errors=True)


def cmd_sign(args):
    origin = args.origin if args.origin.endswith(".") else args.origin + "."
    os.makedirs(args.cache, exist_ok=True)
    key = cache_key(args.zone, origin, args.mode)
    entry = os.path.join(args.cache, f"signed-{args.mode}-{key}")
    meta = os.path.join(entry, "expires")
    try:
        with open(meta) as f:
            expires = int(f.read().strip())
        if expires - time.time() > RESIGN_MARGIN:
            os.utime(entry)
            print(f"path={entry}/zone.signed dnskey={entry}/dnskey.txt seconds=0 cached=1")
            return 0
        log(f"cached signatures in {entry} expire soon: signing again")
    except (OSError, ValueError):
        pass
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="tmp-", dir=args.cache)
    try:
        keys = os.path.join(tmp, "keys")
        os.makedirs(keys)
        ksk = run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K", keys,
                   origin], keys).strip()
        zsk = run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-K", keys, origin],
                  keys).strip()
        now = int(time.time())
        cmd = ["dnssec-signzone", "-q", "-S", "-K", keys, "-d", keys, "-o", origin,
               "-f", os.path.join(tmp, "zone.signed"), "-O", "full",
               "-s", str(now - 3600), "-e", str(now + VALIDITY)]
        if args.mode == "nsec3":
            cmd += ["-3", "-", "-H", "0"]
        if not args.verify:
            cmd.append("-P")
        run(cmd + [os.path.abspath(args.zone)], keys)
        with open(os.path.join(tmp, "dnskey.txt"), "w") as out:
            for k in (ksk, zsk):
                with open(os.path.join(keys, k + ".key")) as f:
                    out.writelines(l for l in f if l.strip() and not l.startswith(";"))
        with open(os.path.join(tmp, "expires"), "w") as f:
            f.write(f"{now + VALIDITY}\n")
        shutil.rmtree(entry, ignore_errors=True)
        os.rename(tmp, entry)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(args.cache, KEEP_ENTRIES)
    print(f"path={entry}/zone.signed dnskey={entry}/dnskey.txt "
          f"seconds={time.monotonic() - t0:.1f} cached=0")
    return 0


# ---------------------------------------------------------------------------------------------
# check

class Checker:
    def __init__(self, args):
        import dns.name
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset
        self.args = args
        self.origin = dns.name.from_text(args.origin)
        rdatas = []
        with open(args.dnskey) as f:
            for line in f:
                parts = line.split()
                if "DNSKEY" in parts:
                    rdatas.append(" ".join(parts[parts.index("DNSKEY") + 1:]))
        self.keys = {self.origin: dns.rrset.from_text_list(
            self.origin, 3600, dns.rdataclass.IN, dns.rdatatype.DNSKEY, rdatas)}
        self.problems = {}   # kind -> list of messages
        self.counts = {}     # kind -> [checked, ok]

    # -- transport --
    def ask(self, qname, qtype):
        import dns.flags
        import dns.message
        import dns.query
        q = dns.message.make_query(qname, qtype, want_dnssec=True, payload=1232)
        q.flags &= ~dns.flags.RD
        r = dns.query.udp(q, self.args.server, port=self.args.port, timeout=2,
                          ignore_unexpected=True)
        if r.flags & dns.flags.TC:
            r = dns.query.tcp(q, self.args.server, port=self.args.port, timeout=5)
        return r

    # -- pieces --
    def rrsig_for(self, msg, section, rrset):
        import dns.rdatatype
        for rs in section:
            if (rs.rdtype == dns.rdatatype.RRSIG and rs.covers == rrset.rdtype
                    and rs.name == rrset.name):
                return rs
        return None

    def signed_ok(self, msg, section, rrset, errs):
        import dns.dnssec
        sig = self.rrsig_for(msg, section, rrset)
        if sig is None:
            errs.append(f"no RRSIG for {rrset.name} {rrset_type(rrset)}")
            return False
        try:
            dns.dnssec.validate(rrset, sig, self.keys)
        except Exception as e:  # dns.dnssec.ValidationFailure, or a malformed RRSIG
            errs.append(f"RRSIG for {rrset.name} {rrset_type(rrset)} does not validate: {e}")
            return False
        return True

    def nsec3_records(self, msg, errs):
        """{hash (base32hex, upper) -> (next hash, rdata)} of the signed NSEC3 in authority."""
        import dns.rdatatype
        out = {}
        for rs in msg.authority:
            if rs.rdtype != dns.rdatatype.NSEC3:
                continue
            if not self.signed_ok(msg, msg.authority, rs, errs):
                continue
            label = rs.name.labels[0].decode().upper()
            for rd in rs:
                out[label] = (base64.b32hexencode(rd.next).decode().upper(), rd)
        return out

    def nsec3_hash(self, name, params):
        import dns.dnssec
        return dns.dnssec.nsec3_hash(name, params.salt or b"", params.iterations,
                                     params.algorithm).upper()

    @staticmethod
    def covers(owner, nxt, h):
        return owner < h < nxt if owner < nxt else (h > owner or h < nxt)  # last one wraps

    def nsec3_matching(self, recs, name):
        for owner, (nxt, rd) in recs.items():
            if self.nsec3_hash(name, rd) == owner:
                return rd
        return None

    def nsec3_covering(self, recs, name):
        for owner, (nxt, rd) in recs.items():
            if self.covers(owner, nxt, self.nsec3_hash(name, rd)):
                return rd
        return None

    def nsec_records(self, msg, errs):
        import dns.rdatatype
        out = []
        for rs in msg.authority:
            if rs.rdtype == dns.rdatatype.NSEC and self.signed_ok(msg, msg.authority, rs, errs):
                out += [(rs.name, rd) for rd in rs]
        return out

    @staticmethod
    def nsec_covers(owner, nxt, name):
        if owner < nxt:
            return owner < name < nxt
        return name > owner or name < nxt  # the last NSEC points back to the apex

    # -- proofs --
    def prove_nxdomain(self, msg, qname, errs):
        import dns.name
        if self.args.mode == "nsec3":
            recs = self.nsec3_records(msg, errs)
            if not recs:
                errs.append("no (signed) NSEC3 in authority")
                return False
            ce = qname.parent()
            while ce != self.origin and self.nsec3_matching(recs, ce) is None:
                if not ce.is_subdomain(self.origin) or ce == dns.name.root:
                    break
                ce = ce.parent()
            if self.nsec3_matching(recs, ce) is None:
                errs.append(f"no NSEC3 matches a closest encloser of {qname}")
                return False
            nc = dns.name.Name(qname.labels[-(len(ce.labels) + 1):])
            ok = True
            if self.nsec3_covering(recs, nc) is None:
                errs.append(f"no NSEC3 covers the next closer name {nc}")
                ok = False
            if self.nsec3_covering(recs, dns.name.Name((b"*",) + ce.labels)) is None:
                errs.append(f"no NSEC3 covers the wildcard *.{ce}")
                ok = False
            return ok
        recs = self.nsec_records(msg, errs)
        if not recs:
            errs.append("no (signed) NSEC in authority")
            return False
        ok = True
        if not any(self.nsec_covers(o, rd.next, qname) for o, rd in recs):
            errs.append(f"no NSEC covers {qname}")
            ok = False
        # The wildcard at the closest encloser: the longest common ancestor of qname and the
        # covering NSEC's ends; checking *.<each ancestor> until one is covered is enough here.
        anc = qname.parent()
        while not any(self.nsec_covers(o, rd.next, dns.name.Name((b"*",) + anc.labels))
                      for o, rd in recs):
            if anc == self.origin:
                errs.append(f"no NSEC covers a wildcard above {qname}")
                return False
            anc = anc.parent()
        return ok

    def prove_nodata(self, msg, qname, qtype, errs, what="NODATA"):
        if self.args.mode == "nsec3":
            recs = self.nsec3_records(msg, errs)
            rd = self.nsec3_matching(recs, qname)
        else:
            rd = next((r for o, r in self.nsec_records(msg, errs) if o == qname), None)
        if rd is None:
            errs.append(f"{what}: no signed {self.args.mode.upper()} matching {qname}")
            return False
        types = set()
        for window, bitmap in rd.windows:
            for i, byte in enumerate(bitmap):
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        types.add(window * 256 + i * 8 + bit)
        if int(qtype) in types:
            errs.append(f"{what}: the {self.args.mode.upper()} for {qname} lists the type asked")
            return False
        return True

    # -- one query --
    def check(self, qname, qtype, expect=None):
        import dns.flags
        import dns.name
        import dns.rcode
        import dns.rdatatype
        qname = dns.name.from_text(qname) if isinstance(qname, str) else qname
        qtype = dns.rdatatype.from_text(qtype) if isinstance(qtype, str) else qtype
        errs = []
        try:
            msg = self.ask(qname, qtype)
        except Exception as e:
            self.note("error", f"{qname} {dns.rdatatype.to_text(qtype)}: no answer ({e})")
            return
        rcode = msg.rcode()
        if msg.edns < 0 or not (msg.ednsflags & dns.flags.DO):
            errs.append("no OPT record with the DO bit in the answer")
        referral = (not msg.answer and rcode == dns.rcode.NOERROR
                    and not (msg.flags & dns.flags.AA)
                    and any(rs.rdtype == dns.rdatatype.NS for rs in msg.authority))
        if rcode == dns.rcode.NXDOMAIN:
            kind = "nxdomain"
        elif rcode != dns.rcode.NOERROR:
            kind = "other"
            errs.append(f"rcode {dns.rcode.to_text(rcode)}")
        elif referral:
            kind = "referral"
        elif msg.answer:
            kind = "answer"
        else:
            kind = "nodata"
        if expect and kind != expect:
            errs.append(f"expected {expect}, got {kind}")
        # Every RRset in answer and authority is signed, except a referral's NS (the child's).
        for section in (msg.answer, msg.authority):
            for rs in section:
                if rs.rdtype == dns.rdatatype.RRSIG:
                    continue
                if referral and rs.rdtype == dns.rdatatype.NS:
                    continue
                if rs.rdtype in (dns.rdatatype.NSEC3, dns.rdatatype.NSEC):
                    continue  # validated where the proof is checked
                self.signed_ok(msg, section, rs, errs)
        if kind in ("nxdomain", "nodata"):
            if not any(rs.rdtype == dns.rdatatype.SOA for rs in msg.authority):
                errs.append("no SOA in authority")
        if kind == "nxdomain":
            self.prove_nxdomain(msg, qname, errs)
        elif kind == "nodata":
            self.prove_nodata(msg, qname, qtype, errs)
        elif kind == "referral":
            cut = next(rs.name for rs in msg.authority if rs.rdtype == dns.rdatatype.NS)
            if not any(rs.rdtype == dns.rdatatype.DS for rs in msg.authority):
                self.prove_nodata(msg, cut, dns.rdatatype.DS, errs, what="referral without DS")
        label = f"{kind} {qname} {dns.rdatatype.to_text(qtype)}"
        c = self.counts.setdefault(kind, [0, 0])
        c[0] += 1
        if errs:
            self.note(kind, f"{label}: " + "; ".join(dict.fromkeys(errs)))
        else:
            c[1] += 1

    def note(self, kind, msg):
        self.problems.setdefault(kind, []).append(msg)
        if kind == "error":
            self.counts.setdefault(kind, [0, 0])[0] += 1


def rrset_type(rrset):
    import dns.rdatatype
    return dns.rdatatype.to_text(rrset.rdtype)


def cmd_check(args):
    import dns.name
    args.origin = args.origin if args.origin.endswith(".") else args.origin + "."
    ck = Checker(args)
    rng = random.Random(7)
    ck.check(f"{args.canary}", "A", "answer")
    ck.check(f"{args.canary}", "TXT", "nodata")
    ck.check(args.origin, "DNSKEY", "answer")
    ck.check(f"nxcheck{rng.randrange(1 << 30):x}.{args.origin}", "A", "nxdomain")
    ck.check(f"nx{rng.randrange(1 << 30):x}.sub.{args.canary}", "A", "nxdomain")
    if args.queries:
        with open(args.queries) as f:
            for i, line in enumerate(f):
                if i >= args.samples:
                    break
                if ck.counts.get("error", [0])[0] >= 5:
                    log("5 queries unanswered: giving up")
                    break
                parts = line.split()
                if len(parts) >= 2:
                    ck.check(dns.name.from_text(parts[0]), parts[1])
    total = sum(c[0] for c in ck.counts.values())
    bad = sum(c[0] - c[1] for c in ck.counts.values())
    summary = " ".join(f"{k}={c[1]}/{c[0]}" for k, c in sorted(ck.counts.items()))
    # What is missing, in words, for the warning: the first problem of each kind.
    missing = []
    for kind, msgs in sorted(ck.problems.items()):
        for m in msgs[:args.show]:
            log(f"{kind}: {m}")
        if len(msgs) > args.show:
            log(f"{kind}: ... {len(msgs) - args.show} more")
        missing.append(kind)
    print(f"ok={int(bad == 0)} checked={total} bad={bad} {summary}"
          + (f" failing={','.join(missing)}" if missing else ""))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("sign")
    p.add_argument("--zone", required=True)
    p.add_argument("--origin", required=True)
    p.add_argument("--mode", choices=["nsec3", "nsec"], default="nsec3")
    p.add_argument("--cache", required=True)
    p.add_argument("--verify", action="store_true",
                   help="let dnssec-signzone verify the signed zone (about twice the time)")
    p.set_defaults(fn=cmd_sign)

    p = sub.add_parser("check")
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--origin", required=True)
    p.add_argument("--mode", choices=["nsec3", "nsec"], default="nsec3")
    p.add_argument("--dnskey", required=True)
    p.add_argument("--canary", required=True)
    p.add_argument("--queries")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--show", type=int, default=3, help="problems printed per kind")
    p.set_defaults(fn=cmd_check)

    args = ap.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
