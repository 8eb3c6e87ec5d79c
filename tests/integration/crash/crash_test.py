# SPDX-License-Identifier: MIT
"""Crash safety: SIGKILL holdfast while it writes a large snapshot; the restarted server must
answer from the previous snapshot, the store must stay readable, and the killed build's
garbage must be collected so that the store does not grow over repeated kills.

  1. serial 1 (small zone) is loaded and served; holdfast is stopped.
  2. calibration: on a copy of that store, the big zone (serial 2) is loaded once, timing the
     phases (parse/stage, write, publish) from the growth of data.mdb.
  3. for each kill point (while parsing: half the calibrated parse time; while the first write
     txn's pages are written: 64 MiB written per /proc/PID/io and no node visible yet; after a
     write txn has committed but before publish: mdb_stat sees new nodes): start with the big
     zone file in place, SIGKILL at that point, check the store with mdb_stat/mdb_dump (serial 1
     still current), restart with a copy of the big file that has a syntax error on its last
     line (so the reload runs but fails and the stored snapshot is kept) and check that the
     very first answer is serial 1, that every answer during the failing reload is serial 1
     with serial 1's data, and that the garbage was collected (node and snapshot counts back
     to the baseline).
  4. restart with the big zone file in place and query without pause during the reload: every
     answer is serial 1 or serial 2 and self-consistent, never an error; serial 2 arrives.
  5. the store is no bigger than a clean store after the same load (garbage space was reused).
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import hftest  # noqa: E402
from hftest import log  # noqa: E402

import dns.flags  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

ZONE = "example.com."
ONLY1 = "only-in-serial-1.example.com."
ONLY2 = "only-in-serial-2.example.com."


def write_small_zone(path, hosts=1000):
    with open(path, "w") as f:
        f.write("$ORIGIN %s\n$TTL 3600\n" % ZONE)
        f.write("@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n")
        f.write("%s A 192.0.2.11\n" % ONLY1)
        f.write("".join("s%d A 198.51.100.%d\n" % (i, i % 250 + 1) for i in range(hosts)))


def write_big_zone(path, records, txt_bytes):
    """serial 2: `records` TXT records of about txt_bytes each, written in big chunks."""
    pad = "x" * txt_bytes
    with open(path, "w") as f:
        f.write("$ORIGIN %s\n$TTL 3600\n" % ZONE)
        f.write("@ SOA ns1 hostmaster 2 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.1\n")
        f.write("%s A 192.0.2.22\n" % ONLY2)
        chunk = 100000
        for start in range(0, records, chunk):
            f.write("".join('h%d TXT "%s%d"\n' % (i, pad, i)
                            for i in range(start, min(records, start + chunk))))


def mdb_stat(store):
    """Runs `mdb_stat -efa`; returns {section: {field: int}}. Fails the test if it fails."""
    r = subprocess.run(["mdb_stat", "-efa", store], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "mdb_stat failed on %s (rc %d): %s" % (store, r.returncode,
                                                                     r.stderr.strip())
    out, section = {}, None
    for line in r.stdout.splitlines():
        if not line.startswith(" "):
            section = line.strip()
            if section.startswith("Status of "):
                section = section[len("Status of "):]
            out[section] = {}
            continue
        key, _, value = line.strip().partition(":")
        try:
            out[section][key.strip()] = int(value.strip())
        except ValueError:
            pass
    for db in ("meta", "zones", "snapshots", "nodes"):
        assert db in out, "mdb_stat on %s shows no %s table:\n%s" % (store, db, r.stdout)
    return out


def mdb_dump_ok(store):
    """Dumps the small tables completely (every page read). Returns the serial the zones table
    says is current (ZoneRecord in store/schema.h: u64 current, u64 previous, u32 serial, host
    byte order), or None if it cannot be decoded."""
    dumps = {}
    for db in ("meta", "zones", "snapshots"):
        r = subprocess.run(["mdb_dump", "-s", db, store], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, "mdb_dump -s %s failed on %s: %s" % (db, store, r.stderr)
        dumps[db] = r.stdout
    lines = dumps["zones"].split("HEADER=END\n", 1)[-1].splitlines()
    if len(lines) >= 2 and lines[1].startswith(" ") and len(lines[1].strip()) >= 40:
        return int.from_bytes(bytes.fromhex(lines[1].strip())[16:20], sys.byteorder)
    return None


def nodes_entries(store):
    """Entries in the nodes table, or None if mdb_stat fails (used while polling)."""
    r = subprocess.run(["mdb_stat", "-s", "nodes", store], capture_output=True, text=True,
                       timeout=30)
    m = re.search(r"Entries: (\d+)", r.stdout)
    return int(m.group(1)) if r.returncode == 0 and m else None


def file_size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def store_summary(st, data_mdb):
    return ("data.mdb %.1f MiB, pages used %d, free pages %d, nodes %d, snapshots %d, zones %d"
            % (file_size(data_mdb) / 2**20, st["Environment Info"]["Number of pages used"],
               st["Freelist Status"]["Free pages"], st["nodes"]["Entries"],
               st["snapshots"]["Entries"], st["zones"]["Entries"]))


def check_serial1_view(port, where):
    """serial 1 is served, with its own data; serial 2's data is not there."""
    soa = hftest.query(port, ZONE, "SOA")
    assert soa is not None and soa.rcode() == dns.rcode.NOERROR and soa.flags & dns.flags.AA, \
        "%s: SOA query: %s" % (where, hftest.describe(soa))
    assert soa.answer[0][0].serial == 1, "%s: serial %d served, expected 1 (the previous " \
        "snapshot)" % (where, soa.answer[0][0].serial)
    r1 = hftest.query(port, ONLY1, "A")
    assert r1 is not None and r1.rcode() == dns.rcode.NOERROR and r1.answer, \
        "%s: %s A: %s" % (where, ONLY1, hftest.describe(r1))
    r2 = hftest.query(port, ONLY2, "A")
    assert r2 is not None and r2.rcode() == dns.rcode.NXDOMAIN and \
        hftest.authority_serial(r2) == 1, "%s: %s A: %s" % (where, ONLY2, hftest.describe(r2))


def classify(resp, qname):
    """Which serial one answer belongs to (1 or 2); raises AssertionError if it is inconsistent
    or an error. Negative answers carry the SOA, positive ones the data of one serial only."""
    assert resp is not None, "no answer for %s" % qname
    assert resp.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN), \
        "error answer for %s: %s" % (qname, hftest.describe(resp))
    assert resp.flags & dns.flags.AA, "non-authoritative answer for %s: %s" % (
        qname, hftest.describe(resp))
    if qname == ZONE:
        return resp.answer[0][0].serial
    mine = 1 if qname == ONLY1 else 2
    if resp.rcode() == dns.rcode.NOERROR:
        assert resp.answer, "NOERROR without data for %s: %s" % (qname, hftest.describe(resp))
        return mine
    serial = hftest.authority_serial(resp)
    assert serial == 3 - mine, "%s is NXDOMAIN with SOA serial %s: %s" % (
        qname, serial, hftest.describe(resp))
    return serial


def watch_answers(hf, port, allowed, done, timeout):
    """Queries the SOA and the serial-only names round-robin, without pause, until done(seen)
    is true. Every answer must be one serial in `allowed`, self-consistent, never an error,
    and the serial never goes back. Returns (answers per serial, first time serial 2 was seen
    in s since start or None)."""
    seen = {1: 0, 2: 0}
    last, t_serial2, i = 0, None, 0
    names = [ZONE, ONLY1, ONLY2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        while not done(seen):
            assert hf.running(), "holdfast exited:\n" + hf.log_tail()
            assert time.monotonic() - hf.started_at < timeout, \
                "gave up after %.0f s (answers per serial: %s):\n%s" % (timeout, seen,
                                                                       hf.log_tail())
            qname = names[i % 3]
            i += 1
            resp = hftest.query(port, qname, "SOA" if qname == ZONE else "A", timeout=2.0,
                                sock=sock)
            serial = classify(resp, qname)
            assert serial in allowed, "serial %d served (%s), expected %s" % (serial, qname,
                                                                            allowed)
            assert serial >= last, "serial went back from %d to %d (%s)" % (last, serial, qname)
            last = serial
            seen[serial] += 1
            if serial == 2 and t_serial2 is None:
                t_serial2 = time.monotonic() - hf.started_at
    finally:
        sock.close()
    return seen, t_serial2


def calibrate(args, tmp, base_store, zone_path, big_path):
    """Loads the big zone once on a copy of the serial-1 store; returns the timings and sizes."""
    store = os.path.join(tmp, "calib-store")
    shutil.copytree(base_store, store)
    port = hftest.free_port()
    cfg = os.path.join(tmp, "calib.yaml")
    hftest.write_config(cfg, port, store, [(ZONE, zone_path)])
    data = os.path.join(store, "data.mdb")
    size0 = file_size(data)
    os.rename(big_path, zone_path)
    hf = hftest.Holdfast(args.holdfast, cfg, port, os.path.join(tmp, "calib.log"))
    timeline = []
    try:
        hf.start()
        last = -1
        while not re.search(r"loaded from .*serial 2", hf.run_log()):
            assert hf.running(), "holdfast exited during calibration:\n" + hf.log_tail()
            assert time.monotonic() - hf.started_at < 300, "calibration load took > 300 s"
            s = file_size(data)
            if s != last:
                timeline.append((time.monotonic() - hf.started_at, s))
                last = s
            time.sleep(0.002)
        t_loaded = time.monotonic() - hf.started_at
        m = re.search(r"loaded from .*serial 2, (\d+) records", hf.run_log())
        assert m, "unexpected load log line:\n" + hf.log_tail()
        # The loader's summary line ("zone files: 1 loaded, ... 4.8 s") if it logs one.
        mt = re.search(r"zone files: .*?([0-9.]+) s\s*$", hf.wait_log_or_none(r"zone files:", 5),
                       re.M)
        load_s = float(mt.group(1)) if mt else float("nan")
        stop_s = hf.stop()
    finally:
        hf.stop()
        os.rename(zone_path, big_path)
    st = mdb_stat(store)
    size_full = file_size(data)
    grown = [t for t, s in timeline if s > size0 + (1 << 20)]
    t_first_growth = grown[0] if grown else t_loaded * 0.5
    # End of the writing: the last growth step.
    t_last_growth = timeline[-1][0] if timeline else t_loaded
    shutil.rmtree(store)
    cal = {"t_loaded": t_loaded, "load_s": load_s, "t_first_growth": t_first_growth,
           "t_last_growth": t_last_growth, "size_before": size0, "size_full": size_full,
           "nodes_full": st["nodes"]["Entries"], "stop_s": stop_s, "records": int(m.group(1))}
    log("calibration: load %.2f s (log says %.3f s for %d records); data.mdb starts growing at "
        "%.2f s, last growth at %.2f s, %.1f -> %.1f MiB; nodes %d; SIGTERM took %.2f s"
        % (t_loaded, load_s, cal["records"], t_first_growth, t_last_growth, size0 / 2**20,
           size_full / 2**20, cal["nodes_full"], stop_s))
    return cal


def proc_wchar(pid):
    """Bytes the process has passed to write(2)/pwrite(2) so far (/proc/PID/io)."""
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/%d/io" % pid)


def kill_run(args, hf, mode, cal, store, base_nodes):
    """Starts hf, waits for the kill point of `mode`, SIGKILLs it. Returns a description."""
    hf.start()
    wchar0 = proc_wchar(hf.pid)
    deadline = hf.started_at + max(30.0, cal["t_loaded"] * 3)
    what = ""
    while True:
        now = time.monotonic()
        assert hf.running(), "holdfast exited before the kill:\n" + hf.log_tail()
        assert now < deadline, "kill point %s not reached:\n%s" % (mode, hf.log_tail())
        assert not re.search(r"loaded from .*serial 2", hf.run_log()), (
            "the load finished before the kill point '%s' was reached: the zone loads too fast "
            "on this machine for this test (raise --records)%s" % (mode, (
                ", or no write transaction commits before the publish any more (then the "
                "'committed' kill point does not exist)") if mode == "committed" else ""))
        elapsed = now - hf.started_at
        if mode == "parsing" and elapsed >= 0.5 * cal["t_first_growth"]:
            what = "%.2f s after start (half the calibrated parse time)" % elapsed
            break
        if mode == "writing":
            # Pages of the first write txn are being written out (LMDB spills dirty pages and
            # writes them at commit before the meta page): the process has written more than
            # 64 MiB and no node is visible yet. data.mdb's size cannot tell, as freed pages
            # of earlier builds are reused in place.
            written = proc_wchar(hf.pid) - wchar0
            if written >= 64 << 20:
                what = "%.2f s after start, %.0f MiB written by the process" % (
                    elapsed, written / 2**20)
                break
        if mode == "committed":
            n = nodes_entries(store)
            if n is not None and n > base_nodes:
                what = "%.2f s after start, %d nodes committed beyond the baseline" % (
                    elapsed, n - base_nodes)
                break
        time.sleep(0.001 if mode != "committed" else 0.01)
    rc = hf.kill()
    assert rc == -9, "holdfast exit code after SIGKILL: %s" % rc
    assert not re.search(r"loaded from .*serial 2", hf.run_log()), \
        "kill %s came after the publish:\n%s" % (mode, hf.log_tail())
    return what


def run(args):
    hftest.in_workdir("hf-crash-", args.keep, lambda tmp: _run(args, tmp))


def _run(args, tmp):
    store = os.path.join(tmp, "store")
    data = os.path.join(store, "data.mdb")
    zone_dir = os.path.join(tmp, "zones")
    os.makedirs(zone_dir)
    zone_path = os.path.join(zone_dir, "example.com.zone")  # what the config names
    big_path = os.path.join(tmp, "big.zone")  # the serial 2 file, renamed in and out
    broken_path = os.path.join(tmp, "broken.zone")  # the same + a syntax error at the end
    port = hftest.free_port()
    cfg = os.path.join(tmp, "holdfast.yaml")
    hftest.write_config(cfg, port, store, [(ZONE, zone_path)])
    hf = hftest.Holdfast(args.holdfast, cfg, port, os.path.join(tmp, "holdfast.log"))

    t = time.monotonic()
    write_small_zone(zone_path)
    write_big_zone(big_path, args.records, args.txt_bytes)
    shutil.copyfile(big_path, broken_path)
    with open(broken_path, "a") as f:
        f.write("broken-last-line A not-an-address\n")
    log("generated zones in %.2f s: small %.1f KiB, big %.1f MiB (%d TXT records of ~%d bytes)"
        % (time.monotonic() - t, file_size(zone_path) / 1024, file_size(big_path) / 2**20,
           args.records, args.txt_bytes))

    # 1. serial 1.
    hf.start()
    hf.wait_log(r"loaded from .*serial 1", 30)
    check_serial1_view(port, "serial 1 loaded")
    hf.stop()
    os.remove(zone_path)  # from now on the config's file is the big or the broken one
    base = mdb_stat(store)
    base_nodes, base_snaps = base["nodes"]["Entries"], base["snapshots"]["Entries"]
    log("baseline store: " + store_summary(base, data))

    # 2. calibration.
    cal = calibrate(args, tmp, store, zone_path, big_path)

    # 3. kills. The restart gets a copy of the big file with a syntax error on its last line:
    # the reload parses (and writes) everything, then fails, so serial 1 must stay served.
    # (A missing file would be simpler, but holdfast refuses to start then: the config check
    # wants every zone file readable.)
    results = []
    for mode in args.modes.split(","):
        os.rename(big_path, zone_path)
        what = kill_run(args, hf, mode, cal, store, base_nodes)
        os.rename(zone_path, big_path)
        st = mdb_stat(store)
        stored = mdb_dump_ok(store)
        assert stored is not None, "cannot decode the zones table (mdb_dump -s zones)"
        assert stored == 1, "the kill '%s' came after serial %d was published (the log line " \
            "was not written yet)" % (mode, stored)
        after_kill = file_size(data)
        committed = st["nodes"]["Entries"] > base_nodes
        log("kill '%s' at %s (%s the first write commit); store after kill: %s"
            % (mode, what, "after" if committed else "before", store_summary(st, data)))

        os.rename(broken_path, zone_path)
        hf.start()
        first, t_first = hf.wait_answering(ZONE, timeout=60)
        assert first.rcode() == dns.rcode.NOERROR and first.flags & dns.flags.AA and \
            first.answer and first.answer[0][0].serial == 1, \
            "first answer after the kill '%s': %s" % (mode, hftest.describe(first))
        check_serial1_view(port, "restart after kill '%s'" % mode)
        rx = re.compile(r"zone file not loaded, previous snapshot kept")
        seen, _ = watch_answers(hf, port, {1}, lambda _: rx.search(hf.run_log()),
                                timeout=max(60, cal["t_loaded"] * 5))
        os.rename(zone_path, broken_path)
        check_serial1_view(port, "after the failed reload (kill '%s')" % mode)
        m = re.search(r"removed (\d+) unreferenced snapshot", hf.run_log())
        removed = int(m.group(1)) if m else 0
        garbage = (st["nodes"]["Entries"] > base_nodes or
                   st["snapshots"]["Entries"] > base_snaps)
        # A kill before the first write commit leaves nothing behind (LMDB drops the txn).
        assert removed >= 1 or not garbage, "no garbage collected after kill '%s':\n%s" % (
            mode, hf.log_tail())
        hf.stop()
        st = mdb_stat(store)
        log("  restart: first answer (serial 1) %.3f s after start; GC removed %d snapshot(s); "
            "%d answers, all serial 1, during the failing reload; store after stop: %s"
            % (t_first, removed, seen[1], store_summary(st, data)))
        assert st["nodes"]["Entries"] == base_nodes, \
            "nodes after GC: %d, baseline %d" % (st["nodes"]["Entries"], base_nodes)
        assert st["snapshots"]["Entries"] == base_snaps, \
            "snapshots after GC: %d, baseline %d" % (st["snapshots"]["Entries"], base_snaps)
        results.append((mode, what, after_kill, t_first, removed, file_size(data)))

    # 4. the reload completes; answers during it are always one serial or the other.
    os.rename(big_path, zone_path)
    hf.start()
    hf.wait_answering(ZONE, timeout=60)
    seen, t_serial2 = watch_answers(hf, port, {1, 2}, lambda seen: seen[2] >= 30,
                                    timeout=max(60, cal["t_loaded"] * 5))
    hf.wait_log(r"loaded from .*serial 2", 30)
    stop_s = hf.stop()
    final = mdb_stat(store)
    final_size = file_size(data)
    log("final load: %d answers of serial 1 then %d of serial 2, serial 2 from %.2f s after "
        "start; SIGTERM took %.2f s; store: %s"
        % (seen[1], seen[2], t_serial2, stop_s, store_summary(final, data)))
    assert final["nodes"]["Entries"] == cal["nodes_full"], \
        "nodes after the final load: %d, a clean load gives %d" % (final["nodes"]["Entries"],
                                                                   cal["nodes_full"])

    # 5. bounded store size: garbage space was given back and reused.
    limit = cal["size_full"] * 1.15 + (8 << 20)
    log("store size: clean load %.1f MiB; after each kill / after its restart %s MiB; after "
        "the final load %.1f MiB (limit %.1f MiB)"
        % (cal["size_full"] / 2**20,
           ", ".join("%.1f/%.1f" % (r[2] / 2**20, r[5] / 2**20) for r in results),
           final_size / 2**20, limit / 2**20))
    for mode, _, size, _, _, size2 in results:
        assert max(size, size2) <= limit, "store grew to %.1f MiB around kill '%s'" % (
            max(size, size2) / 2**20, mode)
    assert final_size <= limit, "store grew to %.1f MiB over %d kills (a clean load: %.1f MiB)" \
        % (final_size / 2**20, len(results), cal["size_full"] / 2**20)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--holdfast", required=True, help="path to the holdfast binary")
    ap.add_argument("--records", type=int, default=2000000, help="records in the big zone")
    ap.add_argument("--txt-bytes", type=int, default=120,
                    help="TXT size; ~2M x 120 B exceeds the writer's 256 MiB staging bound, so "
                         "the load commits a write txn before it publishes")
    ap.add_argument("--modes", default="parsing,writing,committed",
                    help="kill points, comma-separated: parsing, writing, committed")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()
    for mode in args.modes.split(","):
        if mode not in ("parsing", "writing", "committed"):
            ap.error("unknown kill point %r" % mode)
    hftest.main_wrapper(lambda: run(args))


if __name__ == "__main__":
    main()
