# SPDX-License-Identifier: MIT
"""Symlinks planted in the storage directory of a server started as root with server.user:
never followed, never chowned. A `holdfast.lock` or `data.mdb` that is a symlink stops the start
with an error naming it (the target untouched); another symlink there survives the hand-over to
the user with its root-owned target's owner and content unchanged."""

import os
import pwd
import shutil

from ctllib import hftest, log

SECRET = "root's file, not holdfast's\n"


def plant(storage, name, target):
    path = os.path.join(storage, name)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)
    return path


def content(path):
    with open(path, "rb") as f:
        return f.read()


def check_target(target, what, want=SECRET.encode()):
    st = os.stat(target)
    assert st.st_uid == 0 and st.st_gid == 0, "%s: the symlink's target %s is now owned by " \
        "%d:%d, want root" % (what, target, st.st_uid, st.st_gid)
    assert content(target) == want, "%s: the symlink's target %s was written" % (what, target)


def refused_start(binary, cfg, port, tmp, storage, name, target):
    """A start with storage/name a symlink to `target` must fail, naming the file."""
    link = plant(storage, name, target)
    before = content(target)
    h = hftest.Holdfast(binary, cfg, port, os.path.join(tmp, "refused-%s.log" % name)).start()
    try:
        rc = h.proc.wait(timeout=10)
    finally:
        h.stop(check=False)
    text = h.run_log()
    assert rc != 0, "started with %s a symlink (exit %s):\n%s" % (name, rc, text)
    assert name in text and "symbolic link" in text, \
        "the error does not name %s as a symbolic link:\n%s" % (name, text)
    check_target(target, "start with %s a symlink" % name, before)
    os.unlink(link)
    log("%s a symlink: start refused (exit %d): %s" % (name, rc, text.strip().splitlines()[-1]))


def case_symlink(tmp, binary):
    if os.geteuid() != 0:
        log("not root: server.user cannot be tested, case skipped")
        return
    nobody = pwd.getpwnam("nobody")
    port, http = hftest.free_port(), hftest.free_port()
    cfg = os.path.join(tmp, "holdfast.yaml")
    storage = os.path.join(tmp, "storage")
    outside = os.path.join(tmp, "outside")
    os.makedirs(storage)
    os.makedirs(outside)
    target = os.path.join(outside, "root-owned")
    with open(target, "w") as f:
        f.write(SECRET)
    os.chmod(target, 0o644)
    hftest.write_config(cfg, port, storage, [],
                        server_extra=["http: %s@%d" % (hftest.HOST, http), "user: nobody"])
    # A first run creates the store; then the planted links.
    h = hftest.Holdfast(binary, cfg, port, os.path.join(tmp, "holdfast.log")).start()
    h.wait_answering("example.com.", timeout=10)
    h.stop()
    os.unlink(os.path.join(storage, "holdfast.lock"))
    refused_start(binary, cfg, port, tmp, storage, "holdfast.lock", target)
    data = os.path.join(storage, "data.mdb")
    moved = os.path.join(outside, "data.mdb")
    shutil.move(data, moved)
    os.chown(moved, 0, 0)
    refused_start(binary, cfg, port, tmp, storage, "data.mdb", moved)
    shutil.move(moved, data)

    extra = plant(storage, "extra", target)
    h.start()
    h.wait_log(r"metrics and control API", 10)
    h.wait_answering("example.com.", timeout=10)
    with open("/proc/%d/status" % h.pid) as f:
        uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
    assert all(int(u) == nobody.pw_uid for u in uids), "uids %s, want nobody" % uids
    check_target(target, "after the hand-over to nobody")
    assert os.path.islink(extra) and os.readlink(extra) == target, "the symlink was replaced"
    owners = {n: os.lstat(os.path.join(storage, n)).st_uid for n in os.listdir(storage)}
    assert all(uid == nobody.pw_uid for uid in owners.values()), \
        "storage entries' owners (not following links): %s" % owners
    h.stop()
    check_target(target, "after the stop")
    log("storage/extra -> %s: target still root's and unchanged; entries handed to nobody: %s"
        % (target, sorted(owners)))
