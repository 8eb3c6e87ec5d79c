// SPDX-License-Identifier: MIT
// Query processing: the one place where opcode, class and type decide what happens.
#include "serve/query.h"

#include <cstring>

#include "common/knot.h"

#include "lb/view_slot.h"
#include "serve/answer.h"
#include "serve/notify.h"
#include "serve/tsig_query.h"

namespace holdfast::serve {
namespace {

// Counters have one writer (their worker): a relaxed load and store, no locked instruction
// on the query path; readers (/metrics) see monotonic totals.
inline void bump(std::atomic<uint64_t> &c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Header-only error response (the question could not be trusted): copies ID, opcode and RD.
size_t header_error(const uint8_t *query, uint8_t *out, uint8_t rcode) {
  std::memset(out, 0, KNOT_WIRE_HEADER_SIZE);
  knot_wire_set_id(out, knot_wire_get_id(query));
  knot_wire_set_qr(out);
  knot_wire_set_opcode(out, knot_wire_get_opcode(query));
  if (knot_wire_get_rd(query)) {
    knot_wire_set_rd(out);
  }
  knot_wire_set_rcode(out, rcode);
  return KNOT_WIRE_HEADER_SIZE;
}

// FORMERR for a query that parsed but has no usable question: header, and the OPT when the
// query had one (RFC 6891 7).
size_t formerr_with_opt(const knot_pkt_t *query, uint8_t *out, size_t max, uint16_t payload,
                        knot_mm_t *mm) {
  size_t n = header_error(query->wire, out, KNOT_RCODE_FORMERR);
  if (!knot_pkt_has_edns(query)) {
    return n;
  }
  knot_pkt_t *resp = knot_pkt_new(out, static_cast<uint16_t>(max), mm);
  knot_rrset_t opt;
  if (resp == nullptr || knot_edns_init(&opt, payload, 0, KNOT_EDNS_VERSION, mm) != KNOT_EOK) {
    return n;
  }
  resp->size = KNOT_WIRE_HEADER_SIZE;
  knot_pkt_begin(resp, KNOT_ADDITIONAL);
  if (knot_pkt_put(resp, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_NULL) != KNOT_EOK) {
    return n;
  }
  return resp->size;
}

bool name_is(const knot_dname_t *qname, const char *wire) {
  return knot_dname_is_equal(qname, reinterpret_cast<const knot_dname_t *>(wire));
}

// CHAOS TXT version.bind/id.server and friends, when configured; REFUSED otherwise.
uint8_t chaos_answer(const knot_pkt_t *query, const ServeOptions &opts, Plan &plan, knot_mm_t *mm) {
  const knot_dname_t *qname = knot_pkt_qname(query);
  const std::string *text = nullptr;
  if (name_is(qname, "\x07version\x04"
                     "bind") ||
      name_is(qname, "\x07version\x06server")) {
    text = &opts.version;
  } else if (name_is(qname, "\x02id\x06server") || name_is(qname, "\x08hostname\x04"
                                                                  "bind")) {
    text = &opts.identity;
  }
  if (text == nullptr || text->empty() || knot_pkt_qtype(query) != KNOT_RRTYPE_TXT) {
    return KNOT_RCODE_REFUSED;
  }
  size_t len = std::min<size_t>(text->size(), 255);
  auto *rd = static_cast<knot_rdata_t *>(mm->alloc(mm->ctx, knot_rdata_size(len + 1)));
  rd->len = static_cast<uint16_t>(len + 1);
  rd->data[0] = static_cast<uint8_t>(len);
  std::memcpy(rd->data + 1, text->data(), len);
  PlanRR rr{};
  knot_rrset_init(&rr.rr, const_cast<knot_dname_t *>(knot_pkt_wire_qname(query)), KNOT_RRTYPE_TXT,
                  KNOT_CLASS_CH, 0);
  // Not authoritative data: AA stays clear, as Knot DNS and BIND answer these.
  rr.rr.rrs.count = 1;
  rr.rr.rrs.size = static_cast<uint32_t>(knot_rdata_size(rd->len));
  rr.rr.rrs.rdata = rd;
  rr.hint = KNOT_COMPR_HINT_QNAME;
  plan.add(Section::kAnswer, rr);
  return KNOT_RCODE_NOERROR;
}

// Writes the plan's sections. An answer or authority RRset that does not fit ends the
// response (libknot sets TC); in the additional section the remaining RRsets are still tried,
// smaller ones may fit (libknot sets TC only for required glue, which lacks KNOT_PF_NOTRUNC).
void encode(knot_pkt_t *resp, const Plan &plan) {
  static constexpr knot_section_t kSections[] = {KNOT_ANSWER, KNOT_AUTHORITY, KNOT_ADDITIONAL};
  // Packet RRset index of each plan RRset, -1 when it was left out (additional data only: the
  // answer and authority sections stop at the first miss).
  int16_t written[3][Plan::kMax];
  for (int s = 0; s < 3; ++s) {
    knot_pkt_begin(resp, kSections[s]);
    for (uint8_t i = 0; i < plan.count[s]; ++i) {
      PlanRR rr = plan.rrs[s][i];
      written[s][i] = -1;
      if (rr.ref_section < 3) {
        int16_t idx = written[rr.ref_section][rr.ref_index];
        if (idx < 0) {
          continue; // an RRSIG of an RRset that did not fit
        }
        if (rr.hint == KNOT_COMPR_HINT_NONE) {
          uint16_t slot = rr.ref_rdata == PlanRR::kRefOwner ? KNOT_COMPR_HINT_OWNER
                                                            : KNOT_COMPR_HINT_RDATA + rr.ref_rdata;
          rr.hint = knot_compr_hint(&resp->rr_info[idx], slot);
        }
      }
      // libknot's compressor remembers where it wrote the last name even when the RRset then
      // fails to fit; that position lies past the packet end and is overwritten by the next
      // RRset, so a later name would be compressed against garbage (even a pointer loop).
      auto suffix = resp->compr.suffix;
      uint16_t before = resp->rrset_count;
      if (knot_pkt_put(resp, rr.hint, &rr.rr, rr.flags) != KNOT_EOK) {
        resp->compr.suffix = suffix;
        if (s < 2) {
          return;
        }
      } else if (resp->rrset_count > before) {
        written[s][i] = static_cast<int16_t>(resp->rrset_count - 1);
      }
    }
  }
}

// The RRL key of a response, as Knot DNS builds it: answers and NODATA count against the
// question name; NXDOMAIN, errors and wildcard answers against the zone (a flood of random
// names shares one budget); a referral against its delegation point (BIND does the same).
void rrl_class(const knot_pkt_t *query, const Plan &plan, uint16_t rcode, RrlKind &kind,
               const uint8_t *&name) {
  static const uint8_t kRoot[1] = {0};
  const uint8_t *zone = plan.apex != nullptr ? plan.apex : kRoot;
  const auto &auth = plan.rrs[static_cast<size_t>(Section::kAuthority)];
  bool answers = plan.count[static_cast<size_t>(Section::kAnswer)] > 0;
  if (rcode != KNOT_RCODE_NOERROR) {
    kind = rcode == KNOT_RCODE_NXDOMAIN ? RrlKind::kNxdomain : RrlKind::kError;
    name = zone;
  } else if (!answers && !plan.aa && plan.count[static_cast<size_t>(Section::kAuthority)] > 0 &&
             auth[0].rr.type == KNOT_RRTYPE_NS) {
    kind = RrlKind::kReferral;
    name = auth[0].rr.owner;
  } else {
    kind = answers ? RrlKind::kAnswer : RrlKind::kNodata;
    name = plan.wildcard ? zone : knot_pkt_qname(query);
  }
}

// A slipped response (RFC 1035 4.1.1 TC): the header and the question only, so that a real
// client retries over TCP while a spoofed victim gets nothing larger than the query.
size_t slip(uint8_t *out, size_t len) {
  size_t size = KNOT_WIRE_HEADER_SIZE;
  if (knot_wire_get_qdcount(out) == 1) {
    int qname = knot_dname_wire_check(out + size, out + len, nullptr);
    size = qname > 0 ? size + static_cast<size_t>(qname) + 4 : size;
  }
  knot_wire_set_ancount(out, 0);
  knot_wire_set_nscount(out, 0);
  knot_wire_set_arcount(out, 0);
  knot_wire_set_tc(out);
  return std::min(size, len);
}

} // namespace

QueryProcessor::QueryProcessor(store::Env &env, const ServeOptions &opts)
    : opts_(opts), txn_(env), reader_(txn_) {}

void QueryProcessor::enter_lb() {
  if (opts_.lb != nullptr) {
    lb_view_ = opts_.lb->enter(worker_);
    lb_entered_ = true;
  }
}

void QueryProcessor::leave_lb() {
  if (lb_entered_) {
    opts_.lb->leave(worker_);
    lb_entered_ = false;
    lb_view_ = nullptr;
  }
}

size_t QueryProcessor::process(const uint8_t *query, size_t len, uint8_t *out, size_t out_cap,
                               bool tcp, const sockaddr *remote) {
  malformed_ = false;
  if (len < KNOT_WIRE_HEADER_SIZE || knot_wire_get_qr(query) || len > sizeof(query_copy_)) {
    return 0; // RFC 1035 4.1.1: responses and runts are not answered
  }
  // libknot parses in place (it lowercases a copy of the qname but may touch the wire).
  std::memcpy(query_copy_, query, len);
  size_t n = respond(query_copy_, len, out, out_cap, tcp, remote);
  // TCP is never limited (its source cannot be spoofed), nor NOTIFY (a master's, answered
  // with a message no larger than its own: nothing to amplify), as BIND limits only queries.
  if (opts_.rrl != nullptr && !tcp && remote != nullptr && n > 0 &&
      knot_wire_get_opcode(out) != KNOT_OPCODE_NOTIFY) {
    n = rate_limit(out, n, remote);
  }
  arena_.reset();
  if (n >= KNOT_WIRE_HEADER_SIZE) {
    // The header's RCODE (an extended one, BADVERS, is counted by respond() as it knows it).
    if (!counted_) {
      bump(counters_.rcode[knot_wire_get_rcode(out)]);
    }
    if (knot_wire_get_tc(out)) {
      bump(counters_.truncated);
    }
  }
  counted_ = false;
  return n;
}

size_t QueryProcessor::rate_limit(uint8_t *out, size_t len, const sockaddr *remote) {
  switch (opts_.rrl->decide(remote, rrl_kind_, rrl_name_, rrl_now_, rrl_limited_)) {
  case RrlVerdict::kPass:
    return len;
  case RrlVerdict::kSlip:
    bump(counters_.rrl_limited);
    bump(counters_.rrl_slipped);
    return slip(out, len);
  case RrlVerdict::kDrop:
    bump(counters_.rrl_limited);
    return 0;
  }
  return len;
}

// The one place where opcode, class and type decide what a query gets (STYLE.md 2). Fills
// `plan` and returns the (extended) RCODE.
uint16_t QueryProcessor::decide(const knot_pkt_t *query, bool tcp, bool trailing, Plan &plan,
                                bool &not_authoritative) {
  uint16_t rcode = KNOT_RCODE_NOERROR;
  uint8_t opcode = knot_wire_get_opcode(query->wire);
  bool edns = knot_pkt_has_edns(query);
  knot_mm_t *mm = arena_.mm();
  uint16_t qclass = knot_pkt_qclass(query);
  uint16_t qtype = knot_pkt_qtype(query);
  if (trailing) {
    rcode = KNOT_RCODE_FORMERR;
  } else if (edns && knot_edns_get_version(query->opt_rr) != KNOT_EDNS_VERSION) {
    rcode = KNOT_RCODE_BADVERS; // RFC 6891 6.1.3
  } else if (opcode == KNOT_OPCODE_NOTIFY) {
    rcode = KNOT_RCODE_NOTAUTH; // no master is configured to send one (RFC 1996 3.10)
  } else if (opcode != KNOT_OPCODE_QUERY) {
    rcode = KNOT_RCODE_NOTIMPL;
  } else if (qclass == KNOT_CLASS_CH) {
    rcode = chaos_answer(query, opts_, plan, mm);
  } else if (qclass != KNOT_CLASS_IN && qclass != KNOT_CLASS_ANY) {
    rcode = KNOT_RCODE_REFUSED;
  } else if (qtype == KNOT_RRTYPE_AXFR || qtype == KNOT_RRTYPE_IXFR || qtype == 0) {
    // RFC 5936 4.2: AXFR is TCP-only. Transfer-out is not implemented yet, so the client is
    // not authorized (as Knot DNS answers without an ACL). TYPE0 is reserved.
    bool axfr_udp = qtype == KNOT_RRTYPE_AXFR && !tcp;
    rcode = (qtype == 0 || axfr_udp) ? KNOT_RCODE_NOTIMPL : KNOT_RCODE_NOTAUTH;
  } else {
    store::ZoneHandle zone;
    const knot_dname_t *qname = knot_pkt_qname(query);
    if (!reader_.find_zone(qname, zone)) {
      rcode = KNOT_RCODE_REFUSED; // not authoritative, and queries are never forwarded
      not_authoritative = true;
    } else {
      // DS lives on the parent side of a cut (RFC 4035 3.1.4.1): ask the parent zone if served.
      store::ZoneHandle parent;
      if (qtype == KNOT_RRTYPE_DS && knot_dname_is_equal(zone.apex, qname) && *qname != 0 &&
          reader_.find_zone(knot_wire_next_label(qname, nullptr), parent)) {
        zone = parent;
      }
      Question q{qname, knot_pkt_wire_qname(query), qtype, knot_pkt_has_dnssec(query)};
      q.lb = lb_view_;
      q.worker = worker_;
      answer(reader_, zone, q, plan, mm);
      rcode = plan.rcode;
    }
  }
  return rcode;
}

// The response OPT (RFC 6891 6.1.1): our payload size, version 0, DO echoed (RFC 3225 3), and
// the NSID when asked for and configured (RFC 5001).
bool QueryProcessor::make_opt(const knot_pkt_t *query, knot_rrset_t &opt, knot_mm_t *mm) {
  if (knot_edns_init(&opt, opts_.udp_max_payload, 0, KNOT_EDNS_VERSION, mm) != KNOT_EOK) {
    return false;
  }
  if (knot_pkt_has_dnssec(query)) {
    knot_edns_set_do(&opt);
  }
  if (!opts_.nsid.empty() && knot_pkt_edns_option(query, KNOT_EDNS_OPTION_NSID) != nullptr) {
    knot_edns_add_option(&opt, KNOT_EDNS_OPTION_NSID, static_cast<uint16_t>(opts_.nsid.size()),
                         reinterpret_cast<const uint8_t *>(opts_.nsid.data()), mm);
  }
  return true;
}

size_t QueryProcessor::respond(uint8_t *wire, size_t len, uint8_t *out, size_t out_cap, bool tcp,
                               const sockaddr *remote) {
  knot_mm_t *mm = arena_.mm();
  rrl_kind_ = RrlKind::kError; // until the question is answered (any zone's budget: the root)
  rrl_name_ = nullptr;
  knot_pkt_t *query = knot_pkt_new(wire, static_cast<uint16_t>(len), mm);
  if (query == nullptr) {
    return header_error(wire, out, KNOT_RCODE_SERVFAIL);
  }
  int parsed = knot_pkt_parse(query, 0);
  // Trailing bytes after a well-formed message: FORMERR, with the question (as Knot DNS).
  bool trailing = parsed == KNOT_ETRAIL;
  if (trailing) {
    parsed = KNOT_EOK;
  }
  if (parsed != KNOT_EOK || knot_wire_get_qdcount(wire) != 1) {
    return malformed(query, parsed, out, out_cap, tcp);
  }
  // Response size: RFC 6891 6.2.3-6.2.5; 512 without EDNS, TCP up to the frame limit.
  size_t max = KNOT_WIRE_MIN_PKTSIZE;
  if (tcp) {
    max = KNOT_WIRE_MAX_PKTSIZE;
  } else if (knot_pkt_has_edns(query)) {
    uint16_t client = knot_edns_get_payload(query->opt_rr);
    max = std::max<size_t>(KNOT_WIRE_MIN_PKTSIZE, std::min(client, opts_.udp_max_payload));
  }
  max = std::min(max, out_cap);
  knot_pkt_t *resp = knot_pkt_new(out, static_cast<uint16_t>(max), mm);
  if (resp == nullptr || knot_pkt_init_response(resp, query) != KNOT_EOK) {
    return header_error(wire, out, KNOT_RCODE_SERVFAIL);
  }
  knot_rrset_t opt;
  bool edns = knot_pkt_has_edns(query);
  if (edns && !make_opt(query, opt, mm)) {
    return header_error(wire, out, KNOT_RCODE_SERVFAIL);
  }
  // RFC 1996: a NOTIFY is xfr's business. Its answer carries the OPT like any other (RFC 6891
  // 7), put first: the handler may append a TSIG, which must come last.
  if (knot_wire_get_opcode(wire) == KNOT_OPCODE_NOTIFY && !trailing && opts_.notify != nullptr &&
      remote != nullptr) {
    if (edns) {
      knot_pkt_begin(resp, KNOT_ADDITIONAL);
      knot_pkt_put(resp, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_NULL);
    }
    return opts_.notify->answer(query, remote, resp);
  }
  return answer_query(query, resp, edns ? &opt : nullptr, tcp, trailing);
}

// A query that did not parse, or has no single question: FORMERR. With the question and the
// OPT when they could be read; else the header alone over UDP, and nothing over TCP (the
// stream is closed without an answer, as Knot DNS does).
size_t QueryProcessor::malformed(knot_pkt_t *query, int parsed, uint8_t *out, size_t out_cap,
                                 bool tcp) {
  malformed_ = parsed != KNOT_EOK; // unparseable: not worth an answer on a stream
  size_t max = std::min<size_t>(out_cap, KNOT_WIRE_MIN_PKTSIZE);
  if (parsed == KNOT_EOK) {
    return formerr_with_opt(query, out, max, opts_.udp_max_payload, arena_.mm());
  }
  // The question was read but a later record is broken, e.g. a second OPT (RFC 6891 6.1.1):
  // FORMERR with the question and no OPT (which one would it echo?), as Knot DNS answers.
  if (query->qname_size > 0 && knot_wire_get_qdcount(query->wire) == 1) {
    knot_pkt_t *resp = knot_pkt_new(out, static_cast<uint16_t>(max), arena_.mm());
    if (resp != nullptr && knot_pkt_init_response(resp, query) == KNOT_EOK) {
      knot_wire_set_rcode(resp->wire, KNOT_RCODE_FORMERR);
      return resp->size;
    }
  }
  return tcp ? 0 : header_error(query->wire, out, KNOT_RCODE_FORMERR);
}

// A parsed QUERY (or other opcode) with one question: decide, encode, add OPT and TSIG.
size_t QueryProcessor::answer_query(const knot_pkt_t *query, knot_pkt_t *resp, knot_rrset_t *opt,
                                    bool tcp, bool trailing) {
  knot_mm_t *mm = arena_.mm();
  if (opt != nullptr) {
    knot_pkt_reserve(resp, static_cast<uint16_t>(knot_edns_wire_size(opt)));
  }
  // RFC 8945 5.2: a signed query is checked before anything else; its answer is signed, and
  // its TSIG RR must fit (5.3: the answer is truncated rather than the TSIG left out).
  const bool is_signed = query->tsig_rr != nullptr;
  TsigVerdict tsig;
  uint16_t tsig_room = 0;
  if (is_signed) {
    tsig = check_query_tsig(query, opts_.keys);
    tsig_room = static_cast<uint16_t>(tsig_reserve(query, tsig));
    knot_pkt_reserve(resp, tsig_room);
  }
  Plan plan;
  bool not_authoritative = false;      // REFUSED because no zone holds the name
  uint16_t rcode = KNOT_RCODE_NOTAUTH; // RFC 8945 5.2: every TSIG error is NOTAUTH
  if (!is_signed || tsig.error == 0) {
    rcode = decide(query, tcp, trailing, plan, not_authoritative);
  }
  if (opts_.rrl != nullptr) {
    rrl_class(query, plan, rcode, rrl_kind_, rrl_name_);
  }

  if (plan.aa) {
    knot_wire_set_aa(resp->wire);
  }
  // CD only means something to a validating resolver; authoritative answers clear it, as
  // Knot DNS and NSD do.
  knot_wire_clear_cd(resp->wire);
  // RFC 8914 4.21: REFUSED because we are not authoritative is explained with EDE 20.
  if (opt != nullptr && not_authoritative) {
    uint8_t ede[2] = {0, 20};
    knot_edns_add_option(opt, KNOT_EDNS_OPTION_EDE, sizeof(ede), ede, mm);
  }
  knot_wire_set_rcode(resp->wire, static_cast<uint8_t>(rcode & 0x0f));
  bump(counters_.rcode[std::min<size_t>(rcode, QueryCounters::kRcodes - 1)]);
  counted_ = true;
  uint16_t qtype = knot_pkt_qtype(query);
  bump(qtype < 256 ? counters_.qtype[qtype] : counters_.qtype_other);
  encode(resp, plan);
  if (opt != nullptr) {
    knot_pkt_reclaim(resp, static_cast<uint16_t>(knot_edns_wire_size(opt)));
    knot_edns_set_ext_rcode(opt, static_cast<uint8_t>(rcode >> 4));
    knot_pkt_begin(resp, KNOT_ADDITIONAL);
    knot_pkt_put(resp, KNOT_COMPR_HINT_NONE, opt, KNOT_PF_NULL);
  }
  if (is_signed) {
    knot_pkt_reclaim(resp, tsig_room);
    return sign_answer(resp->wire, resp->size, resp->max_size, query, tsig);
  }
  return resp->size;
}

} // namespace holdfast::serve
