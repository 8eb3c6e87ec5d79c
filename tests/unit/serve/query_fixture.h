// SPDX-License-Identifier: MIT
// Shared by the QueryProcessor tests: a store with test zones, wire queries built with libknot,
// replies parsed back into "owner TTL TYPE rdata" lines.
#pragma once

#include "serve/query.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/knot.h"

#include "store/zonefile.h"
#include "tests/unit/testutil.h"

namespace holdfast::serve::testing {

using test::Name;
using test::TempDir;

inline std::string big_txt(const char *owner, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    char line[128];
    std::snprintf(line, sizeof(line), "%s TXT \"record %02d padding padding padding\"\n", owner, i);
    out += line;
  }
  return out;
}

// SOA TTL 7200 > MINIMUM 300: negative answers carry 300 (RFC 2308 3).
inline const std::string kExample = R"(
$ORIGIN example.
$TTL 3600
@              7200 SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@              NS    ns1
@              NS    ns2
@              MX    10 mail
ns1            A     192.0.2.1
ns2            A     192.0.2.2
mail           A     192.0.2.25
www            A     192.0.2.80
www            AAAA  2001:db8::80
alias          CNAME chain
chain          CNAME www
dangling       CNAME nowhere
out            CNAME www.example.org.
upper          CNAME WWW.EXAMPLE.
loop1          CNAME loop2
loop2          CNAME loop1
*.wild         A     192.0.2.99
*.wild         TXT   "wild"
host.deep.wild A     192.0.2.98
x.*.ew         A     192.0.2.97
sub            NS    ns.sub
sub            NS    ns.other.test.
ns.sub         A     192.0.2.53
dn             DNAME example.net.
dn2            DNAME target
www.target     A     192.0.2.7
)" + big_txt("big", 40) + big_txt("medium", 18);

// SOA TTL 60 < MINIMUM 3600: negative answers carry 60 (RFC 2308 3).
inline const char *kShort = R"(
$ORIGIN short.
@    60 SOA ns hostmaster 5 7200 3600 1209600 3600
@    3600 NS ns
ns   3600 A 192.0.2.1
)";

struct QueryOptions {
  uint16_t qclass = KNOT_CLASS_IN;
  uint8_t opcode = KNOT_OPCODE_QUERY;
  bool edns = false;
  uint16_t payload = 1232;
  uint8_t version = 0;
  bool dnssec_ok = false;
  bool nsid = false; // ask for the server's NSID (RFC 5001)
  bool rd = true;
};

inline std::vector<uint8_t> make_query(const std::string &qname, uint16_t qtype,
                                       QueryOptions o = {}) {
  knot_pkt_t *pkt = knot_pkt_new(nullptr, KNOT_WIRE_MAX_PKTSIZE, nullptr);
  EXPECT_NE(pkt, nullptr);
  knot_wire_set_id(pkt->wire, 0xbeef);
  if (o.rd) {
    knot_wire_set_rd(pkt->wire);
  }
  knot_wire_set_opcode(pkt->wire, o.opcode);
  Name name(qname);
  EXPECT_EQ(knot_pkt_put_question(pkt, name, o.qclass, qtype), KNOT_EOK);
  if (o.edns) {
    knot_rrset_t opt;
    EXPECT_EQ(knot_edns_init(&opt, o.payload, 0, o.version, nullptr), KNOT_EOK);
    if (o.dnssec_ok) {
      knot_edns_set_do(&opt);
    }
    if (o.nsid) {
      EXPECT_EQ(knot_edns_add_option(&opt, KNOT_EDNS_OPTION_NSID, 0, nullptr, nullptr), KNOT_EOK);
    }
    EXPECT_EQ(knot_pkt_begin(pkt, KNOT_ADDITIONAL), KNOT_EOK);
    EXPECT_EQ(knot_pkt_put(pkt, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE), KNOT_EOK);
  }
  std::vector<uint8_t> wire(pkt->wire, pkt->wire + pkt->size);
  knot_pkt_free(pkt);
  return wire;
}

// "owner TTL TYPE rdata" for every record of a section (OPT left out).
inline std::vector<std::string> render(const knot_pkt_t *pkt, knot_section_t s) {
  std::vector<std::string> out;
  const knot_pktsection_t *sec = knot_pkt_section(pkt, s);
  for (uint16_t i = 0; i < sec->count; ++i) {
    const knot_rrset_t *rr = knot_pkt_rr(sec, i);
    if (rr->type == KNOT_RRTYPE_OPT) {
      continue;
    }
    char owner[KNOT_DNAME_TXT_MAXLEN + 1];
    knot_dname_to_str(owner, rr->owner, sizeof(owner));
    char type[32];
    knot_rrtype_to_string(rr->type, type, sizeof(type));
    for (uint16_t r = 0; r < rr->rrs.count; ++r) {
      char data[4096];
      if (knot_rrset_txt_dump_data(rr, r, data, sizeof(data), &KNOT_DUMP_STYLE_DEFAULT) < 0) {
        std::snprintf(data, sizeof(data), "<undumpable>");
      }
      out.push_back(std::string(owner) + " " + std::to_string(rr->ttl) + " " + type + " " + data);
    }
  }
  return out;
}

// A parsed response.
class Response {
public:
  explicit Response(std::vector<uint8_t> wire) : wire_(std::move(wire)) {
    pkt_ = knot_pkt_new(wire_.data(), static_cast<uint16_t>(wire_.size()), nullptr);
    // NOCANON: keep owner case as sent (libknot lowercases parsed RRsets by default).
    parsed_ = pkt_ != nullptr && knot_pkt_parse(pkt_, KNOT_PF_NOCANON) == KNOT_EOK;
  }
  ~Response() { knot_pkt_free(pkt_); }
  Response(const Response &) = delete;
  Response &operator=(const Response &) = delete;

  bool parsed() const { return parsed_; }
  size_t size() const { return wire_.size(); }
  const uint8_t *wire() const { return wire_.data(); }
  const knot_pkt_t *pkt() const { return pkt_; }
  uint16_t rcode() const { return knot_pkt_ext_rcode(pkt_); }
  bool aa() const { return knot_wire_get_aa(wire_.data()); }
  bool tc() const { return knot_wire_get_tc(wire_.data()); }
  bool qr() const { return knot_wire_get_qr(wire_.data()); }
  bool rd() const { return knot_wire_get_rd(wire_.data()); }
  uint16_t id() const { return knot_wire_get_id(wire_.data()); }
  uint16_t qdcount() const { return knot_wire_get_qdcount(wire_.data()); }
  std::vector<std::string> answer() const { return render(pkt_, KNOT_ANSWER); }
  std::vector<std::string> authority() const { return render(pkt_, KNOT_AUTHORITY); }
  std::vector<std::string> additional() const { return render(pkt_, KNOT_ADDITIONAL); }
  std::string qname_text() const {
    char buf[KNOT_DNAME_TXT_MAXLEN + 1];
    knot_dname_to_str(buf, knot_pkt_wire_qname(pkt_), sizeof(buf));
    return buf;
  }
  const knot_rrset_t *opt() const { return pkt_->opt_rr; }

private:
  std::vector<uint8_t> wire_;
  knot_pkt_t *pkt_ = nullptr;
  bool parsed_ = false;
};

inline const std::string kNegSoa =
    "example. 300 SOA ns1.example. hostmaster.example. 2024010101 7200 3600 1209600 300";

class QueryTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.file("store"));
    ASSERT_NE(env_, nullptr);
    load("example.", kExample);
    load("short.", kShort);
    ServeOptions opts;
    opts.udp_max_payload = 1400;
    opts.version = "holdfast-unit";
    opts.identity = "";
    opts.nsid = "unit-ns";
    qp_ = std::make_unique<QueryProcessor>(*env_, opts);
  }
  void load(const std::string &apex, const std::string &text) {
    std::string path = dir_.write(apex + "zone", text);
    auto r = store::load_zone_file(*env_, Name(apex), path);
    ASSERT_TRUE(r.ok()) << r.error();
  }

  // Runs one query through the processor inside its own batch; returns the raw reply.
  std::vector<uint8_t> run(const std::vector<uint8_t> &query, bool tcp = false) {
    EXPECT_TRUE(qp_->begin_batch());
    size_t n = qp_->process(query.data(), query.size(), out_, sizeof(out_), tcp);
    qp_->end_batch();
    return std::vector<uint8_t>(out_, out_ + n);
  }
  std::unique_ptr<Response> ask(const std::string &qname, uint16_t qtype, QueryOptions o = {},
                                bool tcp = false) {
    auto r = std::make_unique<Response>(run(make_query(qname, qtype, o), tcp));
    EXPECT_TRUE(r->parsed()) << "response does not parse";
    EXPECT_TRUE(r->qr());
    EXPECT_EQ(r->id(), 0xbeef);
    return r;
  }

  TempDir dir_;
  std::unique_ptr<store::Env> env_;
  std::unique_ptr<QueryProcessor> qp_;
  uint8_t out_[KNOT_WIRE_MAX_PKTSIZE];
};

using Lines = std::vector<std::string>;

} // namespace holdfast::serve::testing
