# SPDX-License-Identifier: MIT
"""The DNSSEC-signed zones of the differential test.

One source file (tests/data/dnssec/sec.example.zone, relative names only, no $ORIGIN) is
signed at every run with Debian's dnssec-signzone (tests/integration/lib/signzone.py) into the
temp dir, twice:

  sec.example.    NSEC
  sec3.example.   NSEC3, salt CAFE0123, 5 additional iterations, opt-out

Keys are made fresh on each run, so signatures (and key tags) change from run to run, but
every server of a run loads the same signed files; NSEC3 owner names depend only on the salt
and iterations, so the corpus (which also asks for them) is the same on every run.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import signzone  # noqa: E402

DNSSEC_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                           "..", "data", "dnssec"))
SOURCE = "sec.example.zone"
NSEC3 = signzone.Nsec3(iterations=5, salt="cafe0123", optout=True)
# (origin, NSEC3 parameters or None for NSEC)
SIGNED_ZONES = [("sec.example.", None), ("sec3.example.", NSEC3)]


def sign_all(workdir, source_dir=DNSSEC_DIR):
    """Signs the source for every origin of SIGNED_ZONES into workdir/signed.

    Returns [(origin, signed zone file path)] in SIGNED_ZONES order."""
    out_dir = os.path.join(workdir, "signed")
    os.makedirs(out_dir, exist_ok=True)
    src = os.path.join(os.path.abspath(source_dir), SOURCE)
    zones = []
    for origin, nsec3 in SIGNED_ZONES:
        signed = signzone.sign(src, origin, out_dir, nsec3=nsec3)
        zones.append((origin, signed.path))
    return zones
