// SPDX-License-Identifier: MIT
// RFC 1034 4.3.2 answer algorithm over a stored snapshot, with RFC 4592 wildcards and
// RFC 6672 DNAME; collects RRsets into a Plan (query.cc encodes it).
#include "serve/answer.h"

#include "lb/view.h"
#include "serve/answer_ctx.h"
#include "store/dnssec.h"

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

namespace detail {

PlanRR make_rr(const Name &owner, const store::RRsetView &v, uint16_t flags) {
  PlanRR p{};
  knot_rrset_init(&p.rr, const_cast<knot_dname_t *>(owner.ptr), v.type, KNOT_CLASS_IN, v.ttl);
  p.rr.rrs = v.rrs;
  p.hint = owner.pos != 0 ? owner.pos : uint16_t{KNOT_COMPR_HINT_NONE};
  p.flags = flags;
  return p;
}

bool put(Ctx &c, Section s, const PlanRR &rr, const store::NodeView *src) {
  auto si = static_cast<size_t>(s);
  uint8_t index = c.plan.count[si];
  if (!c.plan.add(s, rr)) {
    return false;
  }
  knot_rdataset_t sigs;
  if (c.dnssec && src != nullptr && rr.rr.type != KNOT_RRTYPE_RRSIG &&
      c.sig_count < std::size(c.sigs) && store::rrsigs_covering(*src, rr.rr.type, sigs)) {
    uint32_t ttl = rr.rr.ttl;
    if ((rr.flags & KNOT_PF_SOAMINTTL) != 0) {
      ttl = std::min(ttl, knot_soa_minimum(rr.rr.rrs.rdata)); // as the SOA is written
    }
    c.sigs[c.sig_count++] = PendingSig{static_cast<uint8_t>(si), index, ttl, sigs};
  }
  return true;
}

const store::NodeView *apex(Ctx &c) {
  if (!c.apex_read) {
    c.apex_read = true;
    if (!c.reader.get(c.zone, NameKey{}, c.apex_node)) {
      c.apex_node = store::NodeView();
    }
  }
  return c.apex_node.valid() ? &c.apex_node : nullptr;
}

const knot_dname_t *key_name(Ctx &c, const NameKey &key) {
  auto *out = static_cast<uint8_t *>(c.mm->alloc(c.mm->ctx, KNOT_DNAME_MAXLEN));
  key_to_name(key, c.zone.apex, out);
  return out;
}

} // namespace detail

namespace {

using namespace detail; // NOLINT(google-build-using-namespace): this file's own helpers
using store::kFlagBelowDname;
using store::kFlagDelegation;
using store::kFlagDname;
using store::kFlagNonAuth;
using store::kFlagWildcardChild;
using store::NodeView;
using store::RRsetView;

void add_from(Ctx &c, Section s, const Name &owner, const NodeView &node, uint16_t type,
              uint16_t flags = KNOT_PF_NULL, const PlanRR *ref = nullptr) {
  RRsetView v;
  if (node.find(type, v)) {
    PlanRR rr = make_rr(owner, v, flags);
    if (ref != nullptr) {
      rr.ref_section = ref->ref_section;
      rr.ref_index = ref->ref_index;
      rr.ref_rdata = ref->ref_rdata;
    }
    put(c, s, rr, &node);
  }
}

// RFC 2308 3: the SOA in authority, TTL = min(SOA TTL, SOA MINIMUM).
void add_soa(Ctx &c) {
  // The apex is an ancestor of the question name: point at it in the question.
  unsigned qlabels = knot_dname_labels(c.q.qname, nullptr);
  Name owner = Name{c.q.wire_qname, KNOT_WIRE_HEADER_SIZE}.suffix(qlabels - c.apex_labels);
  if (const NodeView *node = apex(c)) {
    add_from(c, Section::kAuthority, owner, *node, KNOT_RRTYPE_SOA, KNOT_PF_SOAMINTTL);
  }
}

// The managed name at `key` in the zone, if the traffic layer has one there. Managed names
// live only in zones that are not sealed: holdfast holds no keys to sign their answers, and a
// ZONEMD digest covers the zone's own records (store/overlay.h).
const lb::View::Name *managed_name(Ctx &c, const NameKey &key) {
  return c.q.lb != nullptr && !c.sealed ? c.q.lb->find(c.zone.apex, key) : nullptr;
}

// The name an NS/MX/SRV/SVCB/HTTPS record points at, or null for other types.
const knot_dname_t *additional_target(uint16_t type, const knot_rdata_t *rd) {
  switch (type) {
  case KNOT_RRTYPE_NS:
    return knot_ns_name(rd);
  case KNOT_RRTYPE_MX:
    return knot_mx_name(rd);
  case KNOT_RRTYPE_SRV:
    return knot_srv_name(rd);
  case KNOT_RRTYPE_SVCB:
  case KNOT_RRTYPE_HTTPS:
    // RFC 9460 4.1: SvcPriority (2 octets), then TargetName; "." means the owner itself,
    // whose addresses a resolver asks for anyway.
    return rd->len > 3 && rd->data[2] != 0 ? knot_svcb_target(rd) : nullptr;
  default:
    return nullptr;
  }
}

// Additional-section addresses for in-zone targets (RFC 1035 3.3, RFC 2782, RFC 9460 4.1),
// A then AAAA for each target in rdata order, as Knot DNS writes them.
void add_additional_for(Ctx &c, const PlanRR &rr, Section s, uint8_t index) {
  const knot_rdataset_t &rrs = rr.rr.rrs;
  knot_rdata_t *rd = rrs.rdata;
  for (uint16_t i = 0; i < rrs.count; ++i, rd = knot_rdataset_next(rd)) {
    const knot_dname_t *target = additional_target(rr.rr.type, rd);
    NameKey key;
    NodeView node;
    if (target == nullptr || !make_key(target, c.zone.apex, key) ||
        !c.reader.get(c.zone, key, node)) {
      continue;
    }
    // RFC 9471: glue for name servers inside the delegated zone is not optional; when it does
    // not fit, the referral is truncated (TC). Other additional data may be left out.
    bool required = rr.rr.type == KNOT_RRTYPE_NS && node.has(store::kFlagNonAuth);
    PlanRR ref{};
    ref.ref_section = static_cast<uint8_t>(s);
    ref.ref_index = index;
    ref.ref_rdata = static_cast<uint8_t>(i);
    const lb::View::Name *managed = managed_name(c, key);
    for (uint16_t type : {KNOT_RRTYPE_A, KNOT_RRTYPE_AAAA}) {
      if (c.plan.contains(Section::kAdditional, target, type)) {
        continue;
      }
      uint16_t flags = required ? KNOT_PF_NULL : KNOT_PF_NOTRUNC;
      if (managed == nullptr) {
        add_from(c, Section::kAdditional, Name{target, 0}, node, type, flags, &ref);
        continue;
      }
      // A managed target's addresses are the members up now, not the placeholder's.
      lb::Answer a = c.q.lb->answer(*managed, type, c.q.worker, c.mm);
      if (a.pick == lb::Pick::kZone) {
        add_from(c, Section::kAdditional, Name{target, 0}, node, type, flags, &ref);
      } else if (a.pick == lb::Pick::kRRset && a.type == type) {
        PlanRR rr = make_rr(Name{target, 0}, store::RRsetView{a.type, a.ttl, a.rrs}, flags);
        rr.ref_section = ref.ref_section;
        rr.ref_index = ref.ref_index;
        rr.ref_rdata = ref.ref_rdata;
        put(c, Section::kAdditional, rr, nullptr);
      }
    }
  }
}

void add_additionals(Ctx &c) {
  for (auto s : {Section::kAnswer, Section::kAuthority}) {
    auto i = static_cast<size_t>(s);
    for (uint8_t j = 0; j < c.plan.count[i]; ++j) {
      add_additional_for(c, c.plan.rrs[i][j], s, j);
    }
  }
}

// RFC 1034 4.3.2 step 3b: a referral to the zone cut at `cut`.
void referral(Ctx &c, const Name &cut_owner, const NodeView &cut, const SearchEnd &end) {
  if (c.plan.count[static_cast<size_t>(Section::kAnswer)] == 0) {
    c.plan.aa = false;
  }
  c.end = end;
  c.end.outcome = Outcome::kReferral;
  c.end.node = cut;
  add_from(c, Section::kAuthority, cut_owner, cut, KNOT_RRTYPE_NS); // unsigned (RFC 4035 2.2)
}

void resolve(Ctx &c, const Name &name);

// An RRSIG query is answered with the signatures of one type, the lowest, as Knot DNS does
// (RFC 8482 5 allows the same minimal answer as for ANY); their TTL is that RRset's.
bool answer_rrsig(Ctx &c, const Name &owner, const NodeView &node) {
  RRsetView sigs;
  uint16_t covered = 0;
  if (!node.find(KNOT_RRTYPE_RRSIG, sigs) || !store::first_rrsigs(node, sigs.rrs, covered)) {
    return false;
  }
  RRsetView of;
  if (node.find(covered, of)) {
    sigs.ttl = of.ttl;
  }
  c.plan.add(Section::kAnswer, make_rr(owner, sigs));
  return true;
}

// A managed name (DESIGN.md "Traffic management"): the lb view answers the managed types; the
// snapshot's placeholder only made the name exist. Returns false when `qtype` is not managed
// there (the zone's own data answers).
bool answer_managed(Ctx &c, const Name &owner, const NodeView &node, const lb::View::Name &n) {
  lb::Answer a = c.q.lb->answer(n, c.q.qtype, c.q.worker, c.mm);
  switch (a.pick) {
  case lb::Pick::kZone:
    return false;
  case lb::Pick::kRRset:
    put(c, Section::kAnswer, make_rr(owner, store::RRsetView{a.type, a.ttl, a.rrs}), nullptr);
    return true;
  case lb::Pick::kCname: {
    if (c.hops >= kMaxChain || c.plan.contains(Section::kAnswer, owner.ptr, KNOT_RRTYPE_CNAME) ||
        !put(c, Section::kAnswer,
             make_rr(owner, store::RRsetView{KNOT_RRTYPE_CNAME, a.ttl, a.rrs}), nullptr)) {
      return true;
    }
    uint16_t qtype = c.q.qtype;
    if (qtype == KNOT_RRTYPE_CNAME || qtype == KNOT_RRTYPE_ANY || qtype == KNOT_RRTYPE_RRSIG ||
        qtype == KNOT_RRTYPE_NSEC) {
      return true; // answered by the alias itself, as for a stored CNAME
    }
    ++c.hops;
    const knot_dname_t *target = knot_cname_name(a.rrs.rdata);
    if (labels_below(target, c.zone.apex) >= 0) {
      resolve(c, Name{target, 0});
    }
    return true;
  }
  case lb::Pick::kNodata:
    c.end.outcome = Outcome::kNodata;
    c.end.node = node;
    add_soa(c);
    return true;
  case lb::Pick::kServfail:
    c.plan.rcode = KNOT_RCODE_SERVFAIL;
    return true;
  }
  return false;
}

// The name's data was found at `node` (possibly a wildcard): RFC 1034 4.3.2 step 3a. `end`
// says where the search ended, for denial proofs.
void answer_node(Ctx &c, const Name &owner, const NodeView &node, const SearchEnd &end) {
  uint16_t qtype = c.q.qtype;
  c.end = end;
  c.end.outcome = Outcome::kHit;
  // A wildcard's node key ends in "*" and is never a managed name.
  if (const lb::View::Name *n = managed_name(c, end.node_key);
      n != nullptr && answer_managed(c, owner, node, *n)) {
    return;
  }
  RRsetView cname;
  // RFC 4035 3.1.4.1 / 2.5: RRSIG and NSEC live beside a CNAME and are not chased through it.
  bool chase = qtype != KNOT_RRTYPE_CNAME && qtype != KNOT_RRTYPE_ANY &&
               qtype != KNOT_RRTYPE_RRSIG && qtype != KNOT_RRTYPE_NSEC;
  if (chase && node.find(KNOT_RRTYPE_CNAME, cname)) {
    // Loops end at the hop limit or when the alias is already in the answer; the name the
    // last allowed alias points to is still answered if it holds data.
    if (c.hops >= kMaxChain || c.plan.contains(Section::kAnswer, owner.ptr, KNOT_RRTYPE_CNAME) ||
        !put(c, Section::kAnswer, make_rr(owner, cname), &node)) {
      return;
    }
    ++c.hops;
    const knot_dname_t *target = knot_cname_name(cname.rrs.rdata);
    if (labels_below(target, c.zone.apex) >= 0) {
      resolve(c, Name{target, 0});
    }
    return;
  }
  if (qtype == KNOT_RRTYPE_ANY && !node.empty()) {
    // RFC 8482 4.1: one RRset is a complete answer; like Knot DNS, the one of the lowest type
    // (RRsets are stored in type order), over UDP and TCP alike. RRSIG and NSEC sort below
    // TLSA, SVCB, HTTPS, CAA...: they are the answer only where nothing else is (Knot's first
    // RRset is the first loaded, so it is data there too).
    uint16_t pick = 0;
    while (pick + 1 < node.count() &&
           (node.at(pick).type == KNOT_RRTYPE_RRSIG || node.at(pick).type == KNOT_RRTYPE_NSEC)) {
      ++pick;
    }
    put(c, Section::kAnswer, make_rr(owner, node.at(pick)), &node);
    return;
  }
  if (qtype == KNOT_RRTYPE_RRSIG && answer_rrsig(c, owner, node)) {
    return;
  }
  RRsetView v;
  if (qtype != KNOT_RRTYPE_ANY && qtype != KNOT_RRTYPE_RRSIG && node.find(qtype, v)) {
    put(c, Section::kAnswer, make_rr(owner, v), &node);
    return;
  }
  c.end.outcome = Outcome::kNodata;
  c.end.node = node;
  add_soa(c); // NODATA (RFC 2308 2.2)
}

// RFC 6672 3.3: substitute the DNAME owner suffix of `name` by the DNAME target.
void dname_synth(Ctx &c, const Name &name, unsigned name_labels, const Name &dname_owner,
                 const NodeView &dnode) {
  RRsetView dname;
  if (!dnode.find(KNOT_RRTYPE_DNAME, dname)) {
    return;
  }
  if (c.hops >= kMaxChain) {
    return; // as for CNAME chains: at most kMaxChain aliases in one answer
  }
  if (!c.plan.contains(Section::kAnswer, dname_owner.ptr, KNOT_RRTYPE_DNAME)) {
    put(c, Section::kAnswer, make_rr(dname_owner, dname), &dnode);
  }
  c.end.outcome = Outcome::kHit; // the synthesized CNAME is not signed (RFC 6672 5.3)
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
  // A CNAME question is answered by the synthesized CNAME itself (RFC 6672 3.3).
  ++c.hops;
  if (c.q.qtype != KNOT_RRTYPE_CNAME && labels_below(next, c.zone.apex) >= 0 &&
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

// RFC 4035 3.1.3.3: a synthesized answer also proves the name does not exist; one proof per
// wildcard, as Knot DNS gives it.
void record_wildcard(Ctx &c, const NameKey &sname, const uint8_t *name, const NameKey &encloser) {
  for (uint8_t i = 0; i < c.wildcard_count; ++i) {
    if (c.wildcards[i].encloser == encloser) {
      return;
    }
  }
  if (c.wildcard_count < std::size(c.wildcards)) {
    c.wildcards[c.wildcard_count++] = WildcardHit{sname, name, encloser};
  }
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
  SearchEnd end;
  end.key = key;
  end.name = name.ptr;
  end.node_key = key;
  end.encloser = l.encloser;
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
        end.node_key = key.ancestor(depth);
        referral(c, owner, barrier, end);
      } else {
        dname_synth(c, name, key.labels + c.apex_labels, owner, barrier);
      }
      return;
    }
  }
  if (l.exact) {
    answer_node(c, name, l.node, end);
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
      if (wnode.has(kFlagDelegation) && c.q.qtype != KNOT_RRTYPE_DS) {
        // A wildcard NS delegates (RFC 4592 4.2 leaves it open; Knot DNS refers from "*").
        Name encloser = name.suffix(key.labels - l.encloser.labels);
        size_t size = knot_dname_size(encloser.ptr);
        auto *owner = static_cast<uint8_t *>(c.mm->alloc(c.mm->ctx, size + 2));
        owner[0] = 1;
        owner[1] = '*';
        std::memcpy(owner + 2, encloser.ptr, size);
        end.node_key = wild;
        referral(c, Name{owner, 0}, wnode, end);
        return;
      }
      end.node_key = wild;
      record_wildcard(c, key, name.ptr, l.encloser);
      answer_node(c, name, wnode, end);
      return;
    }
  }
  // RFC 6604 3: after a CNAME the RCODE describes the last name in the chain.
  c.plan.rcode = KNOT_RCODE_NXDOMAIN;
  c.end = end;
  c.end.outcome = Outcome::kNxdomain;
  add_soa(c);
}

} // namespace

void answer(store::Reader &reader, const store::ZoneHandle &zone, const Question &q, Plan &plan,
            knot_mm_t *mm) {
  Ctx c(reader, zone, q, plan, mm, static_cast<unsigned>(knot_dname_labels(zone.apex, nullptr)),
        q.dnssec && zone.dnssec() != store::DnssecMode::kUnsigned);
  c.sealed = zone.dnssec() != store::DnssecMode::kUnsigned ||
             (zone.record.flags & store::kZoneFlagZonemd) != 0;
  plan.aa = true;
  plan.rcode = KNOT_RCODE_NOERROR;
  resolve(c, Name{q.wire_qname, KNOT_WIRE_HEADER_SIZE});
  plan.apex = zone.apex;
  plan.wildcard = c.wildcard_count > 0;
  if (c.dnssec && plan.rcode != KNOT_RCODE_SERVFAIL) {
    add_denial(c);
  }
  add_additionals(c);
  if (c.dnssec) {
    add_signatures(c);
  }
}

} // namespace holdfast::serve
