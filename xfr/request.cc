// SPDX-License-Identifier: MIT
// Requests to masters and reply checks (see request.h).
#include "xfr/request.h"

#include <cstring>

#include "common/dname.h"

namespace holdfast::xfr {

std::string rcode_name(unsigned rcode) {
  const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, static_cast<int>(rcode));
  return l != nullptr ? l->name : "RCODE" + std::to_string(rcode);
}

Result<size_t> make_request(uint8_t *buf, const knot_dname_t *apex, uint16_t qtype, uint16_t id,
                            uint32_t ixfr_serial, TsigClient &tsig) {
  std::memset(buf, 0, kRequestMax); // knot_pkt_new() leaves a caller's buffer as it is
  knot_pkt_t *pkt = knot_pkt_new(buf, kRequestMax, nullptr);
  if (pkt == nullptr) {
    return fail("out of memory");
  }
  knot_wire_set_id(pkt->wire, id);
  int ret = knot_pkt_put_question(pkt, apex, KNOT_CLASS_IN, qtype);
  if (ret == KNOT_EOK && qtype == KNOT_RRTYPE_IXFR) {
    // A minimal SOA: root MNAME and RNAME, our serial, zero timers.
    uint8_t rdata[22] = {};
    knot_wire_write_u32(rdata + 2, ixfr_serial);
    knot_rrset_t soa;
    knot_rrset_init(&soa, const_cast<knot_dname_t *>(apex), KNOT_RRTYPE_SOA, KNOT_CLASS_IN, 0);
    ret = knot_rrset_add_rdata(&soa, rdata, sizeof(rdata), nullptr);
    if (ret == KNOT_EOK) {
      ret = knot_pkt_begin(pkt, KNOT_AUTHORITY);
    }
    if (ret == KNOT_EOK) {
      ret = knot_pkt_put(pkt, 0, &soa, 0);
    }
    knot_rdataset_clear(&soa.rrs, nullptr);
  }
  size_t len = pkt->size;
  knot_pkt_free(pkt);
  if (ret != KNOT_EOK) {
    return fail(std::string("cannot build the request: ") + knot_strerror(ret));
  }
  if (auto st = tsig.sign(buf, len, kRequestMax); !st) {
    return fail(st.error());
  }
  return len;
}

Status parse_reply(knot_pkt_t *pkt) {
  int ret = knot_pkt_parse(pkt, 0);
  if (ret != KNOT_EOK) {
    return fail(std::string("malformed message from the master: ") + knot_strerror(ret));
  }
  return Ok{};
}

Status check_reply(const knot_pkt_t *pkt, uint16_t id, const knot_dname_t *apex, uint16_t qtype,
                   bool first, TsigClient &tsig) {
  const uint8_t *w = pkt->wire;
  if (knot_wire_get_id(w) != id || !knot_wire_get_qr(w)) {
    return fail("malformed reply: wrong message id or not a response");
  }
  if (knot_wire_get_opcode(w) != KNOT_OPCODE_QUERY) {
    return fail("malformed reply: unexpected opcode");
  }
  bool has_question = knot_wire_get_qdcount(w) > 0;
  if (first || has_question) {
    if (!has_question || knot_pkt_qtype(pkt) != qtype || knot_pkt_qclass(pkt) != KNOT_CLASS_IN ||
        !knot_dname_is_case_equal(knot_pkt_qname(pkt), apex)) {
      return fail("malformed reply: question does not match the request");
    }
  }
  // TSIG first: an error RCODE from the master may come with a TSIG error explaining it.
  auto st = tsig.verify(pkt);
  unsigned rcode = knot_wire_get_rcode(w);
  if (rcode != KNOT_RCODE_NOERROR) {
    std::string msg = "master answered " + rcode_name(rcode);
    if (pkt->tsig_rr != nullptr && knot_tsig_rdata_error(pkt->tsig_rr) != 0) {
      msg += " (TSIG " + tsig_error_text(knot_tsig_rdata_error(pkt->tsig_rr)) + ")";
    }
    return fail(msg);
  }
  if (!st) {
    return st;
  }
  return Ok{};
}

} // namespace holdfast::xfr
