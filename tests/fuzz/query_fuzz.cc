// SPDX-License-Identifier: MIT
// libFuzzer target: arbitrary bytes as a DNS query into QueryProcessor::process().
//
// The store is built once (a temp LMDB directory, removed at exit) from zones with every hard
// case of the answer path: delegations with glue, nested and child zones, wildcards (also at
// an apex and below empty non-terminals), CNAME chains and loops, DNAME (in and out of zone,
// and one whose synthesis overflows 255 octets), big RRsets and additional-section targets.
// The same cases come DNSSEC-signed (tests/fuzz/data/, signed once by sign.sh): nsec.test.
// with NSEC, nsec3.test. with NSEC3 (salt, 3 iterations, opt-out), and wild3.test., an apex
// wildcard under NSEC3 without salt; each signed parent also serves an unsigned child zone.
//
// The input is the query exactly as received, so every seed is a valid DNS message. Bits of
// the (otherwise only echoed) message ID choose the transport and the output capacity:
//   ID bit 0: 1 = TCP, 0 = UDP        ID bit 1: 1 = a 512-byte output buffer, 0 = 64 KiB
// Besides crashes and sanitizer reports, the target aborts on a reply that breaks an invariant:
// larger than allowed, not parseable by libknot, QR clear, a different ID, a type in a section
// where it never belongs, and with DO on a signed zone missing RRSIGs or denial proofs
// (reply_invariants.h).
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "common/knot.h"

#include "serve/query.h"
#include "store/env.h"
#include "store/zonefile.h"
#include "tests/fuzz/fuzz_store.h"
#include "tests/fuzz/reply_invariants.h"

#ifndef HOLDFAST_FUZZ_DATA
#error "HOLDFAST_FUZZ_DATA (the signed zones' directory) is set by tests/fuzz/CMakeLists.txt"
#endif

namespace {

using holdfast::fuzz::Signing;
using holdfast::serve::QueryProcessor;
using holdfast::serve::ServeOptions;
namespace store = holdfast::store;

constexpr uint16_t kUdpMaxPayload = 1232;

std::string big_rrset(const char *owner, const char *type, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    char line[160];
    if (std::strcmp(type, "A") == 0) {
      std::snprintf(line, sizeof(line), "%s A 198.51.100.%d\n", owner, i + 1);
    } else {
      std::snprintf(line, sizeof(line), "%s TXT \"record %03d of a large RRset, padding\"\n", owner,
                    i);
    }
    out += line;
  }
  return out;
}

// A name of 2 + 4 * 62 = 250 octets plus the root: a DNAME to it makes synthesised names of
// more than 255 octets (RFC 6672 2.2: YXDOMAIN).
std::string long_target() {
  std::string label(61, 'x');
  return label + "." + label + "." + label + "." + label + ".";
}

const std::string &example_zone() {
  static const std::string text = R"(
$ORIGIN example.
$TTL 3600
@              SOA   ns1 hostmaster 2024010101 7200 3600 1209600 300
@              NS    ns1
@              NS    ns2.other.test.
@              MX    10 mail
@              MX    20 mail.other.test.
@              TXT   "v=spf1 -all"
@              DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns1            A     192.0.2.1
ns1            AAAA  2001:db8::1
mail           A     192.0.2.25
www            A     192.0.2.80
www            AAAA  2001:db8::80
WWW.Mixed      A     192.0.2.81
alias          CNAME chain
chain          CNAME www
upper          CNAME WWW.EXAMPLE.
dangling       CNAME nowhere
out            CNAME www.other.test.
loop1          CNAME loop2
loop2          CNAME loop1
self           CNAME self
to-wild        CNAME x.wild
to-dname       CNAME a.dn2
to-sub         CNAME host.sub
*.wild         A     192.0.2.99
*.wild         TXT   "wild"
*.wild         MX    5 mail
host.deep.wild A     192.0.2.98
*.c.d.e.deep   TXT   "wildcard inside an ENT chain"
*.cname-wild   CNAME www
_sip._udp      SRV   10 5 5060 sip
_sip._udp      SRV   20 5 5060 sip.other.test.
sip            A     192.0.2.60
deleg          NS    ns.deleg
deleg          NS    ns.other.test.
deleg          DS    12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.deleg       A     192.0.2.53
ns.deleg       AAAA  2001:db8::53
occluded.deleg A     192.0.2.54
inner.deleg    NS    ns.inner.deleg
z.y.x          NS    ns.z.y.x
ns.z.y.x       A     192.0.2.55
ns-cname       NS    alias
dn             DNAME example.net.
below.dn       A     192.0.2.7
dn2            DNAME target
www.target     A     192.0.2.8
dn-loop        DNAME dn-loop.example.
dn-up          DNAME example.
)" + std::string("dlong DNAME ") + long_target() +
                                  "\n" + big_rrset("big", "TXT", 60) + big_rrset("many", "A", 100);
  return text;
}

// A child zone (sub.example. and, unsigned, below each signed zone's secure delegation "sub").
std::string child_zone(const char *apex) {
  return std::string("$ORIGIN ") + apex + R"(
@     SOA   ns hostmaster 7 7200 3600 1209600 60
@     NS    ns
ns    A     192.0.2.70
host  A     192.0.2.71
*     AAAA  2001:db8::71
)";
}

const char *kWildApex = R"(
$ORIGIN wild.test.
@     300 SOA ns.wild.test. hostmaster.wild.test. 1 7200 3600 1209600 3600
@     NS    ns.other.test.
*     A     192.0.2.200
*     TXT   "apex wildcard"
a.b   A     192.0.2.201
)";

// Every zone of the fixture and how it is signed: the DNSSEC invariants need to know which
// zone answers a question.
struct ServedZone {
  const char *apex;
  Signing signing;
  uint8_t wire[KNOT_DNAME_MAXLEN];
};

ServedZone served[] = {
    {"example.", Signing::kUnsigned, {}},       {"sub.example.", Signing::kUnsigned, {}},
    {"wild.test.", Signing::kUnsigned, {}},     {"nsec.test.", Signing::kNsec, {}},
    {"nsec3.test.", Signing::kNsec3, {}},       {"wild3.test.", Signing::kNsec3, {}},
    {"sub.nsec.test.", Signing::kUnsigned, {}}, {"sub.nsec3.test.", Signing::kUnsigned, {}},
};

struct Fixture : holdfast::fuzz::FuzzStore {};

Fixture *fixture = nullptr;

ServedZone &zone_named(const char *apex) {
  for (ServedZone &z : served) {
    if (std::strcmp(z.apex, apex) == 0) {
      return z;
    }
  }
  std::abort();
}

void load_path(const char *apex, const std::string &path) {
  ServedZone &z = zone_named(apex);
  if (knot_dname_from_str(z.wire, apex, sizeof(z.wire)) == nullptr) {
    std::abort();
  }
  auto r = store::load_zone_file(*fixture->env, z.wire, path);
  if (!r) {
    std::fprintf(stderr, "query_fuzz: cannot load %s: %s\n", apex, r.error().c_str());
    std::abort();
  }
  // A signed file that loaded as unsigned would leave the DNSSEC paths unfuzzed, silently.
  auto mode = r->published.dnssec;
  bool as_expected = (z.signing == Signing::kUnsigned) == (mode == store::DnssecMode::kUnsigned) &&
                     (z.signing == Signing::kNsec3) == (mode == store::DnssecMode::kNsec3);
  if (!as_expected) {
    std::fprintf(stderr, "query_fuzz: %s did not load with the expected signing\n", apex);
    std::abort();
  }
}

void load(const char *apex, const std::string &text) {
  std::string path = fixture->dir + "/" + apex + "zone";
  FILE *f = std::fopen(path.c_str(), "w");
  if (f == nullptr || std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
    std::fprintf(stderr, "query_fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  std::fclose(f);
  load_path(apex, path);
}

// The zone that answers `qname` (lowercase): the longest apex at or above it, except that DS
// at a child apex goes to the parent when that is served too (as serve/query.cc decides).
const ServedZone *answering_zone(const knot_dname_t *qname, uint16_t qtype) {
  const ServedZone *best = nullptr;
  int best_labels = -1;
  for (const ServedZone &z : served) {
    int labels = knot_dname_labels(z.wire, nullptr);
    if (knot_dname_in_bailiwick(qname, z.wire) >= 0 && labels > best_labels) {
      best = &z;
      best_labels = labels;
    }
  }
  if (best != nullptr && qtype == KNOT_RRTYPE_DS && knot_dname_is_equal(best->wire, qname) &&
      *qname != 0) {
    if (const ServedZone *parent = answering_zone(knot_wire_next_label(qname, nullptr), 0)) {
      return parent;
    }
  }
  return best;
}

void set_up() {
  fixture = new Fixture();
  holdfast::fuzz::open_fuzz_store(*fixture, "query_fuzz", size_t{64} << 20);
  load("example.", example_zone());
  load("sub.example.", child_zone("sub.example."));
  load("wild.test.", kWildApex);
  const std::string data = HOLDFAST_FUZZ_DATA;
  for (const char *apex : {"nsec.test.", "nsec3.test.", "wild3.test."}) {
    load_path(apex, data + "/" + apex + "zone");
  }
  load("sub.nsec.test.", child_zone("sub.nsec.test."));
  load("sub.nsec3.test.", child_zone("sub.nsec3.test."));
  ServeOptions serve;
  serve.udp_max_payload = kUdpMaxPayload;
  serve.identity = "fuzz";
  serve.version = "holdfast-fuzz";
  serve.nsid = "fuzz-nsid";
  fixture->qp = std::make_unique<QueryProcessor>(*fixture->env, serve);
}

[[noreturn]] void broken(const char *what, size_t n) {
  std::fprintf(stderr, "query_fuzz: invariant broken: %s (reply of %zu bytes)\n", what, n);
  std::abort();
}

// Checks what a reply must be whatever the query was.
void check_reply(const uint8_t *query, const uint8_t *reply, size_t n, size_t cap, bool tcp) {
  if (n > cap) {
    broken("reply larger than the buffer", n);
  }
  if (n < KNOT_WIRE_HEADER_SIZE) {
    broken("reply shorter than a header", n);
  }
  if (!tcp && n > kUdpMaxPayload && n > KNOT_WIRE_MIN_PKTSIZE) {
    broken("UDP reply larger than udp-max-payload", n);
  }
  if (!knot_wire_get_qr(reply)) {
    broken("QR clear in a reply", n);
  }
  if (knot_wire_get_id(reply) != knot_wire_get_id(query)) {
    broken("reply ID differs from the query ID", n);
  }
  static uint8_t copy[KNOT_WIRE_MAX_PKTSIZE];
  std::memcpy(copy, reply, n);
  knot_pkt_t *pkt = knot_pkt_new(copy, static_cast<uint16_t>(n), nullptr);
  if (pkt == nullptr) {
    std::abort();
  }
  int rc = knot_pkt_parse(pkt, 0);
  if (rc != KNOT_EOK) {
    std::fprintf(stderr, "query_fuzz: libknot: %s\n", knot_strerror(rc));
    broken("reply does not parse", n);
  }
  if (knot_wire_get_qdcount(reply) == 1) {
    const char *what = holdfast::fuzz::check_section_types(pkt);
    const ServedZone *zone = answering_zone(knot_pkt_qname(pkt), knot_pkt_qtype(pkt));
    if (what == nullptr && zone != nullptr) {
      what = holdfast::fuzz::check_dnssec(pkt, zone->signing);
    }
    if (what != nullptr) {
      broken(what, n);
    }
  }
  knot_pkt_free(pkt);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fixture == nullptr) {
    set_up();
  }
  static uint8_t out[KNOT_WIRE_MAX_PKTSIZE];
  bool tcp = size >= 2 && (data[1] & 1) != 0;
  size_t cap = size >= 2 && (data[1] & 2) != 0 ? KNOT_WIRE_MIN_PKTSIZE : sizeof(out);
  if (!fixture->qp->begin_batch()) {
    std::abort();
  }
  size_t n = fixture->qp->process(data, size, out, cap, tcp);
  fixture->qp->end_batch();
  if (n > 0) {
    check_reply(data, out, n, cap, tcp);
  }
  return 0;
}
