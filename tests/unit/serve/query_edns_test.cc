// SPDX-License-Identifier: MIT
// QueryProcessor and the OPT record on the paths that do not reach answer(): a NOTIFY answered
// by the NOTIFY handler gets the OPT back (RFC 6891 7), two OPT records are FORMERR (6.1.1).
#include "serve/query.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/knot.h"
#include "serve/notify.h"

#include "tests/unit/serve/query_fixture.h"

namespace holdfast::serve::testing {
namespace {

// Answers like xfr's intake does for a zone it is not a secondary for.
class NotSecondary final : public NotifyHandler {
public:
  size_t answer(const knot_pkt_t *, const sockaddr *, knot_pkt_t *resp) override {
    ++calls;
    knot_wire_set_rcode(resp->wire, KNOT_RCODE_NOTAUTH);
    return resp->size;
  }
  int calls = 0;
};

class QueryEdnsTest : public QueryTest {
protected:
  void SetUp() override {
    QueryTest::SetUp();
    ServeOptions opts;
    opts.udp_max_payload = 1400;
    opts.notify = &notify_;
    qp_ = std::make_unique<QueryProcessor>(*env_, opts);
  }
  std::vector<uint8_t> run_from(const std::vector<uint8_t> &q, bool tcp = false) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(0x7f000001);
    EXPECT_TRUE(qp_->begin_batch());
    size_t n = qp_->process(q.data(), q.size(), out_, sizeof(out_), tcp,
                            reinterpret_cast<const sockaddr *>(&from));
    qp_->end_batch();
    return std::vector<uint8_t>(out_, out_ + n);
  }
  NotSecondary notify_;
};

// RFC 6891 7: a query with an OPT gets one back, also a NOTIFY answered NOTAUTH because the
// zone is ours as a primary (Knot DNS answers it the same way).
TEST_F(QueryEdnsTest, Rfc6891NotifyWithOptIsAnsweredWithOpt) {
  QueryOptions o;
  o.opcode = KNOT_OPCODE_NOTIFY;
  o.edns = true;
  o.rd = false;
  Response r(run_from(make_query("example.", KNOT_RRTYPE_SOA, o)));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(notify_.calls, 1);
  EXPECT_EQ(knot_wire_get_opcode(r.wire()), KNOT_OPCODE_NOTIFY);
  EXPECT_EQ(r.rcode(), KNOT_RCODE_NOTAUTH);
  ASSERT_NE(r.opt(), nullptr);
  EXPECT_EQ(knot_edns_get_payload(r.opt()), 1400);
  EXPECT_EQ(knot_edns_get_version(r.opt()), 0);
}

TEST_F(QueryEdnsTest, Rfc6891NotifyWithoutOptIsAnsweredWithoutOpt) {
  QueryOptions o;
  o.opcode = KNOT_OPCODE_NOTIFY;
  Response r(run_from(make_query("example.", KNOT_RRTYPE_SOA, o)));
  ASSERT_TRUE(r.parsed());
  EXPECT_EQ(r.rcode(), KNOT_RCODE_NOTAUTH);
  EXPECT_EQ(r.opt(), nullptr);
}

// A query with its OPT record twice.
std::vector<uint8_t> two_opts() {
  QueryOptions o;
  o.edns = true;
  auto q = make_query("www.example.", KNOT_RRTYPE_A, o);
  const size_t opt_size = 11; // root owner, type, class, TTL, RDLENGTH 0
  std::vector<uint8_t> opt(q.end() - opt_size, q.end());
  q.insert(q.end(), opt.begin(), opt.end());
  knot_wire_set_arcount(q.data(), 2);
  return q;
}

// RFC 6891 6.1.1: more than one OPT is FORMERR, over UDP and TCP. Knot DNS answers it with
// the question and without OPT (which of the two would it echo?).
TEST_F(QueryEdnsTest, Rfc6891TwoOptRecordsAreFormerr) {
  for (bool tcp : {false, true}) {
    Response r(run_from(two_opts(), tcp));
    ASSERT_TRUE(r.parsed()) << "tcp " << tcp;
    EXPECT_EQ(r.id(), 0xbeef);
    EXPECT_TRUE(r.qr());
    EXPECT_EQ(r.rcode(), KNOT_RCODE_FORMERR) << "tcp " << tcp;
    EXPECT_EQ(r.qdcount(), 1);
    EXPECT_EQ(r.qname_text(), "www.example.");
    EXPECT_EQ(r.opt(), nullptr);
    EXPECT_EQ(r.answer(), Lines{});
  }
}

// Knot DNS neither answers a query whose question cannot be read: over TCP the connection ends
// without an answer (UDP keeps its header-only FORMERR).
TEST_F(QueryEdnsTest, StreamQueryWithUnreadableQuestionGetsNoAnswer) {
  auto q = make_query("www.example.", KNOT_RRTYPE_A);
  q.resize(KNOT_WIRE_HEADER_SIZE + 6); // cut inside the QNAME
  EXPECT_EQ(run_from(q, /*tcp=*/true).size(), 0u);
  EXPECT_TRUE(qp_->last_malformed());
  Response udp(run_from(q));
  EXPECT_EQ(udp.rcode(), KNOT_RCODE_FORMERR);
  EXPECT_EQ(udp.size(), size_t{KNOT_WIRE_HEADER_SIZE});
}

} // namespace
} // namespace holdfast::serve::testing
