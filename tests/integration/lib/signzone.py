# SPDX-License-Identifier: MIT
"""Signing test zones with BIND's dnssec-keygen / dnssec-signzone (Debian bind9-utils).

    signed = signzone.sign(src, "example.", out_dir, nsec3=signzone.Nsec3(iterations=5,
                           salt="aabbccdd", optout=True))
    signed.path           # the signed zone file
    signed.anchor_path    # a delv trust-anchors file for the zone's KSK
    signed.ds             # DS records (text) for the parent zone

Keys are ECDSA P-256 (algorithm 13), one KSK and one ZSK, made fresh in out_dir on each call.
Signatures are valid from one hour ago for 30 days, so tests do not depend on the clock much.
"""

import os
import subprocess
from dataclasses import dataclass


@dataclass
class Nsec3:
    iterations: int = 0
    salt: str = "-"  # hex, or "-" for none
    optout: bool = False


@dataclass
class Signed:
    path: str
    origin: str
    anchor_path: str
    ds: list
    key_dir: str


def _run(args, cwd):
    res = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), res.returncode,
                                                   res.stderr.strip() or res.stdout.strip()))
    return res.stdout


def sign(src, origin, out_dir, nsec3=None, out_name=None):
    """Signs zone file `src` for `origin` into out_dir; returns a Signed."""
    origin = origin if origin.endswith(".") else origin + "."
    key_dir = os.path.join(out_dir, "keys-" + origin.rstrip(".").replace("/", "_") +
                           ("-nsec3" if nsec3 else "-nsec"))
    os.makedirs(key_dir, exist_ok=True)
    ksk = _run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-f", "KSK", "-K", key_dir,
                origin], key_dir).strip()
    _run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-K", key_dir, origin], key_dir)
    out = os.path.join(out_dir, out_name or (origin.rstrip(".") + (".nsec3" if nsec3 else
                                                                  ".nsec") + ".signed"))
    args = ["dnssec-signzone", "-q", "-S", "-K", key_dir, "-o", origin, "-f", out,
            "-s", "now-3600", "-e", "now+2592000", "-d", key_dir]
    if nsec3:
        args += ["-3", nsec3.salt, "-H", str(nsec3.iterations)]
        if nsec3.optout:
            args.append("-A")
    args.append(os.path.abspath(src))
    _run(args, key_dir)
    ds = _run(["dnssec-dsfromkey", "-2", os.path.join(key_dir, ksk + ".key")], key_dir)
    ds = [line.strip() for line in ds.splitlines() if line.strip()]
    # delv -a FILE: a trust-anchors clause with the KSK as a static key.
    with open(os.path.join(key_dir, ksk + ".key")) as f:
        key_line = [l for l in f.read().splitlines() if l and not l.startswith(";")][0]
    parts = key_line.split()
    i = parts.index("DNSKEY")
    flags, proto, alg = parts[i + 1:i + 4]
    pub = "".join(parts[i + 4:])
    anchor = os.path.join(key_dir, "anchors.conf")
    with open(anchor, "w") as f:
        f.write('trust-anchors {\n  "%s" static-key %s %s %s "%s";\n};\n' %
                (origin, flags, proto, alg, pub))
    return Signed(path=out, origin=origin, anchor_path=anchor, ds=ds, key_dir=key_dir)
