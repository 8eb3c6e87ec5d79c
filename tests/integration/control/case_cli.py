# SPDX-License-Identifier: MIT
"""`holdfast zone list|status|refresh|retransfer`: the table and --json, actions that show in
the log, and non-zero exits with a message for an unknown zone, a wrong token and a stopped
server; --help on every command."""

import json
import os
import re
import shutil

from ctllib import (PRIM, PRIM_SERIAL, SEC, SEC_BODY, START_TIMEOUT, TOKEN, CtlEnv, hftest,
                    knotmaster, log, master, run_cli, secondary, wait_serial, zone_rx)

COLUMNS = ("ZONE", "KIND", "SERIAL", "MASTER", "LAG", "STATE", "LAST ERROR")


def ok(r, what):
    assert r.returncode == 0, "%s: exit %d\nstdout: %s\nstderr: %s" % (
        what, r.returncode, r.stdout, r.stderr)
    return r.stdout


def fails(r, what):
    assert r.returncode != 0, "%s: exit 0, want non-zero\nstdout: %s" % (what, r.stdout)
    assert r.stderr.strip(), "%s: exit %d without a message on stderr (stdout: %r)" % (
        what, r.returncode, r.stdout)
    log("%s: exit %d, stderr: %s" % (what, r.returncode, r.stderr.strip().splitlines()[0]))


def row_of(table, zone):
    """The table line of `zone` (with or without the final dot), split in words."""
    for line in table.splitlines():
        words = line.split()
        if words and words[0].rstrip(".") == zone.rstrip("."):
            return words
    raise AssertionError("no row for %s in the table:\n%s" % (zone, table))


def check_help(binary):
    for args in (["zone", "--help"], ["zone", "list", "--help"], ["zone", "status", "--help"],
                 ["zone", "refresh", "--help"], ["zone", "retransfer", "--help"]):
        out = ok(run_cli(binary, *args), "holdfast %s" % " ".join(args))
        assert out.strip(), "holdfast %s printed nothing" % " ".join(args)
    out = ok(run_cli(binary, "--help"), "holdfast --help")
    assert "zone" in out, "holdfast --help does not list the zone command:\n%s" % out


def check_list(binary, cfg, env):
    out = ok(run_cli(binary, "zone", "list", "-c", cfg), "zone list")
    header = out.splitlines()[0] if out.strip() else ""
    missing = [c for c in COLUMNS if c not in header]
    assert not missing, "zone list header %r lacks %s" % (header, missing)
    at = [header.index(c) for c in COLUMNS]
    assert at == sorted(at), "zone list columns %r, want the order %s" % (header, COLUMNS)
    sec, prim = row_of(out, SEC), row_of(out, PRIM)
    assert sec[1:3] == ["secondary", "1"], "row of %s: %s; want kind and serial 1" % (SEC, sec)
    assert prim[1:3] == ["primary", str(PRIM_SERIAL)], "row of %s: %s; want kind and serial " \
        "%d" % (PRIM, prim, PRIM_SERIAL)
    log("zone list:\n" + out.rstrip())

    out = ok(run_cli(binary, "zone", "list", "-c", cfg, "--json"), "zone list --json")
    try:
        data = json.loads(out)
    except ValueError as e:
        raise AssertionError("zone list --json is not JSON (%s): %r" % (e, out[:300]))
    _, api = env.api("/api/v1/zones", token=TOKEN)
    got = {z["zone"]: z["serial"] for z in data["zones"]}
    want = {z["zone"]: z["serial"] for z in api["zones"]}
    assert got == want == {SEC: 1, PRIM: PRIM_SERIAL}, \
        "zone list --json zones %s, API %s" % (got, want)


def check_status(binary, cfg):
    for name in (SEC, SEC.rstrip(".")):
        out = ok(run_cli(binary, "zone", "status", name, "-c", cfg), "zone status %s" % name)
        assert SEC.rstrip(".") in out and re.search(r"\b1\b", out), \
            "zone status %s does not show the zone and serial 1:\n%s" % (name, out)
    out = ok(run_cli(binary, "zone", "status", SEC, "-c", cfg, "--json"), "zone status --json")
    z = json.loads(out)
    assert z["zone"] == SEC and z["serial"] == 1 and "counters" in z, \
        "zone status --json: %s" % out
    log("zone status:\n" + out.rstrip())


def check_actions(binary, cfg, hf):
    mark = hftest.log_mark(hf)
    ok(run_cli(binary, "zone", "refresh", SEC, "-c", cfg), "zone refresh")
    hftest.wait_log_since(hf, mark, zone_rx(SEC) + r"refresh, remote .*up to date", 5)
    mark = hftest.log_mark(hf)
    ok(run_cli(binary, "zone", "retransfer", SEC.rstrip("."), "-c", cfg), "zone retransfer")
    hftest.wait_log_since(hf, mark, zone_rx(SEC) + r"AXFR, incoming, remote .*serial 1 -> 1", 5)
    log("zone refresh / retransfer: new refresh and AXFR lines in the log")


def check_failures(binary, cfg, tmp):
    fails(run_cli(binary, "zone", "status", "nope.test.", "-c", cfg), "zone status (unknown)")
    fails(run_cli(binary, "zone", "refresh", "nope.test.", "-c", cfg), "zone refresh (unknown)")
    fails(run_cli(binary, "zone", "retransfer", "nope.test", "-c", cfg),
          "zone retransfer (unknown)")
    fails(run_cli(binary, "zone", "refresh", PRIM, "-c", cfg), "zone refresh (primary, 409)")
    wrong = os.path.join(tmp, "wrong-token.yaml")
    shutil.copy(cfg, wrong)
    hftest.add_server_keys(wrong, ['http-token: "not-%s"' % TOKEN])
    fails(run_cli(binary, "zone", "list", "-c", wrong), "zone list (wrong token)")
    fails(run_cli(binary, "zone", "refresh", SEC, "-c", wrong), "zone refresh (wrong token)")


def case_cli(tmp, binary):
    env = CtlEnv(tmp, binary)
    knot = env.knot()
    knot.add_zone(SEC, knotmaster.zone_text(SEC, 1, SEC_BODY), notify=False)
    knot.start()
    # With a token: the CLI must take it from the config file.
    hf = env.holdfast([secondary(SEC, ["hidden"], refresh="120s", retry="60s"),
                       {"domain": PRIM, "file": env.primary_file()}],
                      masters=[master("hidden", knot.address)], token=TOKEN)
    cfg = hf.config
    ok(run_cli(binary, "check", "-c", cfg), "holdfast check (config with http, http-token)")
    check_help(binary)
    hf.start()
    wait_serial(hf, SEC, 1, START_TIMEOUT)
    env.wait_http()
    env.wait_zone(SEC, "serial 1", lambda z: z["serial"] == 1)
    check_list(binary, cfg, env)
    check_status(binary, cfg)
    check_actions(binary, cfg, hf)
    check_failures(binary, cfg, tmp)
    hf.stop()
    r = run_cli(binary, "zone", "list", "-c", cfg, timeout=15)
    fails(r, "zone list (server stopped)")
