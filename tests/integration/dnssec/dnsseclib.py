# SPDX-License-Identifier: MIT
"""Helpers of the DNSSEC tests that tests/integration/lib lacks: re-signing a zone with the keys
of an earlier signzone.sign() (so its trust anchor stays valid), running `delv` against one
server and reading its verdict, and the command-line frame the two tests share."""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "xfr"))
import hftest  # noqa: E402
import knotmaster  # noqa: E402
from hftest import log  # noqa: E402

DELV = shutil.which("delv") or "/usr/bin/delv"
SIGNZONE = shutil.which("dnssec-signzone") or "/usr/bin/dnssec-signzone"
DELV_TIMEOUT = 15


def resign(signed, src, nsec3=None, out_name=None):
    """Signs `src` again with the keys signzone.sign() made for `signed` (same KSK, so
    signed.anchor_path still validates it); returns the new signed file's path. Same options
    as signzone.sign: signatures valid from an hour ago for 30 days."""
    out = os.path.join(os.path.dirname(signed.path),
                       out_name or os.path.basename(signed.path) + ".resigned")
    args = [SIGNZONE, "-q", "-S", "-K", signed.key_dir, "-o", signed.origin, "-f", out,
            "-s", "now-3600", "-e", "now+2592000", "-d", signed.key_dir]
    if nsec3:
        args += ["-3", nsec3.salt, "-H", str(nsec3.iterations)]
        if nsec3.optout:
            args.append("-A")
    args.append(os.path.abspath(src))
    res = subprocess.run(args, cwd=signed.key_dir, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(args), res.returncode,
                                                   res.stderr.strip() or res.stdout.strip()))
    return out


# --- delv ------------------------------------------------------------------------------------

class Verdict:
    """What one delv run said. status: the first `; ...` line of stdout ("fully validated",
    "negative response, fully validated", "unsigned answer", ...) or None; failure: the text
    after ";; resolution failed: " (for a validated negative answer it is "ncache nxdomain" or
    "ncache nxrrset"), or None; answer: the answer lines of stdout."""

    def __init__(self, argv, rc, out, err):
        self.argv = argv
        self.rc = rc
        self.out = out
        self.err = err
        m = re.search(r"^; ([a-z][^\n]*)$", out, re.M)
        self.status = m.group(1).strip() if m else None
        m = re.search(r"^;; resolution failed: (.*)$", out + "\n" + err, re.M)
        self.failure = m.group(1).strip() if m else None
        self.answer = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith(";")]

    def command(self):
        return " ".join(self.argv)

    def text(self):
        return "$ %s\n(exit %d)\n%s%s" % (self.command(), self.rc, self.out, self.err)


def delv(port, anchor, root, qname, qtype, tcp=False, host=hftest.HOST):
    """`delv @host -p port -a anchor +root=root qname qtype` (+tcp): validation starts at the
    zone's own KSK (the anchor file), so the zone apex is the top of the chain of trust."""
    argv = [DELV, "@" + host, "-p", str(port), "-a", anchor, "+root=" + root]
    if tcp:
        argv.append("+tcp")
    argv += [qname, qtype]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=DELV_TIMEOUT,
                           stdin=subprocess.DEVNULL)
        return Verdict(argv, r.returncode, r.stdout, r.stderr)
    except subprocess.TimeoutExpired:
        return Verdict(argv, -1, "", ";; delv did not finish within %d s\n" % DELV_TIMEOUT)


# --- the command-line frame ------------------------------------------------------------------

def main_frame(description, body, with_server=False):
    """Parses --holdfast BINARY, --keep (and, with_server, --server holdfast|knotd), checks the
    tools, runs body(tmp, args) in a fresh temp dir, kills every process it started, exits 0
    on success and 1 on failure."""
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--holdfast", help="path to the holdfast binary")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, zones)")
    if with_server:
        ap.add_argument("--server", choices=("holdfast", "knotd"), default="holdfast",
                        help="which server delv validates: holdfast as a secondary of knotd "
                             "(default), or the knotd master itself (proves the harness)")
    args = ap.parse_args()
    need_holdfast = not with_server or args.server == "holdfast"
    if need_holdfast and not args.holdfast:
        ap.error("--holdfast is required")
    if args.holdfast:
        args.holdfast = os.path.abspath(args.holdfast)
    tools = [(knotmaster.KNOTD, "Debian package knot"), (knotmaster.KNOTC, "Debian package knot"),
             (DELV, "Debian package bind9-dnsutils"), (SIGNZONE, "Debian package bind9-utils"),
             (shutil.which("dnssec-keygen") or "/usr/bin/dnssec-keygen",
              "Debian package bind9-utils")]
    if need_holdfast:
        tools.insert(0, (args.holdfast, "holdfast, build it first"))
    for tool, package in tools:
        if not os.access(tool, os.X_OK):
            log("FAIL: %s not found (%s)" % (tool, package))
            sys.exit(1)
    # CTest's timeout sends SIGTERM: a SystemExit runs the `finally` that kills the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    tmp = tempfile.mkdtemp(prefix="hf-dnssec-")
    log("workdir %s" % tmp)
    t0 = time.monotonic()
    ok = False
    try:
        body(tmp, args)
        ok = True
    except AssertionError as e:
        log("FAIL: %s" % e)
    except Exception as e:  # noqa: BLE001 - any error fails the test with its message
        import traceback
        traceback.print_exc()
        log("ERROR: %s: %s" % (type(e).__name__, e))
    finally:
        knotmaster.cleanup_all()
        hftest.cleanup_all()
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if not ok:
                log("(run again with --keep to inspect the logs)")
    log("%s (%.1f s)" % ("PASS" if ok else "FAILED", time.monotonic() - t0))
    sys.exit(0 if ok else 1)
