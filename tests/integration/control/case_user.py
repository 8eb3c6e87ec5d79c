# SPDX-License-Identifier: MIT
"""server.user: started as root, holdfast binds its sockets, hands its storage to the user and
becomes it; it then answers DNS and HTTP as that user and still stops cleanly."""

import os
import pwd

from ctllib import hftest, log


def case_user(tmp, binary):
    if os.geteuid() != 0:
        log("not root: nothing to drop, case skipped")
        return
    nobody = pwd.getpwnam("nobody")
    port, http = hftest.free_port(), hftest.free_port()
    cfg = os.path.join(tmp, "holdfast.yaml")
    storage = os.path.join(tmp, "storage")
    hftest.write_config(cfg, port, storage, [],
                        server_extra=["http: %s@%d" % (hftest.HOST, http), "user: nobody"])
    h = hftest.Holdfast(binary, cfg, port, os.path.join(tmp, "holdfast.log")).start()
    h.wait_log(r"metrics and control API", 10)
    resp, _ = h.wait_answering("example.com.", timeout=10)
    assert resp.rcode() == 5, "a name outside every zone: %s, want REFUSED" % hftest.describe(resp)
    with open("/proc/%d/status" % h.pid) as f:
        uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
    assert all(int(u) == nobody.pw_uid for u in uids), \
        "uids %s after start, want every one %d (nobody)" % (uids, nobody.pw_uid)
    owners = {os.stat(os.path.join(storage, n)).st_uid for n in os.listdir(storage)}
    assert owners == {nobody.pw_uid}, "storage files owned by %s, want nobody" % owners
    status, _, body = hftest.http_request(http, "/healthz")
    assert status == 200, "/healthz as nobody: %d %r" % (status, body)
    log("running as nobody (uid %d); /healthz: %d %r" % (nobody.pw_uid, status, body))
    h.stop()
