#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Deterministic benchmark zone and dnsperf query-file generator for scripts/bench.sh.

The zone mixes A, AAAA, MX, TXT and CNAME names, two-label names under shared parents (so there
are empty non-terminals), and delegations with in-bailiwick glue. The last record written is the
canary (canary.<origin> A 198.51.100.77): bench.sh's startup timer asks for it, so a server that
answers it has loaded the whole file.

The query file mixes answers (most), referrals, CNAME chains, NXDOMAIN and NODATA.
"""
import argparse
import random
import sys

CANARY_LABEL = "canary"
CANARY_ADDR = "198.51.100.77"
TTL = 3600

# (kind, weight): what a generated name holds. Delegations are kept at 5 % as in a typical
# mid-size zone; the rest mirrors a hosting zone's mix.
KINDS = [("a", 40), ("a_aaaa", 15), ("aaaa", 10), ("mx", 10), ("txt", 10), ("cname", 10),
         ("deleg", 5)]
ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def b36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def pick_kind(rng):
    total = sum(w for _, w in KINDS)
    x = rng.randrange(total)
    for kind, w in KINDS:
        if x < w:
            return kind
        x -= w
    raise AssertionError


def make_owner(rng, i):
    """Unique relative owner name; one in five sits under a shared second-level parent."""
    label = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(3, 9))) + "-" + b36(i)
    if rng.randrange(5) == 0:
        return f"{label}.grp{rng.randrange(500)}"
    return label


def ipv4(rng):
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def ipv6(rng):
    return "2001:db8:%x:%x::%x" % (rng.randrange(65536), rng.randrange(65536),
                                   rng.randrange(1, 65536))


def records_for(rng, owner, kind, previous):
    """Zone lines for one owner; returns (lines, qtype a query should ask for)."""
    if kind == "a":
        return [f"{owner} {TTL} IN A {ipv4(rng)}"], "A"
    if kind == "a_aaaa":
        return [f"{owner} {TTL} IN A {ipv4(rng)}", f"{owner} {TTL} IN AAAA {ipv6(rng)}"], "AAAA"
    if kind == "aaaa":
        return [f"{owner} {TTL} IN AAAA {ipv6(rng)}"], "AAAA"
    if kind == "mx":
        # The exchange is an earlier in-zone name, so additional-section processing has work.
        target = previous[rng.randrange(len(previous))] if previous else "@"
        return [f"{owner} {TTL} IN MX 10 {target}", f"{owner} {TTL} IN A {ipv4(rng)}"], "MX"
    if kind == "txt":
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(10, 60)))
        return [f'{owner} {TTL} IN TXT "v=bench1 {text}"'], "TXT"
    if kind == "cname":
        target = previous[rng.randrange(len(previous))] if previous else "@"
        return [f"{owner} {TTL} IN CNAME {target}"], "A"
    if kind == "deleg":
        return [f"{owner} {TTL} IN NS ns1.{owner}", f"{owner} {TTL} IN NS ns2.{owner}",
                f"ns1.{owner} {TTL} IN A {ipv4(rng)}", f"ns2.{owner} {TTL} IN A {ipv4(rng)}"], "A"
    raise AssertionError(kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--origin", default="bench.example.")
    size = ap.add_mutually_exclusive_group(required=True)
    size.add_argument("--names", type=int, help="number of generated owner names")
    size.add_argument("--records", type=int, help="stop once this many records are written")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--zone-out", required=True)
    ap.add_argument("--queries-out", required=True)
    ap.add_argument("--queries", type=int, default=200000, help="lines in the query file")
    args = ap.parse_args()
    origin = args.origin if args.origin.endswith(".") else args.origin + "."

    rng = random.Random(args.seed)
    # Query candidates: (relative name, qtype). Bounded reservoir keeps memory flat at 1 M.
    cands = []
    max_cands = max(args.queries, 1)
    previous = []  # a window of earlier plain names, used as CNAME/MX targets
    n_records = 0
    n_names = 0
    with open(args.zone_out, "w") as z:
        z.write(f"$ORIGIN {origin}\n$TTL {TTL}\n")
        z.write(f"@ {TTL} IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 3600\n")
        z.write(f"@ {TTL} IN NS ns1\n@ {TTL} IN NS ns2\n")
        z.write(f"ns1 {TTL} IN A 192.0.2.1\nns2 {TTL} IN A 192.0.2.2\n")
        z.write(f"@ {TTL} IN MX 10 mail\nmail {TTL} IN A 192.0.2.25\n")
        n_records = 7
        i = 0
        while True:
            if args.names is not None and n_names >= args.names:
                break
            if args.records is not None and n_records >= args.records - 1:  # -1: canary
                break
            owner = make_owner(rng, i)
            i += 1
            kind = pick_kind(rng)
            lines, qtype = records_for(rng, owner, kind, previous)
            z.write("\n".join(lines) + "\n")
            n_records += len(lines)
            n_names += 1
            qname = f"www.{owner}" if kind == "deleg" else owner  # referral for delegations
            entry = (qname, qtype, kind)
            if len(cands) < max_cands:
                cands.append(entry)
            else:
                j = rng.randrange(n_names)
                if j < max_cands:
                    cands[j] = entry
            if kind in ("a", "a_aaaa", "aaaa"):
                if len(previous) < 4096:
                    previous.append(owner)
                else:
                    previous[rng.randrange(4096)] = owner
        z.write(f"{CANARY_LABEL} {TTL} IN A {CANARY_ADDR}\n")
        n_records += 1

    # 80 % existing data (answers, CNAME chains, referrals), 10 % NXDOMAIN, 10 % NODATA.
    qrng = random.Random(args.seed + 1)
    nodata_type = {"a": "TXT", "a_aaaa": "MX", "aaaa": "A", "mx": "AAAA", "txt": "A",
                   "cname": None, "deleg": None}
    with open(args.queries_out, "w") as q:
        for n in range(args.queries):
            roll = qrng.randrange(10)
            qname, qtype, kind = cands[qrng.randrange(len(cands))]
            if roll == 0:
                # Below an existing (non-delegated) name or directly below the apex.
                parent = f"{qname}." if kind != "deleg" and qrng.randrange(2) else ""
                q.write(f"nx{qrng.randrange(1 << 30):x}.{parent}{origin} A\n")
            elif roll == 1 and nodata_type[kind]:
                q.write(f"{qname}.{origin} {nodata_type[kind]}\n")
            else:
                q.write(f"{qname}.{origin} {qtype}\n")
    print(f"gen_zone: {args.zone_out}: {n_names + 1} names, {n_records} records; "
          f"{args.queries_out}: {args.queries} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
