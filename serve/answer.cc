// SPDX-License-Identifier: MIT
// RFC 1034 4.3.2 answer algorithm over a stored snapshot, with RFC 4592 wildcards and
// RFC 6672 DNAME; collects RRsets into a Plan (encoding is encode.cc's job).
#include "serve/answer.h"

#include <cstring>

#include "common/knot.h"

namespace holdfast::serve {

bool Plan::add(Section s, const PlanRR &rr) {
  auto i = static_cast<size_t>(s);
  if (count[i] >= kMax) {
    return false;
  }
  rrs[i][count[i]++] = rr;
  return true;
}

bool Plan::contains(Section s, const knot_dname_t *owner, uint16_t type) const {
  auto i = static_cast<size_t>(s);
  for (uint8_t j = 0; j < count[i]; ++j) {
    if (rrs[i][j].rr.type == type && knot_dname_is_case_equal(rrs[i][j].rr.owner, owner)) {
      return true;
    }
  }
  return false;
}

namespace {

using store::kFlagBelowDname;
using store::kFlagDelegation;
using store::kFlagDname;
using store::kFlagNonAuth;
using store::kFlagWildcardChild;
using store::NodeView;
using store::RRsetView;

constexpr int kMaxChain = 16; // CNAME/DNAME hops followed before giving up (loops included)

// A name being answered for: where its bytes are and where they sit in the response, if they
// are part of the question (then owners are written as compression pointers, preserving the
// client's 0x20 case).
struct Name {
  const uint8_t *ptr;
  uint16_t pos; // offset of ptr in the response, 0 when not in it

  Name suffix(unsigned skip) const {
    Name n = *this;
    for (unsigned i = 0; i < skip; ++i) {
      unsigned step = *n.ptr + 1;
      n.ptr += step;
      if (n.pos != 0) {
        n.pos = static_cast<uint16_t>(n.pos + step);
      }
    }
    return n;
  }
};

struct Ctx {
  store::Reader &reader;
  const store::ZoneHandle &zone;
  const Question &q;
  Plan &plan;
  knot_mm_t *mm;
  unsigned apex_labels;
  int hops = 0;
};

PlanRR make_rr(const Name &owner, const RRsetView &v, uint16_t flags = KNOT_PF_NULL) {
  PlanRR p{};
  knot_rrset_init(&p.rr, const_cast<knot_dname_t *>(owner.ptr), v.type, KNOT_CLASS_IN, v.ttl);
  p.rr.rrs = v.rrs;
  p.hint = owner.pos != 0 ? owner.pos : uint16_t{KNOT_COMPR_HINT_NONE};
  p.flags = flags;
  return p;
}

void add_from(Ctx &c, Section s, const Name &owner, const NodeView &node, uint16_t type,
              uint16_t flags = KNOT_PF_NULL) {
  RRsetView v;
  if (node.find(type, v)) {
    c.plan.add(s, make_rr(owner, v, flags));
  }
}

// RFC 2308 3: the SOA in authority, TTL = min(SOA TTL, SOA MINIMUM).
void add_soa(Ctx &c) {
  NodeView apex;
  NameKey key; // empty: the apex
  // The apex is an ancestor of the question name: point at it in the question.
  unsigned qlabels = knot_dname_labels(c.q.qname, nullptr);
  Name owner = Name{c.q.wire_qname, KNOT_WIRE_HEADER_SIZE}.suffix(qlabels - c.apex_labels);
  if (c.reader.get(c.zone, key, apex)) {
    add_from(c, Section::kAuthority, owner, apex, KNOT_RRTYPE_SOA, KNOT_PF_SOAMINTTL);
  }
}

// Additional-section addresses for in-zone NS/MX/SRV targets (RFC 1035 3.3, RFC 2782).
void add_additional_for(Ctx &c, const PlanRR &rr) {
  const knot_rdataset_t &rrs = rr.rr.rrs;
  knot_rdata_t *rd = rrs.rdata;
  for (uint16_t i = 0; i < rrs.count; ++i, rd = knot_rdataset_next(rd)) {
    const knot_dname_t *target = nullptr;
    switch (rr.rr.type) {
    case KNOT_RRTYPE_NS:
      target = knot_ns_name(rd);
      break;
    case KNOT_RRTYPE_MX:
      target = knot_mx_name(rd);
      break;
    case KNOT_RRTYPE_SRV:
      target = knot_srv_name(rd);
      break;
    default:
      return;
    }
    NameKey key;
    NodeView node;
    if (!make_key(target, c.zone.apex, key) || !c.reader.get(c.zone, key, node)) {
      continue;
    }
    for (uint16_t type : {KNOT_RRTYPE_A, KNOT_RRTYPE_AAAA}) {
      if (!c.plan.contains(Section::kAdditional, target, type)) {
        add_from(c, Section::kAdditional, Name{target, 0}, node, type, KNOT_PF_NOTRUNC);
      }
    }
  }
}

void add_additionals(Ctx &c) {
  for (auto s : {Section::kAnswer, Section::kAuthority}) {
    auto i = static_cast<size_t>(s);
    for (uint8_t j = 0; j < c.plan.count[i]; ++j) {
      add_additional_for(c, c.plan.rrs[i][j]);
    }
  }
}

// RFC 1034 4.3.2 step 3b: a referral to the zone cut at `cut`.
void referral(Ctx &c, const Name &cut_owner, const NodeView &cut) {
  if (c.plan.count[static_cast<size_t>(Section::kAnswer)] == 0) {
    c.plan.aa = false;
  }
  add_from(c, Section::kAuthority, cut_owner, cut, KNOT_RRTYPE_NS);
}

void resolve(Ctx &c, const Name &name);

// The name's data was found at `node` (possibly a wildcard): RFC 1034 4.3.2 step 3a.
void answer_node(Ctx &c, const Name &owner, const NodeView &node) {
  uint16_t qtype = c.q.qtype;
  RRsetView cname;
  if (qtype != KNOT_RRTYPE_CNAME && qtype != KNOT_RRTYPE_ANY &&
      node.find(KNOT_RRTYPE_CNAME, cname)) {
    // Loops end at the hop limit or when the target is already in the answer.
    PlanRR rr = make_rr(owner, cname);
    if (c.plan.contains(Section::kAnswer, owner.ptr, KNOT_RRTYPE_CNAME) ||
        !c.plan.add(Section::kAnswer, rr)) {
      return;
    }
    const knot_dname_t *target = knot_cname_name(cname.rrs.rdata);
    if (++c.hops <= kMaxChain && knot_dname_in_bailiwick(target, c.zone.apex) >= 0) {
      resolve(c, Name{target, 0});
    }
    return;
  }
  if (qtype == KNOT_RRTYPE_ANY && !node.empty()) {
    // RFC 8482 4.1: one RRset is a complete answer; like Knot DNS, the one of the lowest type
    // (RRsets are stored in type order), over UDP and TCP alike.
    c.plan.add(Section::kAnswer, make_rr(owner, node.at(0)));
    return;
  }
  RRsetView v;
  if (qtype != KNOT_RRTYPE_ANY && node.find(qtype, v)) {
    c.plan.add(Section::kAnswer, make_rr(owner, v));
    return;
  }
  add_soa(c); // NODATA (RFC 2308 2.2)
}

// RFC 6672 3.3: substitute the DNAME owner suffix of `name` by the DNAME target.
void dname_synth(Ctx &c, const Name &name, unsigned name_labels, const Name &dname_owner,
                 const NodeView &dnode) {
  RRsetView dname;
  if (!dnode.find(KNOT_RRTYPE_DNAME, dname)) {
    return;
  }
  c.plan.add(Section::kAnswer, make_rr(dname_owner, dname));
  const knot_dname_t *target = knot_dname_target(dname.rrs.rdata);
  unsigned keep = name_labels - knot_dname_labels(dname_owner.ptr, nullptr);
  size_t prefix = knot_dname_prefixlen(name.ptr, keep, nullptr);
  size_t tsize = knot_dname_size(target);
  if (prefix + tsize > KNOT_DNAME_MAXLEN) {
    c.plan.rcode = KNOT_RCODE_YXDOMAIN; // RFC 6672 2.2: the result would be too long
    return;
  }
  auto *rd = static_cast<knot_rdata_t *>(c.mm->alloc(c.mm->ctx, knot_rdata_size(prefix + tsize)));
  rd->len = static_cast<uint16_t>(prefix + tsize);
  std::memcpy(rd->data, name.ptr, prefix);
  std::memcpy(rd->data + prefix, target, tsize);
  RRsetView synth;
  synth.type = KNOT_RRTYPE_CNAME;
  synth.ttl = dname.ttl;
  synth.rrs.count = 1;
  synth.rrs.size = static_cast<uint32_t>(knot_rdata_size(rd->len));
  synth.rrs.rdata = rd;
  c.plan.add(Section::kAnswer, make_rr(name, synth));
  const knot_dname_t *next = rd->data;
  if (++c.hops <= kMaxChain && knot_dname_in_bailiwick(next, c.zone.apex) >= 0 &&
      !c.plan.contains(Section::kAnswer, next, KNOT_RRTYPE_CNAME)) {
    resolve(c, Name{next, 0});
  }
}

// Walks from the apex down to the first zone cut or DNAME above `key` (or at it, for a cut
// when `self_cut`). Returns the depth found, 0 when none.
unsigned find_barrier(Ctx &c, const NameKey &key, bool self_cut, NodeView &out) {
  for (unsigned d = 1; d <= key.labels; ++d) {
    NodeView n;
    if (!c.reader.get(c.zone, key.ancestor(d), n)) {
      continue;
    }
    bool is_self = d == key.labels;
    if (n.has(kFlagDelegation) && (!is_self || self_cut)) {
      out = n;
      return d;
    }
    if (!is_self && n.has(kFlagDname)) {
      out = n;
      return d;
    }
  }
  return 0;
}

void resolve(Ctx &c, const Name &name) {
  NameKey key;
  if (!make_key(name.ptr, c.zone.apex, key)) {
    return;
  }
  store::Lookup l;
  if (!c.reader.lookup(c.zone, key, l)) {
    c.plan.rcode = KNOT_RCODE_SERVFAIL;
    return;
  }
  const NodeView &at = l.exact ? l.node : l.encloser_node;
  constexpr uint16_t kBarrier = kFlagNonAuth | kFlagBelowDname;
  // DS is answered by the parent side of a cut (RFC 4035 3.1.4.1).
  bool self_cut = !(l.exact && c.q.qtype == KNOT_RRTYPE_DS);
  bool encloser_barrier = !l.exact && at.has(kFlagDelegation | kFlagDname);
  bool self_barrier = l.exact && self_cut && at.has(kFlagDelegation);
  if (at.has(kBarrier) || encloser_barrier || self_barrier) {
    NodeView barrier;
    unsigned depth = find_barrier(c, key, self_cut, barrier);
    if (depth > 0) {
      Name owner = name.suffix(key.labels - depth);
      if (barrier.has(kFlagDelegation)) {
        referral(c, owner, barrier);
      } else {
        dname_synth(c, name, key.labels + c.apex_labels, owner, barrier);
      }
      return;
    }
  }
  if (l.exact) {
    answer_node(c, name, l.node);
    return;
  }
  if (at.has(kFlagWildcardChild)) {
    // RFC 4592 3.3.1: the source of synthesis is "*" under the closest encloser.
    NameKey wild = l.encloser;
    wild.data[wild.len++] = '*';
    wild.data[wild.len++] = 0;
    ++wild.labels;
    NodeView wnode;
    if (c.reader.get(c.zone, wild, wnode)) {
      answer_node(c, name, wnode);
      return;
    }
  }
  // RFC 6604 3: after a CNAME the RCODE describes the last name in the chain.
  c.plan.rcode = KNOT_RCODE_NXDOMAIN;
  add_soa(c);
}

} // namespace

void answer(store::Reader &reader, const store::ZoneHandle &zone, const Question &q, Plan &plan,
            knot_mm_t *mm) {
  Ctx c{reader, zone, q, plan, mm, static_cast<unsigned>(knot_dname_labels(zone.apex, nullptr))};
  plan.aa = true;
  plan.rcode = KNOT_RCODE_NOERROR;
  resolve(c, Name{q.wire_qname, KNOT_WIRE_HEADER_SIZE});
  add_additionals(c);
}

} // namespace holdfast::serve
