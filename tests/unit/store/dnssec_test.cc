// SPDX-License-Identifier: MIT
// DNSSEC storage (store/dnssec.h, schema.h format 2): signing mode, NSEC3 space, hashes, IXFR, GC.
#include "store/dnssec.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "common/nsec3.h"
#include "store/diff.h"
#include "store/keys.h"
#include "store/reader.h"
#include "store/writer.h"
#include "store/zone_walk.h"
#include "tests/unit/common/message.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::count_nodes;
using test::hex;
using test::kApex;
using test::key_of;
using test::Name;
using test::rrs;
using test::soa;

using Hash = std::array<uint8_t, kNsec3HashLen>;

const std::string kParam = "1 0 2 aabbccdd"; // SHA-1, no opt-out, 2 iterations, salt aabbccdd

enum class Denial { kNsec, kNsec3 };

// One record of a test zone: owner relative to the apex ("@" for the apex), type, rdata.
struct Rr {
  std::string owner;
  std::string type;
  std::string rdata;
};

// The data of the default test zone. "b" is an empty non-terminal, "sub" an unsigned delegation
// with glue, "0" sorts before every NSEC3 owner label and "zzz" after every one.
std::vector<Rr> base_data() {
  return {
      {"@", "NS", "ns1"},         {"0", "TXT", "\"first\""},     {"ns1", "A", "192.0.2.1"},
      {"www", "A", "192.0.2.80"}, {"www", "TXT", "\"hello\""},   {"a.b", "A", "192.0.2.3"},
      {"sub", "NS", "ns.sub"},    {"ns.sub", "A", "192.0.2.53"}, {"zzz", "TXT", "\"last\""},
  };
}

// A signed test zone, written as the zone text a signer would produce, with fake signatures
// (the store does not verify them).
struct ZoneSpec {
  uint32_t serial = 1;
  Denial denial = Denial::kNsec3;
  std::string nsec3param = kParam;
  bool sign_soa = true;
  std::vector<Rr> data = base_data();
  std::map<std::string, std::string> signatures; // "owner TYPE" -> base64 ("AAAA" otherwise)
};

std::string full_name(const std::string &owner) {
  return owner == "@" ? kApex : owner + "." + kApex;
}

bool canonical_less(const std::string &a, const std::string &b) {
  return knot_dname_cmp(Name(a), Name(b)) < 0;
}

// Sorts names (text) in canonical order (RFC 4034 6.1), converting each once.
void sort_canonical(std::vector<std::string> &names) {
  std::vector<std::pair<std::vector<uint8_t>, std::string>> wire;
  for (auto &n : names) {
    Name w(n);
    wire.emplace_back(std::vector<uint8_t>(w.get(), w.get() + w.size()), std::move(n));
  }
  std::sort(wire.begin(), wire.end(), [](const auto &a, const auto &b) {
    return knot_dname_cmp(a.first.data(), b.first.data()) < 0;
  });
  names.clear();
  for (auto &w : wire) {
    names.push_back(std::move(w.second));
  }
}

bool below(const std::string &owner, const std::string &cut) {
  return owner.size() > cut.size() + 1 &&
         owner.compare(owner.size() - cut.size() - 1, std::string::npos, "." + cut) == 0;
}

// The hash parameters of `param` (NSEC3PARAM text). Owner labels are always hashed with SHA-1,
// so that a zone naming an unknown algorithm still has well-formed NSEC3 owners.
Nsec3Params params_of(const std::string &param) {
  static std::map<std::string, Nsec3Params> cache; // parsing needs a whole zone scanner
  if (auto it = cache.find(param); it != cache.end()) {
    return it->second;
  }
  auto r = rrs("@ NSEC3PARAM " + param + "\n");
  Nsec3Params p;
  EXPECT_EQ(r.size(), 1u);
  if (r.size() == 1) {
    EXPECT_TRUE(parse_nsec3_params(r[0].rdata.data(), r[0].rdata.size(), p));
  }
  p.algorithm = kNsec3AlgSha1;
  cache[param] = p;
  return p;
}

Hash hash_of(const std::string &name, const std::string &param = kParam) {
  Hash h{};
  EXPECT_TRUE(nsec3_hash(Name(name), params_of(param), h.data())) << name;
  return h;
}

std::string label_of(const Hash &h) {
  uint8_t label[kNsec3LabelLen];
  base32hex_encode(h.data(), label);
  return std::string(reinterpret_cast<char *>(label), kNsec3LabelLen);
}

std::string rrsig(const std::string &owner, const std::string &covered,
                  const std::string &signature = "AAAA", const std::string &key_tag = "12345") {
  return owner + " RRSIG " + covered + " 8 2 3600 20300101000000 20200101000000 " + key_tag +
         " example. " + signature + "\n";
}

// The names of the zone's NSEC3 chain (RFC 5155 7.1): authoritative names and the empty
// non-terminals above them, not glue. Relative owners, "@" for the apex, with their types.
std::map<std::string, std::vector<std::string>> chain_names(const ZoneSpec &z, bool with_ents) {
  std::set<std::string> cuts;
  for (const auto &r : z.data) {
    if (r.owner != "@" && r.type == "NS") {
      cuts.insert(r.owner);
    }
  }
  std::map<std::string, std::vector<std::string>> types;
  types["@"] = {"SOA"};
  for (const auto &r : z.data) {
    if (std::any_of(cuts.begin(), cuts.end(), [&](const auto &c) { return below(r.owner, c); })) {
      continue;
    }
    auto &t = types[r.owner];
    if (std::find(t.begin(), t.end(), r.type) == t.end()) {
      t.push_back(r.type);
    }
  }
  if (with_ents) {
    std::vector<std::string> ents;
    for (const auto &[owner, t] : types) {
      for (size_t dot = owner.find('.'); dot != std::string::npos; dot = owner.find('.', dot + 1)) {
        ents.push_back(owner.substr(dot + 1));
      }
    }
    for (const auto &e : ents) {
      types.try_emplace(e); // no types: an empty non-terminal
    }
  }
  return types;
}

std::string zone_text(const ZoneSpec &z) {
  std::string text = soa(z.serial);
  if (z.denial == Denial::kNsec3) {
    text += "@ NSEC3PARAM " + z.nsec3param + "\n";
  }
  for (const auto &r : z.data) {
    text += r.owner + " " + r.type + " " + r.rdata + "\n";
  }
  auto sig = [&](const std::string &owner, const std::string &type) {
    auto it = z.signatures.find(owner + " " + type);
    return rrsig(owner, type, it == z.signatures.end() ? "AAAA" : it->second);
  };
  auto types = chain_names(z, false);
  if (z.denial == Denial::kNsec3) {
    types["@"].push_back("NSEC3PARAM");
  }
  for (const auto &[owner, ts] : types) {
    for (const auto &t : ts) {
      // RFC 4035 2.2: the NS RRset of a delegation is not signed.
      bool cut_ns = owner != "@" && t == "NS";
      if (!cut_ns && (t != "SOA" || z.sign_soa)) {
        text += sig(owner, t);
      }
    }
  }
  auto bitmap = [](const std::vector<std::string> &ts, const std::string &own) {
    std::string out;
    for (const auto &t : ts) {
      out += " " + t;
    }
    return out + (ts.empty() ? "" : " RRSIG" + own);
  };
  if (z.denial == Denial::kNsec) {
    std::vector<std::string> names;
    for (const auto &[owner, ts] : types) {
      names.push_back(owner);
    }
    std::sort(names.begin(), names.end(), [](const std::string &a, const std::string &b) {
      return canonical_less(full_name(a), full_name(b));
    });
    for (size_t i = 0; i < names.size(); ++i) {
      text += names[i] + " NSEC " + full_name(names[(i + 1) % names.size()]) +
              bitmap(types[names[i]], " NSEC") + "\n" + sig(names[i], "NSEC");
    }
    return text;
  }
  std::vector<std::pair<Hash, std::string>> chain;
  for (const auto &[owner, ts] : chain_names(z, true)) {
    chain.emplace_back(hash_of(full_name(owner), z.nsec3param), owner);
  }
  std::sort(chain.begin(), chain.end());
  auto all_types = chain_names(z, true);
  all_types["@"] = types["@"];
  for (size_t i = 0; i < chain.size(); ++i) {
    std::string label = label_of(chain[i].first);
    text += label + " NSEC3 " + z.nsec3param + " " + label_of(chain[(i + 1) % chain.size()].first) +
            bitmap(all_types[chain[i].second], "") + "\n" + sig(label, "NSEC3");
  }
  return text;
}

// The hashes of the NSEC3 chain of `z`, in hash order.
std::vector<Hash> chain_hashes(const ZoneSpec &z) {
  std::vector<Hash> out;
  for (const auto &[owner, ts] : chain_names(z, true)) {
    out.push_back(hash_of(full_name(owner), z.nsec3param));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The NSEC3 space of a snapshot (schema.h): owner label -> dump_node().
std::map<std::string, std::string> dump_nsec3(Env &env, uint64_t snapshot) {
  std::map<std::string, std::string> out;
  MDB_txn *txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn), MDB_SUCCESS);
  MDB_cursor *cur = nullptr;
  EXPECT_EQ(mdb_cursor_open(txn, env.nodes(), &cur), MDB_SUCCESS);
  DbKey start;
  make_db_key(snapshot | kNsec3Space, nullptr, 0, start);
  MDB_val k = start.val(), v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
       rc == MDB_SUCCESS && key_snapshot(k) == (snapshot | kNsec3Space);
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    EXPECT_EQ(k.mv_size, 8 + kNsec3HashLen) << "NSEC3 keys are the raw hash";
    Hash h{};
    std::memcpy(h.data(), static_cast<const uint8_t *>(k.mv_data) + 8,
                std::min(k.mv_size - 8, kNsec3HashLen));
    NodeView node(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    out[label_of(h)] = node.valid() ? test::dump_node(node) : "<invalid>";
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return out;
}

// The hash trailer of every name node of a snapshot: owner -> "H(owner)/H(*.owner)" in hex, or
// "none" without the trailer.
std::map<std::string, std::string> dump_hashes(Env &env, uint64_t snapshot) {
  std::map<std::string, std::string> out;
  MDB_txn *txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn), MDB_SUCCESS);
  MDB_cursor *cur = nullptr;
  EXPECT_EQ(mdb_cursor_open(txn, env.nodes(), &cur), MDB_SUCCESS);
  DbKey start;
  make_db_key(snapshot, nullptr, 0, start);
  MDB_val k = start.val(), v;
  Name apex(kApex);
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
       rc == MDB_SUCCESS && key_snapshot(k) == snapshot;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    uint8_t name[KNOT_DNAME_MAXLEN];
    key_to_name(key_owner(k), apex, name);
    NodeView node(static_cast<const uint8_t *>(v.mv_data), v.mv_size);
    EXPECT_TRUE(node.valid()) << name_to_string(name);
    out[name_to_string(name)] = node.owner_hash() == nullptr
                                    ? "none"
                                    : hex(node.owner_hash(), kNsec3HashLen) + "/" +
                                          hex(node.wildcard_hash(), kNsec3HashLen);
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return out;
}

// The owner names walk_snapshot() visits, in the order it visits them.
std::vector<std::string> walk_names(Env &env, uint64_t snapshot, size_t *nsec3_nodes = nullptr) {
  std::vector<std::string> visited;
  MDB_txn *txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn), MDB_SUCCESS);
  Name apex(kApex);
  auto st = walk_snapshot(txn, env, snapshot, apex,
                          [&](const knot_dname_t *owner, const NodeView &node) -> Status {
                            visited.push_back(name_to_string(owner));
                            if (nsec3_nodes != nullptr && node.has_type(KNOT_RRTYPE_NSEC3)) {
                              ++*nsec3_nodes;
                            }
                            return Ok{};
                          });
  mdb_txn_abort(txn);
  EXPECT_TRUE(st.ok()) << st.error();
  return visited;
}

// What publishing the NSEC3 zone `z` must leave in `snapshot`: every name node (empty
// non-terminals included) with H(owner) and H(*.owner), the NSEC3 space holding exactly the
// chain, and a walk over both in canonical order.
void expect_indexed(Env &env, uint64_t snapshot, const ZoneSpec &z) {
  auto hashes = dump_hashes(env, snapshot);
  size_t wrong = 0;
  for (const auto &[name, h] : hashes) {
    std::string want = hex(hash_of(name, z.nsec3param).data(), kNsec3HashLen) + "/" +
                       hex(hash_of("*." + name, z.nsec3param).data(), kNsec3HashLen);
    if (h != want && ++wrong <= 5) {
      ADD_FAILURE() << name << ": " << h << " instead of " << want;
    }
  }
  EXPECT_EQ(wrong, 0u) << "nodes with wrong or missing hashes";
  std::vector<std::string> chain, stored;
  for (const auto &h : chain_hashes(z)) {
    chain.push_back(label_of(h));
  }
  for (const auto &[label, node] : dump_nsec3(env, snapshot)) {
    stored.push_back(label);
  }
  EXPECT_EQ(stored, chain);
  std::vector<std::string> expected;
  for (const auto &[name, h] : hashes) {
    expected.push_back(name);
  }
  for (const auto &label : chain) {
    expected.push_back(label + "." + kApex);
  }
  sort_canonical(expected);
  EXPECT_TRUE(walk_names(env, snapshot) == expected) << "walk out of canonical order";
}

// A read transaction on the zone's current snapshot.
struct ReadView {
  explicit ReadView(Env &env) : txn(env), reader(txn) {
    EXPECT_TRUE(txn.begin());
    EXPECT_TRUE(reader.find_zone(apex, zone));
  }
  ~ReadView() { txn.end(); }
  Name apex{kApex}; // the handle's apex points into it
  ReadTxn txn;
  Reader reader;
  ZoneHandle zone;
};

class StoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
  }
  Published publish(const std::string &text) {
    auto pub = test::publish_records(*env_, kApex, rrs(text));
    EXPECT_TRUE(pub.ok()) << pub.error();
    return pub.ok() ? *pub : Published{};
  }
  Published publish(const ZoneSpec &z) { return publish(zone_text(z)); }
  ZoneRecord record() {
    auto zone = read_zone(*env_, apex_);
    EXPECT_TRUE(zone.has_value());
    return zone ? zone->record : ZoneRecord{};
  }
  // Applies the difference between two versions of the zone, as an IXFR carries it: the
  // records only in `from` are removed, those only in `to` added.
  Result<Published> apply(const ZoneSpec &from, const ZoneSpec &to, size_t *changes = nullptr) {
    ZoneDiff diff(apex_);
    diff.set_serials(from.serial, to.serial);
    using Id = std::tuple<std::vector<uint8_t>, uint16_t, std::vector<uint8_t>>;
    auto id = [](const test::Record &r) {
      std::vector<uint8_t> owner = r.owner;
      knot_dname_to_lower(owner.data());
      return Id{owner, r.type, r.rdata};
    };
    auto old_rrs = rrs(zone_text(from)), new_rrs = rrs(zone_text(to));
    std::set<Id> old_ids, new_ids;
    for (const auto &r : old_rrs) {
      old_ids.insert(id(r));
    }
    for (const auto &r : new_rrs) {
      new_ids.insert(id(r));
    }
    for (const auto &r : old_rrs) {
      if (new_ids.count(id(r)) == 0) {
        auto st = diff.remove(r.owner.data(), r.type, r.rdata.data(),
                              static_cast<uint16_t>(r.rdata.size()));
        EXPECT_TRUE(st.ok()) << st.error();
      }
    }
    for (const auto &r : new_rrs) {
      if (old_ids.count(id(r)) == 0) {
        auto st = diff.add(r.owner.data(), r.type, r.ttl, r.rdata.data(),
                           static_cast<uint16_t>(r.rdata.size()));
        EXPECT_TRUE(st.ok()) << st.error();
      }
    }
    if (changes != nullptr) {
      *changes = diff.size();
    }
    SourceInfo src;
    src.kind = SourceKind::kTransfer;
    src.source = "192.0.2.1@53";
    return apply_diff(*env_, diff, src);
  }
  // The zone's current snapshot equals `text` published on its own in a fresh store: names,
  // NSEC3 space, hash trailers, record count and signing mode.
  void expect_same_as_fresh(const std::string &text) {
    auto zone = read_zone(*env_, apex_);
    ASSERT_TRUE(zone.has_value());
    test::TempDir scratch;
    auto ref_env = test::open_env(scratch.path());
    ASSERT_NE(ref_env, nullptr);
    auto ref = test::publish_records(*ref_env, kApex, rrs(text));
    ASSERT_TRUE(ref.ok()) << ref.error();
    uint64_t cur = zone->record.current;
    EXPECT_EQ(test::dump_snapshot(*env_, cur, kApex),
              test::dump_snapshot(*ref_env, ref->snapshot, kApex));
    EXPECT_EQ(dump_nsec3(*env_, cur), dump_nsec3(*ref_env, ref->snapshot));
    EXPECT_EQ(dump_hashes(*env_, cur), dump_hashes(*ref_env, ref->snapshot));
    EXPECT_EQ(zone->record.records, ref->records);
    EXPECT_EQ(zone->record.serial, ref->serial);
    EXPECT_EQ(static_cast<int>(zone->record.dnssec), static_cast<int>(ref->dnssec));
  }

  test::TempDir dir_;
  std::unique_ptr<Env> env_;
  Name apex_{kApex};
};

int mode(DnssecMode m) {
  return static_cast<int>(m);
}

// ---- ZoneRecord::dnssec: how a snapshot is signed (dnssec.h zone_signing) ----

class DnssecZoneRecord : public StoreTest {};

TEST_F(DnssecZoneRecord, UnsignedZoneIsUnsigned) {
  Published pub = publish(soa(1) + "@ NS ns1\nns1 A 192.0.2.1\n");
  EXPECT_EQ(mode(pub.dnssec), mode(DnssecMode::kUnsigned));
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kUnsigned));
}

TEST_F(DnssecZoneRecord, Rfc4035RrsigOverTheApexSoaMakesTheZoneNsecSigned) {
  ZoneSpec z;
  z.denial = Denial::kNsec;
  Published pub = publish(z);
  EXPECT_EQ(mode(pub.dnssec), mode(DnssecMode::kNsec));
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kNsec));
}

// Signatures over other apex types do not make a zone signed: the SOA's RRSIG decides.
TEST_F(DnssecZoneRecord, RrsigsWithoutOneOverTheSoaLeaveTheZoneUnsigned) {
  ZoneSpec z;
  z.denial = Denial::kNsec;
  z.sign_soa = false;
  EXPECT_EQ(mode(publish(z).dnssec), mode(DnssecMode::kUnsigned));
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kUnsigned));
}

TEST_F(DnssecZoneRecord, Rfc5155Nsec3ParamWithSha1SelectsNsec3) {
  Published pub = publish(ZoneSpec{});
  EXPECT_EQ(mode(pub.dnssec), mode(DnssecMode::kNsec3));
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kNsec3));
}

// RFC 5155 4: an NSEC3PARAM with a hash algorithm the server does not know is ignored; the
// zone is served with NSEC semantics and its NSEC3 records stay ordinary names.
TEST_F(DnssecZoneRecord, Rfc5155Nsec3ParamWithAnUnknownHashSelectsNsec) {
  ZoneSpec z;
  z.nsec3param = "2 0 2 aabbccdd";
  Published pub = publish(z);
  EXPECT_EQ(mode(pub.dnssec), mode(DnssecMode::kNsec));
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kNsec));
  EXPECT_TRUE(dump_nsec3(*env_, pub.snapshot).empty());
  auto names = test::dump_snapshot(*env_, pub.snapshot, kApex);
  for (const auto &h : chain_hashes(z)) {
    EXPECT_EQ(names.count(label_of(h) + "." + kApex), 1u) << label_of(h);
  }
}

// RFC 5155 4.1.2: NSEC3PARAM records with Flags other than zero are ignored.
TEST_F(DnssecZoneRecord, Rfc5155Nsec3ParamWithNonZeroFlagsIsIgnored) {
  ZoneSpec z;
  z.nsec3param = "1 1 2 aabbccdd";
  EXPECT_EQ(mode(publish(z).dnssec), mode(DnssecMode::kNsec));
  std::string both = zone_text(z);
  both += "@ NSEC3PARAM 1 0 2 aabbccdd\n"; // the usable one sorts after the flagged one
  EXPECT_EQ(mode(publish(both).dnssec), mode(DnssecMode::kNsec3));
}

// RFC 5155 10.3 allows at most 2500 iterations for any key: such a zone is refused (each
// NXDOMAIN would cost that many hashes), and the previous snapshot stays.
TEST_F(DnssecZoneRecord, Rfc5155MoreIterationsThanSection103AllowsAreRefused) {
  Published before = publish(ZoneSpec{});
  ZoneSpec z;
  z.serial = 2;
  z.nsec3param = "1 0 2501 aabbccdd";
  auto pub = test::publish_records(*env_, kApex, rrs(zone_text(z)));
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.error().find("2501 iterations"), std::string::npos) << pub.error();
  EXPECT_EQ(record().current, before.snapshot);
  z.nsec3param = "1 0 2500 aabbccdd";
  EXPECT_EQ(mode(publish(z).dnssec), mode(DnssecMode::kNsec3));
}

// An NSEC3PARAM in an unsigned zone does not make it NSEC3-signed either.
TEST_F(DnssecZoneRecord, Nsec3ParamWithoutSoaSignatureLeavesTheZoneUnsigned) {
  ZoneSpec z;
  z.sign_soa = false;
  Published pub = publish(z);
  EXPECT_EQ(mode(pub.dnssec), mode(DnssecMode::kUnsigned));
  EXPECT_TRUE(dump_nsec3(*env_, pub.snapshot).empty());
  for (const auto &[name, hashes] : dump_hashes(*env_, pub.snapshot)) {
    EXPECT_EQ(hashes, "none") << name;
  }
}

TEST_F(DnssecZoneRecord, NsecSignedZoneNodesCarryNoHashes) {
  ZoneSpec z;
  z.denial = Denial::kNsec;
  Published pub = publish(z);
  auto hashes = dump_hashes(*env_, pub.snapshot);
  EXPECT_EQ(hashes.size(), pub.nodes);
  for (const auto &[name, h] : hashes) {
    EXPECT_EQ(h, "none") << name;
  }
  ReadView view(*env_);
  NodeView www;
  ASSERT_TRUE(view.reader.get(view.zone, key_of("www.example.", kApex), www));
  EXPECT_FALSE(www.has(kFlagNsec3Hashes));
  EXPECT_EQ(www.owner_hash(), nullptr);
  EXPECT_EQ(www.wildcard_hash(), nullptr);
}

// ---- The NSEC3 space (schema.h) and node hash trailers (node.h) ----

class Rfc5155Store : public StoreTest {
protected:
  void SetUp() override {
    StoreTest::SetUp();
    base_ = publish(zone_);
    hashes_ = chain_hashes(zone_);
    ASSERT_EQ(hashes_.size(), 8u) << "apex, 0, ns1, www, a.b, sub, zzz and the ENT b";
  }
  ZoneSpec zone_;
  Published base_;
  std::vector<Hash> hashes_;
};

TEST_F(Rfc5155Store, Nsec3NodesLeaveTheNamesOfTheZone) {
  auto names = test::dump_snapshot(*env_, base_.snapshot, kApex);
  ReadView view(*env_);
  for (const auto &h : hashes_) {
    std::string owner = label_of(h) + "." + kApex;
    SCOPED_TRACE(owner);
    EXPECT_EQ(names.count(owner), 0u);
    NodeView node;
    EXPECT_FALSE(view.reader.get(view.zone, key_of(owner, kApex), node));
    Lookup lk;
    ASSERT_TRUE(view.reader.lookup(view.zone, key_of(owner, kApex), lk));
    EXPECT_FALSE(lk.exact);
    EXPECT_EQ(lk.encloser.len, 0) << "a hashed owner's closest encloser is the apex";
  }
  EXPECT_EQ(count_nodes(*env_, base_.snapshot | kNsec3Space), hashes_.size());
}

TEST_F(Rfc5155Store, Nsec3MatchFindsTheNodeByItsRawHash) {
  ReadView view(*env_);
  for (const auto &h : hashes_) {
    SCOPED_TRACE(label_of(h));
    NodeView node;
    ASSERT_TRUE(view.reader.nsec3_match(view.zone, h.data(), node));
    RRsetView nsec3;
    ASSERT_TRUE(node.find(KNOT_RRTYPE_NSEC3, nsec3));
    EXPECT_EQ(nsec3.rrs.count, 1);
    Nsec3Params p;
    ASSERT_TRUE(parse_nsec3_params(nsec3.rrs.rdata->data, nsec3.rrs.rdata->len, p));
    EXPECT_TRUE(p.same_hash(params_of(kParam)));
    knot_rdataset_t sigs;
    ASSERT_TRUE(rrsigs_covering(node, KNOT_RRTYPE_NSEC3, sigs));
    EXPECT_EQ(sigs.count, 1);
    EXPECT_EQ(node.count(), 2) << "the NSEC3 RRset and its RRSIG, nothing else";
  }
  NodeView none;
  EXPECT_FALSE(view.reader.nsec3_match(view.zone, hash_of("nope.example.").data(), none));
}

// RFC 5155 7.2.1: the NSEC3 covering a hash is the one with the greatest hash below it.
TEST_F(Rfc5155Store, Rfc5155Nsec3CoverIsThePreviousHashOfTheChain) {
  ReadView view(*env_);
  for (size_t i = 0; i < hashes_.size(); ++i) {
    SCOPED_TRACE(label_of(hashes_[i]));
    Hash above = hashes_[i];
    for (int b = kNsec3HashLen - 1; b >= 0 && ++above[b] == 0; --b) {
    }
    ASSERT_TRUE(i + 1 == hashes_.size() || above < hashes_[i + 1]);
    Hash cover{};
    NodeView node, match;
    ASSERT_TRUE(view.reader.nsec3_cover(view.zone, above.data(), cover.data(), node));
    EXPECT_EQ(label_of(cover), label_of(hashes_[i]));
    ASSERT_TRUE(view.reader.nsec3_match(view.zone, hashes_[i].data(), match));
    EXPECT_EQ(node.data(), match.data()) << "the node of the covering hash";
    // A hash of the chain itself is covered by the one before it (strictly below).
    ASSERT_TRUE(view.reader.nsec3_cover(view.zone, hashes_[i].data(), cover.data(), node));
    EXPECT_EQ(label_of(cover), label_of(hashes_[(i + hashes_.size() - 1) % hashes_.size()]));
  }
}

// RFC 5155 7.2.1: the chain is circular; a hash below the first is covered by the last.
TEST_F(Rfc5155Store, Rfc5155Nsec3CoverWrapsAroundToTheLastHash) {
  ReadView view(*env_);
  Hash lowest{}, highest{}, cover{};
  highest.fill(0xff);
  NodeView node;
  ASSERT_LT(lowest, hashes_.front());
  ASSERT_TRUE(view.reader.nsec3_cover(view.zone, lowest.data(), cover.data(), node));
  EXPECT_EQ(label_of(cover), label_of(hashes_.back()));
  EXPECT_TRUE(node.has_type(KNOT_RRTYPE_NSEC3));
  ASSERT_TRUE(view.reader.nsec3_cover(view.zone, highest.data(), cover.data(), node));
  EXPECT_EQ(label_of(cover), label_of(hashes_.back()));
}

// Another snapshot's chain right before or after must not be taken for this one's.
TEST_F(Rfc5155Store, Nsec3CoverStaysInsideItsSnapshotsChain) {
  ZoneSpec next = zone_;
  next.serial = 2;
  next.data.push_back({"ftp", "A", "192.0.2.21"});
  Published pub = publish(next);
  ASSERT_EQ(record().previous, base_.snapshot);
  auto next_hashes = chain_hashes(next);
  ReadView view(*env_);
  ZoneHandle old_zone = view.zone;
  old_zone.snapshot = base_.snapshot;
  ASSERT_EQ(view.zone.snapshot, pub.snapshot);
  Hash lowest{}, highest{}, cover{};
  highest.fill(0xff);
  struct Case {
    const ZoneHandle &zone;
    const std::vector<Hash> &chain;
  };
  for (const Case &c : {Case{old_zone, hashes_}, Case{view.zone, next_hashes}}) {
    SCOPED_TRACE(c.zone.snapshot);
    for (const Hash *probe : {&lowest, &highest}) {
      NodeView node, match;
      ASSERT_TRUE(view.reader.nsec3_cover(c.zone, probe->data(), cover.data(), node));
      EXPECT_EQ(label_of(cover), label_of(c.chain.back()));
      ASSERT_TRUE(view.reader.nsec3_match(c.zone, c.chain.back().data(), match));
      EXPECT_EQ(node.data(), match.data()) << "the node of this snapshot";
    }
  }
}

// node.h: H(owner) and H(*.owner) at the end of every node, empty non-terminals and glue
// included, so denial answers need not hash names that exist (RFC 5155 7.2.1, 7.2.2).
TEST_F(Rfc5155Store, EveryNameAndEmptyNonTerminalCarriesItsHashes) {
  auto hashes = dump_hashes(*env_, base_.snapshot);
  for (const char *name : {"example.", "0.example.", "b.example.", "a.b.example.",
                           "ns.sub.example.", "sub.example.", "www.example.", "zzz.example."}) {
    EXPECT_EQ(hashes.count(name), 1u) << name;
  }
  EXPECT_EQ(hashes.size(), base_.nodes - hashes_.size()) << "every node but the NSEC3 nodes";
  for (const auto &[name, h] : hashes) {
    EXPECT_EQ(h, hex(hash_of(name).data(), kNsec3HashLen) + "/" +
                     hex(hash_of("*." + name).data(), kNsec3HashLen))
        << name;
  }
  // The trailer leaves the RRsets readable.
  ReadView view(*env_);
  NodeView www, ent;
  ASSERT_TRUE(view.reader.get(view.zone, key_of("www.example.", kApex), www));
  EXPECT_TRUE(www.has(kFlagNsec3Hashes));
  RRsetView a, txt, sigs;
  ASSERT_TRUE(www.find(KNOT_RRTYPE_A, a));
  EXPECT_EQ(hex(a.rrs.rdata->data, a.rrs.rdata->len), "c0000250");
  ASSERT_TRUE(www.find(KNOT_RRTYPE_TXT, txt));
  EXPECT_EQ(hex(txt.rrs.rdata->data, txt.rrs.rdata->len), "0568656c6c6f");
  ASSERT_TRUE(www.find(KNOT_RRTYPE_RRSIG, sigs));
  EXPECT_EQ(sigs.rrs.count, 2);
  ASSERT_TRUE(view.reader.get(view.zone, key_of("b.example.", kApex), ent));
  EXPECT_TRUE(ent.empty());
  EXPECT_TRUE(ent.valid());
  EXPECT_EQ(hex(ent.owner_hash(), kNsec3HashLen), hex(hash_of("b.example.").data(), 20));
  EXPECT_EQ(hex(ent.wildcard_hash(), kNsec3HashLen), hex(hash_of("*.b.example.").data(), 20));
}

TEST_F(Rfc5155Store, PublishedRecordCountIncludesNsec3Records) {
  auto records = rrs(zone_text(zone_));
  size_t nsec3 = 0;
  std::set<std::string> owners;
  for (const auto &r : records) {
    nsec3 += r.type == KNOT_RRTYPE_NSEC3;
    owners.insert(name_to_string(r.owner.data()));
  }
  EXPECT_EQ(nsec3, hashes_.size());
  EXPECT_EQ(base_.records, records.size());
  EXPECT_EQ(record().records, records.size());
  EXPECT_EQ(base_.nodes, owners.size() + 1) << "every owner, NSEC3 ones included, and ENT b";
}

// ---- Garbage: a snapshot's NSEC3 range goes with it (publish.cc) ----

TEST_F(Rfc5155Store, OldestSnapshotLosesItsNsec3RangeOnTheThirdPublish) {
  ZoneSpec z = zone_;
  z.serial = 2;
  Published second = publish(z);
  z.serial = 3;
  Published third = publish(z);
  ZoneRecord rec = record();
  EXPECT_EQ(rec.current, third.snapshot);
  EXPECT_EQ(rec.previous, second.snapshot);
  EXPECT_EQ(count_nodes(*env_, base_.snapshot), 0u);
  EXPECT_EQ(count_nodes(*env_, base_.snapshot | kNsec3Space), 0u);
  EXPECT_FALSE(test::snapshot_registered(*env_, base_.snapshot));
  for (uint64_t id : {second.snapshot, third.snapshot}) {
    EXPECT_EQ(count_nodes(*env_, id | kNsec3Space), hashes_.size()) << id;
    EXPECT_EQ(count_nodes(*env_, id), base_.nodes - hashes_.size()) << id;
  }
  size_t deleted = 99;
  ASSERT_TRUE(collect_garbage(*env_, &deleted).ok());
  EXPECT_EQ(deleted, 0u);
  for (uint64_t id : {second.snapshot, third.snapshot}) {
    EXPECT_EQ(count_nodes(*env_, id | kNsec3Space), hashes_.size()) << id;
  }
}

TEST_F(Rfc5155Store, RemoveZoneDeletesBothRangesOfBothSnapshots) {
  ZoneSpec z = zone_;
  z.serial = 2;
  Published second = publish(z);
  ASSERT_TRUE(remove_zone(*env_, apex_).ok());
  EXPECT_FALSE(read_zone(*env_, apex_).has_value());
  for (uint64_t id : {base_.snapshot, second.snapshot}) {
    EXPECT_EQ(count_nodes(*env_, id), 0u) << id;
    EXPECT_EQ(count_nodes(*env_, id | kNsec3Space), 0u) << id;
    EXPECT_FALSE(test::snapshot_registered(*env_, id)) << id;
  }
}

// An NSEC3 range whose snapshot record is gone (a crash between the two deletes) is collected.
TEST_F(Rfc5155Store, OrphanNsec3RangeIsCollected) {
  const uint64_t orphan = base_.snapshot + 1000;
  {
    auto txn = env_->begin_write();
    ASSERT_TRUE(txn.ok());
    DbKey dk;
    make_nsec3_key(orphan, hashes_[0].data(), kNsec3HashLen, dk);
    uint8_t value[4] = {};
    MDB_val k = dk.val(), v{sizeof(value), value};
    ASSERT_EQ(mdb_put(txn->get(), env_->nodes(), &k, &v, 0), MDB_SUCCESS);
    ASSERT_EQ(txn->commit(), MDB_SUCCESS);
  }
  ASSERT_EQ(count_nodes(*env_, orphan | kNsec3Space), 1u);
  size_t deleted = 0;
  ASSERT_TRUE(collect_garbage(*env_, &deleted).ok());
  EXPECT_EQ(deleted, 1u);
  EXPECT_EQ(count_nodes(*env_, orphan | kNsec3Space), 0u);
  EXPECT_EQ(count_nodes(*env_, base_.snapshot | kNsec3Space), hashes_.size());
}

// ---- walk_snapshot: canonical order with the NSEC3 nodes merged in (zone_walk.h) ----

TEST_F(Rfc5155Store, WalkVisitsNsec3NodesAtTheirCanonicalPlaces) {
  std::vector<std::string> expected;
  for (const auto &[name, node] : test::dump_snapshot(*env_, base_.snapshot, kApex)) {
    expected.push_back(name);
  }
  for (const auto &h : hashes_) {
    expected.push_back(label_of(h) + "." + kApex);
  }
  sort_canonical(expected);
  size_t nsec3_nodes = 0;
  std::vector<std::string> visited = walk_names(*env_, base_.snapshot, &nsec3_nodes);
  EXPECT_EQ(visited, expected);
  EXPECT_EQ(nsec3_nodes, hashes_.size());
  ASSERT_GE(visited.size(), 3u);
  EXPECT_EQ(visited[0], "example.");
  EXPECT_EQ(visited[1], "0.example.") << "\"0\" sorts before every hash label";
  EXPECT_EQ(visited.back(), "zzz.example.") << "\"zzz\" sorts after every hash label";
  EXPECT_EQ(std::set<std::string>(visited.begin(), visited.end()).size(), visited.size());
  EXPECT_EQ(visited.size(), base_.nodes);
}

// RFC 4592: a wildcard's parent is flagged after the walk; the flag must not cost it its hashes.
TEST_F(Rfc5155Store, WildcardParentsKeepTheirHashesWhenFlagged) {
  ZoneSpec z = zone_;
  z.serial = 2;
  z.data.push_back({"*", "TXT", "\"apex wildcard\""});
  z.data.push_back({"*.www", "TXT", "\"wild\""});
  z.data.push_back({"x.*.w", "A", "192.0.2.9"}); // "*.w" and "w": empty non-terminals
  Published pub = publish(z);
  expect_indexed(*env_, pub.snapshot, z);
  ReadView view(*env_);
  for (const char *name : {"example.", "www.example.", "w.example."}) {
    NodeView node;
    ASSERT_TRUE(view.reader.get(view.zone, key_of(name, kApex), node)) << name;
    EXPECT_TRUE(node.has(kFlagWildcardChild)) << name;
    EXPECT_TRUE(node.has(kFlagNsec3Hashes)) << name;
  }
}

// A zone written over several flushes (writer.h) is published the same.
TEST_F(Rfc5155Store, MultiFlushPublishGivesTheSameSnapshot) {
  test::TempDir scratch;
  auto env = test::open_env(scratch.path());
  ASSERT_NE(env, nullptr);
  auto pub = test::publish_records(*env, kApex, rrs(zone_text(zone_)), 512);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(test::dump_snapshot(*env, pub->snapshot, kApex),
            test::dump_snapshot(*env_, base_.snapshot, kApex));
  EXPECT_EQ(dump_nsec3(*env, pub->snapshot), dump_nsec3(*env_, base_.snapshot));
  EXPECT_EQ(dump_hashes(*env, pub->snapshot), dump_hashes(*env_, base_.snapshot));
  EXPECT_EQ(pub->records, base_.records);
  expect_indexed(*env, pub->snapshot, zone_);
}

// Enough names that rewriting values with their hashes during the walk splits pages under the
// publish cursor (publish.cc), and the NSEC3 moves touch many pages.
TEST_F(Rfc5155Store, LargeZoneIsIndexedCompletely) {
  ZoneSpec z = zone_;
  z.serial = 2;
  for (int i = 0; i < 3000; ++i) {
    z.data.push_back({"h" + std::to_string(i), "A", "192.0.2." + std::to_string(i % 250)});
    if (i % 10 == 0) {
      z.data.push_back({"a.e" + std::to_string(i), "TXT", "\"below an ENT\""});
    }
  }
  Published pub = publish(z);
  EXPECT_EQ(pub.records, rrs(zone_text(z)).size());
  EXPECT_EQ(count_nodes(*env_, pub.snapshot | kNsec3Space), chain_hashes(z).size());
  expect_indexed(*env_, pub.snapshot, z);
}

// ---- IXFR onto an NSEC3 zone (diff.h): in place when only chain records and leaf names change
// (chain records in the NSEC3 space, patch.cc), else by copy (NSEC3 nodes read back, diff.cc).
// Either way the result must be what publishing the new zone from scratch gives.

class Rfc5155StoreIxfr : public Rfc5155Store {
protected:
  ZoneSpec next(uint32_t serial) const {
    ZoneSpec z = zone_;
    z.serial = serial;
    return z;
  }
  // The NSEC3 nodes of the base zone are all in the current snapshot's NSEC3 space, and no
  // hash label is a name of the zone.
  void expect_old_chain_kept() {
    ReadView view(*env_);
    for (const auto &h : hashes_) {
      NodeView node;
      EXPECT_TRUE(view.reader.nsec3_match(view.zone, h.data(), node)) << label_of(h);
      EXPECT_FALSE(view.reader.get(view.zone, key_of(label_of(h) + "." + kApex, kApex), node))
          << label_of(h);
    }
  }
};

TEST_F(Rfc5155StoreIxfr, NewNameWithItsNsec3IsAppliedInPlace) {
  ZoneSpec v2 = next(2);
  v2.data.push_back({"ftp", "A", "192.0.2.21"});
  v2.signatures["www A"] = "BBBB";
  size_t changes = 0;
  auto pub = apply(zone_, v2, &changes);
  ASSERT_TRUE(pub.ok()) << pub.error();
  // SOA out/in, www's RRSIG A out/in, the predecessor's NSEC3 out/in, and ftp's A, RRSIG A,
  // NSEC3 and RRSIG NSEC3 in.
  EXPECT_EQ(changes, 10u);
  EXPECT_EQ(pub->snapshot, base_.snapshot) << "a new leaf and chain records: in place";
  ZoneRecord rec = record();
  EXPECT_EQ(rec.serial, 2u);
  EXPECT_EQ(mode(rec.dnssec), mode(DnssecMode::kNsec3));
  Hash ftp = hash_of("ftp.example.");
  {
    ReadView view(*env_);
    NodeView node;
    EXPECT_TRUE(view.reader.nsec3_match(view.zone, ftp.data(), node)) << "in the NSEC3 space";
    EXPECT_FALSE(view.reader.get(view.zone, key_of(label_of(ftp) + ".example.", kApex), node));
    ASSERT_TRUE(view.reader.get(view.zone, key_of("ftp.example.", kApex), node));
    EXPECT_EQ(hex(node.owner_hash(), kNsec3HashLen), hex(ftp.data(), kNsec3HashLen));
  }
  expect_old_chain_kept();
  EXPECT_EQ(count_nodes(*env_, pub->snapshot | kNsec3Space), hashes_.size() + 1);
  expect_same_as_fresh(zone_text(v2));
}

// A new name below a new empty non-terminal needs the publish pass: a new snapshot, whose
// NSEC3 space is rebuilt from the old one's plus the difference.
TEST_F(Rfc5155StoreIxfr, NewNameBelowANewEmptyNonTerminalIsPublishedByCopy) {
  ZoneSpec v2 = next(2);
  v2.data.push_back({"x.y.ftp", "A", "192.0.2.21"}); // "y.ftp" and "ftp": empty non-terminals
  v2.signatures["www A"] = "BBBB";
  auto pub = apply(zone_, v2);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_NE(pub->snapshot, base_.snapshot) << "by copy";
  EXPECT_EQ(mode(pub->dnssec), mode(DnssecMode::kNsec3));
  ZoneRecord rec = record();
  EXPECT_EQ(rec.current, pub->snapshot);
  EXPECT_EQ(rec.previous, base_.snapshot);
  EXPECT_EQ(mode(rec.dnssec), mode(DnssecMode::kNsec3));
  expect_old_chain_kept();
  EXPECT_EQ(count_nodes(*env_, pub->snapshot | kNsec3Space), hashes_.size() + 3);
  EXPECT_EQ(count_nodes(*env_, base_.snapshot | kNsec3Space), hashes_.size())
      << "the previous snapshot keeps its chain";
  expect_same_as_fresh(zone_text(v2));
  expect_indexed(*env_, pub->snapshot, v2);
}

TEST_F(Rfc5155StoreIxfr, NameRemovedWithItsNsec3LeavesTheChain) {
  ZoneSpec v2 = next(2);
  std::erase_if(v2.data, [](const Rr &r) { return r.owner == "ns1"; });
  auto pub = apply(zone_, v2);
  ASSERT_TRUE(pub.ok()) << pub.error();
  ReadView view(*env_);
  NodeView node;
  EXPECT_FALSE(view.reader.nsec3_match(view.zone, hash_of("ns1.example.").data(), node));
  EXPECT_EQ(count_nodes(*env_, pub->snapshot | kNsec3Space), hashes_.size() - 1);
  expect_same_as_fresh(zone_text(v2));
}

// The empty non-terminal "b" goes with its only descendant: by copy.
TEST_F(Rfc5155StoreIxfr, NameRemovedWithItsEmptyNonTerminalIsPublishedByCopy) {
  ZoneSpec v2 = next(2);
  std::erase_if(v2.data, [](const Rr &r) { return r.owner == "a.b"; });
  auto pub = apply(zone_, v2);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_NE(pub->snapshot, base_.snapshot);
  EXPECT_EQ(count_nodes(*env_, pub->snapshot | kNsec3Space), hashes_.size() - 2);
  expect_same_as_fresh(zone_text(v2));
}

// Re-signing chain records (RRSIG NSEC3 only) rewrites them in the NSEC3 space.
TEST_F(Rfc5155StoreIxfr, ResignedChainRecordsChangeInTheNsec3Space) {
  ZoneSpec v2 = next(2);
  v2.signatures[label_of(hashes_[0]) + " NSEC3"] = "BBBB";
  v2.signatures[label_of(hashes_.back()) + " NSEC3"] = "CCCC";
  size_t changes = 0;
  auto pub = apply(zone_, v2, &changes);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(changes, 6u);
  expect_old_chain_kept();
  expect_same_as_fresh(zone_text(v2));
}

// An empty non-terminal gains records (its NSEC3 bitmap changes): the node keeps its hashes.
TEST_F(Rfc5155StoreIxfr, EmptyNonTerminalGainingRecordsKeepsItsHashes) {
  ZoneSpec v2 = next(2);
  v2.data.push_back({"b", "TXT", "\"now with data\""});
  auto pub = apply(zone_, v2);
  ASSERT_TRUE(pub.ok()) << pub.error();
  expect_same_as_fresh(zone_text(v2));
  expect_indexed(*env_, pub->snapshot, v2);
}

// A name whose records all go but that has a descendant stays, as an empty non-terminal.
TEST_F(Rfc5155StoreIxfr, NameLosingItsRecordsBecomesAnEmptyNonTerminalWithItsHashes) {
  ZoneSpec v2 = next(2);
  v2.data.push_back({"x.www", "A", "192.0.2.9"});
  ASSERT_TRUE(apply(zone_, v2).ok());
  ZoneSpec v3 = v2;
  v3.serial = 3;
  std::erase_if(v3.data, [](const Rr &r) { return r.owner == "www"; });
  auto pub = apply(v2, v3);
  ASSERT_TRUE(pub.ok()) << pub.error();
  expect_same_as_fresh(zone_text(v3));
  expect_indexed(*env_, pub->snapshot, v3);
}

// Successive differences build on what each one published, whichever path it took.
TEST_F(Rfc5155StoreIxfr, SuccessiveDifferencesKeepTheChain) {
  ZoneSpec v2 = next(2);
  v2.data.push_back({"ftp", "A", "192.0.2.21"});
  ASSERT_TRUE(apply(zone_, v2).ok());
  ZoneSpec v3 = v2;
  v3.serial = 3;
  v3.signatures["ftp A"] = "CCCC";
  v3.data.push_back({"x.y.ftp", "TXT", "\"deep\""}); // and an empty non-terminal y.ftp
  auto pub = apply(v2, v3);
  ASSERT_TRUE(pub.ok()) << pub.error();
  ZoneSpec v4 = v3;
  v4.serial = 4;
  v4.data.push_back({"mail", "MX", "10 www"});
  ASSERT_TRUE(apply(v3, v4).ok());
  EXPECT_EQ(count_nodes(*env_, record().current | kNsec3Space), hashes_.size() + 4);
  expect_same_as_fresh(zone_text(v4));
  expect_indexed(*env_, record().current, v4);
}

// Other data at an NSEC3 owner makes it a name of the zone again (dnssec.h nsec3_node_hash):
// for the publish pass, which takes it out of the NSEC3 space.
TEST_F(Rfc5155StoreIxfr, OtherDataAtAnNsec3OwnerIsPublishedByCopyAsAName) {
  ZoneSpec v2 = next(2);
  std::string label = label_of(hashes_[0]);
  v2.data.push_back({label, "TXT", "\"not only a chain record\""});
  auto pub = apply(zone_, v2);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_NE(pub->snapshot, base_.snapshot);
  ReadView view(*env_);
  NodeView node;
  EXPECT_FALSE(view.reader.nsec3_match(view.zone, hashes_[0].data(), node));
  ASSERT_TRUE(view.reader.get(view.zone, key_of(label + "." + kApex, kApex), node));
  EXPECT_TRUE(node.has_type(KNOT_RRTYPE_NSEC3));
  EXPECT_TRUE(node.has_type(KNOT_RRTYPE_TXT));
  expect_same_as_fresh(zone_text(v2));
}

// RFC 5155 4 and 7.1: a new salt is a new chain, hashed differently: the publish pass
// rehashes every name.
TEST_F(Rfc5155StoreIxfr, NewSaltIsPublishedByCopyWithNewHashes) {
  ZoneSpec v2 = next(2);
  v2.nsec3param = "1 0 2 0102";
  auto pub = apply(zone_, v2);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_NE(pub->snapshot, base_.snapshot);
  expect_same_as_fresh(zone_text(v2));
  expect_indexed(*env_, pub->snapshot, v2);
}

// ---- IXFR that changes how the zone is signed: the copy path decides the mode again ----

class DnssecIxfr : public StoreTest {};

TEST_F(DnssecIxfr, AddingNsec3ParamSwitchesAnNsecZoneToNsec3) {
  ZoneSpec from;
  from.denial = Denial::kNsec;
  Published base = publish(from);
  ASSERT_EQ(mode(base.dnssec), mode(DnssecMode::kNsec));
  ZoneSpec to;
  to.serial = 2;
  auto pub = apply(from, to);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_NE(pub->snapshot, base.snapshot) << "a change of signing takes the copy path";
  EXPECT_EQ(mode(pub->dnssec), mode(DnssecMode::kNsec3));
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kNsec3));
  EXPECT_EQ(count_nodes(*env_, pub->snapshot | kNsec3Space), chain_hashes(to).size());
  EXPECT_EQ(count_nodes(*env_, base.snapshot), base.nodes) << "the NSEC version is kept";
  expect_same_as_fresh(zone_text(to));
}

TEST_F(DnssecIxfr, RemovingTheSoaRrsigMakesAnNsecZoneUnsigned) {
  ZoneSpec from;
  from.denial = Denial::kNsec;
  Published base = publish(from);
  ZoneSpec to = from;
  to.serial = 2;
  to.sign_soa = false;
  size_t changes = 0;
  auto pub = apply(from, to, &changes);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(changes, 3u) << "SOA out/in and the SOA's RRSIG out";
  EXPECT_NE(pub->snapshot, base.snapshot) << "a change of signing takes the copy path";
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kUnsigned));
  expect_same_as_fresh(zone_text(to));
}

TEST_F(DnssecIxfr, RemovingTheSoaRrsigTurnsNsec3NodesBackIntoNames) {
  ZoneSpec from;
  Published base = publish(from);
  ZoneSpec to = from;
  to.serial = 2;
  to.sign_soa = false;
  auto pub = apply(from, to);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_NE(pub->snapshot, base.snapshot);
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kUnsigned));
  EXPECT_EQ(count_nodes(*env_, pub->snapshot | kNsec3Space), 0u);
  auto names = test::dump_snapshot(*env_, pub->snapshot, kApex);
  for (const auto &h : chain_hashes(from)) {
    EXPECT_EQ(names.count(label_of(h) + "." + kApex), 1u) << label_of(h);
  }
  expect_same_as_fresh(zone_text(to));
}

TEST_F(DnssecIxfr, SigningAnUnsignedZoneMakesItNsecSigned) {
  ZoneSpec from;
  from.denial = Denial::kNsec;
  from.sign_soa = false;
  Published base = publish(from);
  ASSERT_EQ(mode(base.dnssec), mode(DnssecMode::kUnsigned));
  ZoneSpec to = from;
  to.serial = 2;
  to.sign_soa = true;
  auto pub = apply(from, to);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_NE(pub->snapshot, base.snapshot);
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kNsec));
  expect_same_as_fresh(zone_text(to));
}

// Re-signing an NSEC zone changes no signing mode: it stays in place (diff.h) and kNsec.
TEST_F(DnssecIxfr, ResigningAnNsecZoneIsAppliedInPlace) {
  ZoneSpec from;
  from.denial = Denial::kNsec;
  Published base = publish(from);
  ZoneSpec to = from;
  to.serial = 2;
  to.signatures["www A"] = "BBBB";
  to.signatures["@ SOA"] = "BBBB";
  auto pub = apply(from, to);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_EQ(pub->snapshot, base.snapshot);
  EXPECT_EQ(mode(record().dnssec), mode(DnssecMode::kNsec));
  expect_same_as_fresh(zone_text(to));
}

// The in-place path reports the zone's signing mode as the copy path and a full publish do, so
// a caller logging or acting on the result does not see a signed zone as unsigned.
TEST_F(DnssecIxfr, InPlaceResultReportsTheZonesSigning) {
  for (Denial denial : {Denial::kNsec, Denial::kNsec3}) {
    test::TempDir dir;
    env_ = test::open_env(dir.path());
    ASSERT_NE(env_, nullptr);
    ZoneSpec from;
    from.denial = denial;
    Published base = publish(from);
    ZoneSpec to = from;
    to.serial = 2;
    to.signatures["www A"] = "BBBB";
    auto pub = apply(from, to);
    ASSERT_TRUE(pub.ok()) << pub.error();
    ASSERT_EQ(pub->snapshot, base.snapshot) << "the in-place path";
    EXPECT_EQ(mode(record().dnssec), mode(base.dnssec)) << "the zone record is right";
    EXPECT_EQ(mode(pub->dnssec), mode(base.dnssec))
        << "apply_diff's result says how the zone is signed";
    env_.reset();
  }
}

// ---- RRSIGs of one covered type (RFC 4034 3, dnssec.h) ----

class Rfc4034DnssecRrsigs : public StoreTest {
protected:
  void SetUp() override {
    StoreTest::SetUp();
    publish(soa(1) + "@ NS ns1\n" + rrsig("@", "SOA") +
            "www A 192.0.2.80\nwww TXT \"t\"\nwww NSEC txt.example. A TXT RRSIG NSEC\n" +
            rrsig("www", "TXT") + rrsig("www", "NSEC") + rrsig("www", "A", "BBBB", "22222") +
            rrsig("www", "A", "AAAA", "11111") +
            "txt TXT \"t\"\ntxt NSEC example. TXT RRSIG NSEC\n" + rrsig("txt", "NSEC") +
            rrsig("txt", "TXT") + "ns1 A 192.0.2.1\n");
  }
  NodeView node(ReadView &view, const std::string &name) {
    NodeView n;
    EXPECT_TRUE(view.reader.get(view.zone, key_of(name, kApex), n)) << name;
    return n;
  }
};

uint16_t covered(const knot_rdata_t *rd) {
  return static_cast<uint16_t>(rd->data[0] << 8 | rd->data[1]);
}

// Checks `run` is `count` RRSIGs over `type` lying inside the stored RRSIG rdataset of `node`.
void expect_run(const NodeView &node, const knot_rdataset_t &run, uint16_t type, uint16_t count) {
  RRsetView sigs;
  ASSERT_TRUE(node.find(KNOT_RRTYPE_RRSIG, sigs));
  const auto *begin = reinterpret_cast<const uint8_t *>(sigs.rrs.rdata);
  const auto *first = reinterpret_cast<const uint8_t *>(run.rdata);
  EXPECT_GE(first, begin);
  EXPECT_LE(first + run.size, begin + sigs.rrs.size) << "zero-copy: inside the stored RRset";
  EXPECT_GE(first, node.data());
  EXPECT_LE(first + run.size, node.data() + node.size());
  ASSERT_EQ(run.count, count);
  knot_rdata_t *rd = run.rdata;
  for (uint16_t i = 0; i < run.count; ++i, rd = knot_rdataset_next(rd)) {
    EXPECT_EQ(covered(rd), type) << i;
  }
  EXPECT_EQ(reinterpret_cast<const uint8_t *>(rd), first + run.size) << "size spans the run";
}

TEST_F(Rfc4034DnssecRrsigs, CoveringReturnsExactlyTheSignaturesOfOneType) {
  ReadView view(*env_);
  NodeView www = node(view, "www.example.");
  RRsetView sigs;
  ASSERT_TRUE(www.find(KNOT_RRTYPE_RRSIG, sigs));
  ASSERT_EQ(sigs.rrs.count, 4);
  knot_rdataset_t run;
  ASSERT_TRUE(rrsigs_covering(www, KNOT_RRTYPE_A, run));
  expect_run(www, run, KNOT_RRTYPE_A, 2);
  EXPECT_EQ(run.rdata, sigs.rrs.rdata) << "A (1) sorts first: the run starts the RRset";
  ASSERT_TRUE(rrsigs_covering(www, KNOT_RRTYPE_TXT, run));
  expect_run(www, run, KNOT_RRTYPE_TXT, 1);
  ASSERT_TRUE(rrsigs_covering(www, KNOT_RRTYPE_NSEC, run));
  expect_run(www, run, KNOT_RRTYPE_NSEC, 1);
  EXPECT_FALSE(rrsigs_covering(www, KNOT_RRTYPE_AAAA, run));
  EXPECT_FALSE(rrsigs_covering(www, KNOT_RRTYPE_RRSIG, run));
  EXPECT_FALSE(rrsigs_covering(www, 0, run));
}

TEST_F(Rfc4034DnssecRrsigs, FirstRrsigsAreThoseOfTheLowestCoveredType) {
  ReadView view(*env_);
  NodeView www = node(view, "www.example.");
  knot_rdataset_t run;
  uint16_t type = 0;
  ASSERT_TRUE(first_rrsigs(www, run, type));
  EXPECT_EQ(type, KNOT_RRTYPE_A);
  expect_run(www, run, KNOT_RRTYPE_A, 2);
  NodeView txt = node(view, "txt.example.");
  ASSERT_TRUE(first_rrsigs(txt, run, type));
  EXPECT_EQ(type, KNOT_RRTYPE_TXT);
  expect_run(txt, run, KNOT_RRTYPE_TXT, 1);
}

TEST_F(Rfc4034DnssecRrsigs, NodeWithoutSignaturesHasNone) {
  ReadView view(*env_);
  NodeView ns1 = node(view, "ns1.example.");
  knot_rdataset_t run;
  uint16_t type = 0;
  EXPECT_FALSE(rrsigs_covering(ns1, KNOT_RRTYPE_A, run));
  EXPECT_FALSE(first_rrsigs(ns1, run, type));
}

// zone_signing reads the apex the same way.
TEST_F(Rfc4034DnssecRrsigs, ZoneSigningOfTheStoredApex) {
  ReadView view(*env_);
  ZoneSigning s = zone_signing(node(view, "example."));
  EXPECT_EQ(mode(s.mode), mode(DnssecMode::kNsec));
  EXPECT_FALSE(s.nsec3.valid());
  EXPECT_EQ(mode(zone_signing(node(view, "www.example.")).mode), mode(DnssecMode::kUnsigned));
}

// ---- nsec3_node_hash: which nodes are NSEC3 chain records ----

TEST(Rfc5155DnssecNodeHash, OnlyAHashLabelWithNothingButNsec3AndRrsigIsAChainRecord) {
  test::TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  const std::string label = label_of(hash_of("www.example."));
  const std::string rest = label.substr(1);
  const std::string other = (label[0] == 'v' ? "u" : "v") + rest; // another valid hash
  const std::string data = (label[0] == '0' ? "1" : "0") + rest;  // a hash label with data
  const std::string bad = "w" + rest;                             // 'w' is not base32hex
  auto nsec3 = [&](const std::string &owner) {
    return owner + " NSEC3 " + kParam + " " + label + " A\n";
  };
  // An unsigned zone keeps all of them as names, so each can be looked at.
  auto pub = test::publish_records(*env, kApex,
                                   rrs(soa(1) + nsec3(label) + rrsig(label, "NSEC3") +
                                       nsec3(other) + nsec3("x." + label) + nsec3(bad) +
                                       nsec3(rest) + nsec3(data) + data + " TXT \"and data\"\n"));
  ASSERT_TRUE(pub.ok()) << pub.error();
  ASSERT_EQ(mode(pub->dnssec), mode(DnssecMode::kUnsigned));
  ReadTxn txn(*env);
  ASSERT_TRUE(txn.begin());
  Reader reader(txn);
  Name apex(kApex);
  ZoneHandle zone;
  ASSERT_TRUE(reader.find_zone(apex, zone));
  Hash got{};
  auto is_chain = [&](const std::string &owner) {
    NodeView node;
    NameKey key = key_of(owner + "." + kApex, kApex);
    EXPECT_TRUE(reader.get(zone, key, node)) << owner;
    got = Hash{};
    return nsec3_node_hash(key, node, got.data());
  };
  EXPECT_TRUE(is_chain(label)) << "NSEC3 and its RRSIG";
  EXPECT_EQ(label_of(got), label) << "the decoded hash";
  EXPECT_TRUE(is_chain(other)) << "NSEC3 alone";
  EXPECT_EQ(label_of(got), other);
  EXPECT_FALSE(is_chain("x." + label)) << "two labels below the apex";
  EXPECT_FALSE(is_chain(bad)) << "not base32hex";
  EXPECT_FALSE(is_chain(rest)) << "31 characters";
  EXPECT_FALSE(is_chain(data)) << "other data: a name of the zone";
  NodeView apex_node;
  ASSERT_TRUE(reader.get(zone, NameKey{}, apex_node));
  EXPECT_FALSE(nsec3_node_hash(NameKey{}, apex_node, got.data())) << "the apex";
}

// ---- The NSEC chain walk backwards (RFC 4035 2.3, reader.h nsec_previous) ----

class Rfc4035DnssecNsecPrevious : public StoreTest {
protected:
  void SetUp() override {
    StoreTest::SetUp();
    ZoneSpec z;
    z.denial = Denial::kNsec;
    z.data = {
        {"@", "NS", "ns1"},        {"ns1", "A", "192.0.2.1"},     {"a.b", "A", "192.0.2.3"},
        {"sub", "NS", "ns.sub"},   {"ns.sub", "A", "192.0.2.53"}, {"x.ns.sub", "A", "192.0.2.54"},
        {"www", "A", "192.0.2.80"}};
    publish(z);
  }
  // The owner nsec_previous() gives for `name`, or "" when it finds none.
  std::string previous(const std::string &name) {
    ReadView view(*env_);
    NameKey out;
    NodeView node;
    if (!view.reader.nsec_previous(view.zone, key_of(name, kApex), out, node)) {
      return "";
    }
    EXPECT_FALSE(node.empty());
    EXPECT_FALSE(node.has(kFlagNonAuth));
    EXPECT_TRUE(node.has_type(KNOT_RRTYPE_NSEC));
    uint8_t owner[KNOT_DNAME_MAXLEN];
    key_to_name(out, view.apex, owner);
    return name_to_string(owner);
  }
};

TEST_F(Rfc4035DnssecNsecPrevious, SkipsEmptyNonTerminals) {
  // Order: example., b (empty), 0.b (the query), a.b, ...
  EXPECT_EQ(previous("0.b.example."), "example.");
  EXPECT_EQ(previous("c.example."), "a.b.example.");
}

TEST_F(Rfc4035DnssecNsecPrevious, SkipsGlueBelowADelegation) {
  // Order: ..., sub, ns.sub (glue), x.ns.sub (glue), sub0 (the query), www.
  EXPECT_EQ(previous("sub0.example."), "sub.example.");
  EXPECT_EQ(previous("y.ns.sub.example."), "sub.example.");
  EXPECT_EQ(previous("ns.sub.example."), "sub.example.") << "an existing glue name too";
}

TEST_F(Rfc4035DnssecNsecPrevious, EndsAtTheApex) {
  EXPECT_EQ(previous("a.example."), "example.");
  EXPECT_EQ(previous("-.example."), "example.");
  EXPECT_EQ(previous("zzz.example."), "www.example.") << "past the last name";
}

// A name without an NSEC (occluded by a DNAME, or left out by the master) is not in the chain:
// the proof must come from the NSEC before it, or it proves nothing.
TEST_F(Rfc4035DnssecNsecPrevious, SkipsNamesThatOwnNoNsec) {
  publish(soa(2) + rrsig("@", "SOA") + "@ NS ns1\n@ NSEC a.example. NS SOA RRSIG NSEC\n" +
          "a A 192.0.2.1\na NSEC z.example. A RRSIG NSEC\n" + "m A 192.0.2.2\n" +
          "dn DNAME target.test.\ndn NSEC z.example. DNAME RRSIG NSEC\n" +
          "x.dn A 192.0.2.3\nx.dn NSEC z.example. A RRSIG NSEC\n" +
          "z A 192.0.2.4\nz NSEC example. A RRSIG NSEC\n");
  EXPECT_EQ(previous("n.example."), "dn.example.") << "m owns no NSEC";
  EXPECT_EQ(previous("y.dn.example."), "dn.example.") << "x.dn is occluded by the DNAME";
  EXPECT_EQ(previous("b.example."), "a.example.");
}

// ---- Format version 2 (schema.h): version 1 stores open and are upgraded (to 3 now) ----

void set_format(const std::string &dir, uint32_t version) {
  MDB_env *env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 8), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_set_mapsize(env, size_t{64} << 20), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), MDB_NOTLS, 0640), MDB_SUCCESS);
  MDB_txn *txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), MDB_SUCCESS);
  MDB_dbi dbi;
  ASSERT_EQ(mdb_dbi_open(txn, kDbMeta, 0, &dbi), MDB_SUCCESS);
  MDB_val k{std::strlen(kMetaFormat), const_cast<char *>(kMetaFormat)},
      v{sizeof(version), &version};
  ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), MDB_SUCCESS);
  ASSERT_EQ(mdb_txn_commit(txn), MDB_SUCCESS);
  mdb_env_close(env);
}

uint32_t stored_format(Env &env) {
  MDB_txn *txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(env.raw(), nullptr, MDB_RDONLY, &txn), MDB_SUCCESS);
  MDB_val k{std::strlen(kMetaFormat), const_cast<char *>(kMetaFormat)}, v;
  uint32_t version = 0;
  if (mdb_get(txn, env.meta(), &k, &v) == MDB_SUCCESS && v.mv_size == sizeof(version)) {
    std::memcpy(&version, v.mv_data, sizeof(version));
  }
  mdb_txn_abort(txn);
  return version;
}

TEST(DnssecStoreFormat, NewStoreIsTheCurrentVersion) {
  test::TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(stored_format(*env), kFormatVersion);
  EXPECT_EQ(kFormatVersion, 3u);
}

TEST(DnssecStoreFormat, Version1StoreOpensAndIsMarkedTheCurrentVersion) {
  test::TempDir dir;
  {
    auto env = test::open_env(dir.path());
    ASSERT_NE(env, nullptr);
    ASSERT_TRUE(test::publish_records(*env, kApex, rrs(soa(7) + "@ NS ns1\n")).ok());
  }
  set_format(dir.path(), 1);
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(stored_format(*env), kFormatVersion);
  auto zone = read_zone(*env, Name(kApex));
  ASSERT_TRUE(zone.has_value()) << "its zones are still there";
  EXPECT_EQ(zone->record.serial, 7u);
  EXPECT_EQ(mode(zone->record.dnssec), mode(DnssecMode::kUnsigned));
}

// schema.h: a version 1 snapshot of a signed zone (NSEC3 records among the names, no hashes,
// dnssec = kUnsigned) is served as before and indexed when next published, by IXFR too.
TEST(DnssecStoreFormat, Version1SignedZoneIsIndexedByTheNextIxfr) {
  ZoneSpec v1;
  ZoneSpec unsigned_v1 = v1;
  unsigned_v1.sign_soa = false;
  std::vector<uint8_t> signed_apex;
  {
    // The apex as a version 1 publish wrote it: the signed apex without the hash trailer.
    test::TempDir scratch;
    auto env = test::open_env(scratch.path());
    ASSERT_NE(env, nullptr);
    auto pub = test::publish_records(*env, kApex, rrs(zone_text(v1)));
    ASSERT_TRUE(pub.ok()) << pub.error();
    ReadView view(*env);
    NodeView apex;
    ASSERT_TRUE(view.reader.get(view.zone, NameKey{}, apex));
    ASSERT_TRUE(apex.has(kFlagNsec3Hashes));
    signed_apex.assign(apex.data(), apex.data() + apex.size() - kNsec3TrailerLen);
    uint16_t flags = apex.flags() & ~kFlagNsec3Hashes;
    std::memcpy(signed_apex.data(), &flags, sizeof(flags));
  }
  test::TempDir dir;
  uint64_t old_snapshot = 0;
  {
    auto env = test::open_env(dir.path());
    ASSERT_NE(env, nullptr);
    auto pub = test::publish_records(*env, kApex, rrs(zone_text(unsigned_v1)));
    ASSERT_TRUE(pub.ok()) << pub.error();
    old_snapshot = pub->snapshot;
    auto txn = env->begin_write();
    ASSERT_TRUE(txn.ok());
    DbKey dk;
    make_db_key(old_snapshot, nullptr, 0, dk);
    MDB_val k = dk.val(), v{signed_apex.size(), signed_apex.data()};
    ASSERT_EQ(mdb_put(txn->get(), env->nodes(), &k, &v, 0), MDB_SUCCESS);
    ASSERT_EQ(txn->commit(), MDB_SUCCESS);
  }
  set_format(dir.path(), 1);
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  Name apex(kApex);
  auto zone = read_zone(*env, apex);
  ASSERT_TRUE(zone.has_value());
  EXPECT_EQ(mode(zone->record.dnssec), mode(DnssecMode::kUnsigned)) << "served as before";
  ZoneSpec v2 = v1;
  v2.serial = 2;
  v2.data.push_back({"ftp", "A", "192.0.2.21"});
  ZoneDiff diff(apex);
  diff.set_serials(1, 2);
  auto old_rrs = rrs(zone_text(v1)), new_rrs = rrs(zone_text(v2));
  auto same = [](const test::Record &a, const test::Record &b) {
    return a.owner == b.owner && a.type == b.type && a.rdata == b.rdata;
  };
  for (const auto &r : old_rrs) {
    if (std::none_of(new_rrs.begin(), new_rrs.end(), [&](const auto &n) { return same(r, n); })) {
      ASSERT_TRUE(
          diff.remove(r.owner.data(), r.type, r.rdata.data(), static_cast<uint16_t>(r.rdata.size()))
              .ok());
    }
  }
  for (const auto &r : new_rrs) {
    if (std::none_of(old_rrs.begin(), old_rrs.end(), [&](const auto &o) { return same(r, o); })) {
      ASSERT_TRUE(diff.add(r.owner.data(), r.type, r.ttl, r.rdata.data(),
                           static_cast<uint16_t>(r.rdata.size()))
                      .ok());
    }
  }
  SourceInfo src;
  src.kind = SourceKind::kTransfer;
  auto pub = apply_diff(*env, diff, src);
  ASSERT_TRUE(pub.ok()) << pub.error();
  EXPECT_NE(pub->snapshot, old_snapshot) << "the signing changes: by copy";
  EXPECT_EQ(mode(pub->dnssec), mode(DnssecMode::kNsec3));
  EXPECT_EQ(mode(read_zone(*env, apex)->record.dnssec), mode(DnssecMode::kNsec3));
  EXPECT_EQ(pub->records, new_rrs.size());
  expect_indexed(*env, pub->snapshot, v2);
}

// A read-only open must not write: the version stays 1 until a writer opens the store.
TEST(DnssecStoreFormat, ReadOnlyOpenOfAVersion1StoreLeavesItAsItIs) {
  test::TempDir dir;
  {
    auto env = test::open_env(dir.path());
    ASSERT_NE(env, nullptr);
  }
  set_format(dir.path(), 1);
  EnvOptions opts;
  opts.path = dir.path();
  opts.initial_map_size = size_t{64} << 20;
  opts.read_only = true;
  auto env = Env::open(opts);
  ASSERT_TRUE(env.ok()) << env.error();
  EXPECT_EQ(stored_format(**env), 1u);
}

TEST(DnssecStoreFormat, UnknownVersionIsRefusedWithTheVersionInTheError) {
  test::TempDir dir;
  {
    auto env = test::open_env(dir.path());
    ASSERT_NE(env, nullptr);
  }
  set_format(dir.path(), 99);
  EnvOptions opts;
  opts.path = dir.path();
  opts.initial_map_size = size_t{64} << 20;
  auto env = Env::open(opts);
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.error().find("format version 99"), std::string::npos) << env.error();
}

} // namespace
} // namespace holdfast::store
