#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of xfr_fuzz (tests/fuzz/corpus/xfr/: a master's reply messages for
"fuzz.example.", whose stored version is tests/fuzz/data/xfr-base.zone at serial 1) and
config_fuzz (tests/fuzz/corpus/config/: the example configs in conf/). The outputs are
committed; re-run this after changing it:  /usr/bin/python3 tests/fuzz/make_xfr_corpus.py

An xfr seed is one mode octet (bit 0: IXFR, bit 1: vanity set, bit 2: ZONEMD required, bit 3:
NSEC-signed stored version; see xfr_fuzz.cc), then each message as a big-endian u16 length and its octets."""

import os
import re
import shutil
import struct

import dns.flags
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
XFR_DIR = os.path.join(HERE, "corpus", "xfr")
CONFIG_DIR = os.path.join(HERE, "corpus", "config")
ORIGIN = dns.name.from_text("fuzz.example.")
AXFR, IXFR, VANITY, ZONEMD, SIGNED = 0, 1, 2, 4, 8


def soa(serial):
    return ("@", "SOA", f"ns1 hostmaster {serial} 7200 3600 1209600 300")


BASE = [("@", "NS", "ns1"), ("@", "NS", "ns2"), ("ns1", "A", "192.0.2.1"),
        ("ns2", "AAAA", "2001:db8::2"), ("www", "A", "192.0.2.80"), ("www", "A", "192.0.2.81"),
        ("alias", "CNAME", "www"), ("mail", "MX", "10 www"), ("sub", "NS", "ns.sub"),
        ("ns.sub", "A", "192.0.2.53"), ("a.b", "A", "192.0.2.3"), ("*.wild", "TXT", '"wildcard"'),
        ("dn", "DNAME", "target.test.")]


def message(records, qtype, first=True):
    """One reply: each record its own RRset, in the order given (SOAs repeat in a transfer)."""
    msg = dns.message.Message(id=0)
    msg.flags = dns.flags.QR | dns.flags.AA
    if first:
        msg.question.append(dns.rrset.RRset(ORIGIN, dns.rdataclass.IN,
                                            dns.rdatatype.from_text(qtype)))
    for owner, rtype, rdata in records:
        rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rtype), rdata,
                                 origin=ORIGIN, relativize=False)
        msg.answer.append(dns.rrset.from_rdata(dns.name.from_text(owner, ORIGIN), 3600, rd))
    return msg.to_wire(origin=None)


def seed(mode, *messages):
    return bytes([mode]) + b"".join(struct.pack("!H", len(m)) + m for m in messages)


def ixfr(*sequences, serial):
    """An incremental reply: the master's SOA, then each (from, to, removed, added) sequence."""
    records = [soa(serial)]
    for frm, to, removed, added in sequences:
        records += [soa(frm)] + removed + [soa(to)] + added
    return records + [soa(serial)]


def xfr_seeds():
    full = [soa(2)] + BASE + [("ftp", "A", "192.0.2.21"), soa(2)]
    one = ixfr((1, 2, [("www", "A", "192.0.2.81")], [("www", "A", "192.0.2.82"),
                                                      ("ftp", "A", "192.0.2.21")]), serial=2)
    signed = [("@", "RRSIG", "SOA 8 1 3600 20300101000000 20200101000000 1 fuzz.example. AAAA"),
              ("@", "NSEC3PARAM", "1 0 0 -")]
    return {
        "axfr-one-message": seed(AXFR, message(full, "AXFR")),
        "axfr-two-messages": seed(AXFR, message(full[:6], "AXFR"),
                                  message(full[6:], "AXFR", first=False)),
        "axfr-vanity": seed(AXFR | VANITY, message(full, "AXFR")),
        "axfr-zonemd-required": seed(AXFR | ZONEMD, message(full, "AXFR")),
        "ixfr-in-place": seed(IXFR, message(one, "IXFR")),
        "ixfr-vanity": seed(IXFR | VANITY, message(
            ixfr((1, 2, [("@", "NS", "ns2")], [("@", "NS", "ns3")]), serial=2), "IXFR")),
        "ixfr-zonemd-required": seed(IXFR | ZONEMD, message(one, "IXFR")),
        "ixfr-two-sequences": seed(IXFR, message(ixfr(
            (1, 2, [], [("tmp", "A", "192.0.2.9")]),
            (2, 3, [("tmp", "A", "192.0.2.9")], [("mail", "MX", "20 ns1")]), serial=3), "IXFR")),
        "ixfr-split": seed(IXFR, message(one[:3], "IXFR"), message(one[3:], "IXFR", first=False)),
        "ixfr-new-delegation": seed(IXFR, message(
            ixfr((1, 2, [], [("new", "NS", "ns.new"), ("ns.new", "A", "192.0.2.7")]),
                 serial=2), "IXFR")),
        "ixfr-remove-cut": seed(IXFR, message(
            ixfr((1, 2, [("sub", "NS", "ns.sub")], []), serial=2), "IXFR")),
        "ixfr-wildcard": seed(IXFR, message(
            ixfr((1, 2, [], [("*.b", "A", "192.0.2.4")]), serial=2), "IXFR")),
        # Issue 10, defect 5: other data beside a CNAME, refused on the in-place path too.
        "ixfr-cname-and-other-data": seed(IXFR, message(
            ixfr((1, 2, [], [("alias", "A", "192.0.2.5")]), serial=2), "IXFR")),
        "ixfr-signs-the-zone": seed(IXFR, message(ixfr((1, 2, [], signed), serial=2), "IXFR")),
        "ixfr-missing-record": seed(IXFR, message(
            ixfr((1, 2, [("nope", "A", "192.0.2.1")], []), serial=2), "IXFR")),
        "ixfr-axfr-style": seed(IXFR, message(full, "IXFR")),
        "ixfr-up-to-date": seed(IXFR, message([soa(1)], "IXFR")),
    }


# Inputs a fuzzer found (named by their SHA-1) that were added to the seeds by hand: kept.
FOUND = re.compile(r"^[0-9a-f]{40}$")


def main():
    for d in (XFR_DIR, CONFIG_DIR):
        os.makedirs(d, exist_ok=True)
        for name in os.listdir(d):
            if not FOUND.match(name):
                os.remove(os.path.join(d, name))
    seeds = xfr_seeds()
    # The same against the NSEC-signed stored version (the in-place path in a signed zone).
    seeds.update({name + "-signed-base": bytes([data[0] | SIGNED]) + data[1:]
                  for name, data in list(seeds.items()) if name.startswith("ixfr")})
    for name, data in sorted(seeds.items()):
        with open(os.path.join(XFR_DIR, name), "wb") as f:
            f.write(data)
    conf = os.path.join(ROOT, "conf")
    configs = sorted(n for n in os.listdir(conf) if n.endswith(".yaml"))
    for name in configs:
        shutil.copyfile(os.path.join(conf, name), os.path.join(CONFIG_DIR, name))
    print(f"{len(seeds)} xfr seeds in {XFR_DIR}, {len(configs)} config seeds in {CONFIG_DIR}")


if __name__ == "__main__":
    main()
