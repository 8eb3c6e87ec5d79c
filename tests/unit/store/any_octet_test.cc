// SPDX-License-Identifier: MIT
// Owner names with any octet (RFC 2181 11; common/dname.h escapes): lookups, predecessors, the
// NSEC walk, and the format 3 upgrade that re-keys older stores (store/upgrade.h).
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/keys.h"
#include "store/reader.h"
#include "store/schema.h"
#include "store/writer.h"
#include "tests/unit/testutil.h"

namespace holdfast::store {
namespace {

using test::key_of;
using test::Name;
using test::TempDir;

constexpr const char *kApex = "bin.";

// Stored names, in canonical order (RFC 4034 6.1): a label sorts before the longer labels it
// prefixes, and a name's subtree right after it. Each owns an NSEC, so the chain is all of them.
const std::vector<std::string> kOrder = {
    "bin.",       "\\000.bin.", "x.\\000.bin.", "\\000\\000.bin.", "\\001.bin.",
    "\\002.bin.", "a.bin.",     "a\\000b.bin.", "a\\001.bin.",     "\\255.bin.",
};

std::string zone_text() {
  std::string text = "$ORIGIN bin.\n@ SOA ns hostmaster 1 7200 3600 1209600 300\n@ NS ns\n";
  for (const auto &n : kOrder) {
    text += n + " NSEC bin. A NSEC\n";
    if (n != "bin.") {
      text += n + " A 192.0.2.1\n";
    }
  }
  return text;
}

std::string owner_text(const NameKey &key, const knot_dname_t *apex) {
  uint8_t owner[KNOT_DNAME_MAXLEN];
  key_to_name(key, apex, owner);
  return name_to_string(owner);
}

class AnyOctetTest : public ::testing::Test {
protected:
  void SetUp() override {
    env_ = test::open_env(dir_.path());
    ASSERT_NE(env_, nullptr);
    auto p = test::publish_records(*env_, kApex, test::parse_records(kApex, zone_text()));
    ASSERT_TRUE(p.ok()) << p.error();
  }
  // "exact" or the predecessor's name, and the closest encloser's.
  std::pair<std::string, std::string> lookup(const std::string &name) {
    ReadTxn txn(*env_);
    Reader reader(txn);
    EXPECT_TRUE(txn.begin());
    ZoneHandle z;
    EXPECT_TRUE(reader.find_zone(apex_, z));
    Lookup l;
    if (!reader.lookup(z, key_of(name, kApex), l)) {
      return {"<failed>", ""};
    }
    return {l.exact ? "exact" : owner_text(l.predecessor, z.apex), owner_text(l.encloser, z.apex)};
  }
  std::string nsec_previous(const std::string &name) {
    ReadTxn txn(*env_);
    Reader reader(txn);
    EXPECT_TRUE(txn.begin());
    ZoneHandle z;
    EXPECT_TRUE(reader.find_zone(apex_, z));
    NameKey out;
    NodeView node;
    return reader.nsec_previous(z, key_of(name, kApex), out, node) ? owner_text(out, z.apex) : "";
  }

  TempDir dir_;
  std::unique_ptr<Env> env_;
  Name apex_{kApex}; // ZoneHandle::apex points into it (reader.h)
};

TEST_F(AnyOctetTest, EveryStoredNameIsFoundExactly) {
  for (const auto &n : kOrder) {
    EXPECT_EQ(lookup(n).first, "exact") << n;
    EXPECT_EQ(lookup(n).second, owner_text(key_of(n, kApex), Name(kApex))) << n;
  }
}

TEST_F(AnyOctetTest, SnapshotKeysAreInCanonicalOrder) {
  auto zone = read_zone(*env_, Name(kApex));
  ASSERT_TRUE(zone.has_value());
  ReadTxn txn(*env_);
  ASSERT_TRUE(txn.begin());
  MDB_cursor *cur = nullptr;
  ASSERT_EQ(mdb_cursor_open(txn.get(), env_->nodes(), &cur), MDB_SUCCESS);
  DbKey start;
  make_db_key(zone->record.current, nullptr, 0, start);
  MDB_val k = start.val(), v;
  std::vector<std::string> order;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
       rc == MDB_SUCCESS && key_snapshot(k) == zone->record.current;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    order.push_back(owner_text(key_owner(k), Name(kApex)));
  }
  mdb_cursor_close(cur);
  EXPECT_EQ(order, kOrder);
}

TEST_F(AnyOctetTest, MissingNamesFindTheirCanonicalPredecessorAndEncloser) {
  struct Case {
    const char *name, *predecessor, *encloser;
  } cases[] = {
      {"y.\\000.bin.", "x.\\000.bin.", "\\000.bin."},
      {"\\000\\000\\000.bin.", "\\000\\000.bin.", "bin."},
      {"\\000\\001.bin.", "\\000\\000.bin.", "bin."},
      {"a\\000.bin.", "a.bin.", "bin."}, // a prefix of "a\000b": before it
      {"a\\000c.bin.", "a\\000b.bin.", "bin."},
      {"\\001\\000.bin.", "\\001.bin.", "bin."},
      {"b.bin.", "a\\001.bin.", "bin."},
      {"\\002\\000.bin.", "\\002.bin.", "bin."},
      {"\\255\\000.bin.", "\\255.bin.", "bin."},
      {"z.a\\000b.bin.", "a\\000b.bin.", "a\\000b.bin."},
      {"\\001.\\001.bin.", "\\001.bin.", "\\001.bin."},
  };
  for (const auto &c : cases) {
    auto [pred, encl] = lookup(c.name);
    EXPECT_EQ(pred, c.predecessor) << c.name;
    EXPECT_EQ(encl, c.encloser) << c.name;
    // Every name owns an NSEC: the chain's previous name is the predecessor (RFC 4035 2.3).
    EXPECT_EQ(nsec_previous(c.name), c.predecessor) << c.name;
  }
}

TEST(AnyOctetRootZone, AQueryKeyLongerThanLmdbKeysIsStillLookedUp) {
  // A 255-octet name of zero octets under the root has a 504-octet key (512 with the id): no
  // such name can be stored (keys.h), but a query for it must find its predecessor.
  TempDir dir;
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  auto p = test::publish_records(
      *env, ".",
      test::parse_records(".", "@ SOA ns.x. h.x. 1 7200 3600 1209600 300\n\\000 A 192.0.2.1\n"));
  ASSERT_TRUE(p.ok()) << p.error();
  std::string l63, l61;
  for (int i = 0; i < 63; ++i) {
    l63 += "\\000";
  }
  for (int i = 0; i < 61; ++i) {
    l61 += "\\000";
  }
  NameKey key = key_of(l63 + "." + l63 + "." + l63 + "." + l61 + ".", ".");
  ASSERT_GT(db_key_size(key), static_cast<size_t>(env->max_key_size()));
  ReadTxn txn(*env);
  Reader reader(txn);
  ASSERT_TRUE(txn.begin());
  ZoneHandle z;
  Name root(".");
  ASSERT_TRUE(reader.find_zone(root, z));
  Lookup l;
  ASSERT_TRUE(reader.lookup(z, key, l));
  EXPECT_FALSE(l.exact);
  EXPECT_EQ(owner_text(l.predecessor, z.apex), "\\000.");
  EXPECT_EQ(owner_text(l.encloser, z.apex), ".") << "its top label is not \\000";
}

// ---- Format 3 (schema.h): a format 2 store holding raw 0x01 octets in keys is re-keyed ----

uint32_t stored_format(Env &env) {
  ReadTxn txn(env);
  EXPECT_TRUE(txn.begin());
  MDB_val k{std::strlen(kMetaFormat), const_cast<char *>(kMetaFormat)}, v;
  uint32_t version = 0;
  if (mdb_get(txn.get(), env.meta(), &k, &v) == MDB_SUCCESS && v.mv_size == sizeof(version)) {
    std::memcpy(&version, v.mv_data, sizeof(version));
  }
  return version;
}

// Rewrites the node keys of `snapshot` as format 2 wrote them (0x01 octets as they are) and
// marks the store format 2.
void downgrade(Env &env, uint64_t snapshot) {
  auto txn = env.begin_write();
  ASSERT_TRUE(txn.ok());
  MDB_cursor *cur = nullptr;
  ASSERT_EQ(mdb_cursor_open(txn->get(), env.nodes(), &cur), MDB_SUCCESS);
  std::vector<std::pair<std::string, std::string>> nodes; // key, value
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (key_snapshot(k) == snapshot) {
      nodes.emplace_back(std::string(static_cast<char *>(k.mv_data), k.mv_size),
                         std::string(static_cast<char *>(v.mv_data), v.mv_size));
    }
  }
  mdb_cursor_close(cur);
  for (auto &[key, value] : nodes) {
    MDB_val dk{key.size(), key.data()};
    ASSERT_EQ(mdb_del(txn->get(), env.nodes(), &dk, nullptr), MDB_SUCCESS);
  }
  for (auto &[key, value] : nodes) {
    NameKey nk = key_from_stored(reinterpret_cast<const uint8_t *>(key.data()) + 8, key.size() - 8);
    std::string raw;
    for (size_t i = 0; i < nk.len; ++i) {
      raw.push_back(static_cast<char>(nk.data[i]));
      i += nk.data[i] == 1 ? 1 : 0; // 0x01 0x02 is a raw 0x01 (these names hold no zero)
    }
    DbKey old;
    make_db_key(snapshot, reinterpret_cast<const uint8_t *>(raw.data()), raw.size(), old);
    MDB_val ok = old.val(), ov{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn->get(), env.nodes(), &ok, &ov, 0), MDB_SUCCESS);
  }
  uint32_t two = 2;
  MDB_val fk{std::strlen(kMetaFormat), const_cast<char *>(kMetaFormat)}, fv{sizeof(two), &two};
  ASSERT_EQ(mdb_put(txn->get(), env.meta(), &fk, &fv, 0), MDB_SUCCESS);
  ASSERT_EQ(txn->commit(), MDB_SUCCESS);
}

TEST(StoreFormat3, Format2NamesWithOneOctetsAreReKeyedOnOpen) {
  TempDir dir;
  const std::string text = "$ORIGIN bin.\n@ SOA ns hostmaster 5 7200 3600 1209600 300\n"
                           "@ NS ns\n\\001 A 192.0.2.1\na\\001\\002 A 192.0.2.2\n"
                           "\\001\\002 A 192.0.2.3\nx.\\001 A 192.0.2.4\nb A 192.0.2.5\n";
  std::map<std::string, std::string> before;
  {
    auto env = test::open_env(dir.path());
    ASSERT_NE(env, nullptr);
    auto p = test::publish_records(*env, kApex, test::parse_records(kApex, text));
    ASSERT_TRUE(p.ok()) << p.error();
    before = test::dump_snapshot(*env, p->snapshot, kApex);
    downgrade(*env, p->snapshot);
    ASSERT_EQ(stored_format(*env), 2u);
  }
  auto env = test::open_env(dir.path());
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(stored_format(*env), kFormatVersion);
  EXPECT_EQ(kFormatVersion, 3u);
  auto zone = read_zone(*env, Name(kApex));
  ASSERT_TRUE(zone.has_value());
  EXPECT_EQ(zone->record.serial, 5u);
  EXPECT_EQ(test::dump_snapshot(*env, zone->record.current, kApex), before);
  ReadTxn txn(*env);
  Reader reader(txn);
  ASSERT_TRUE(txn.begin());
  ZoneHandle z;
  Name apex(kApex);
  ASSERT_TRUE(reader.find_zone(apex, z));
  for (const char *n :
       {"\\001.bin.", "a\\001\\002.bin.", "\\001\\002.bin.", "x.\\001.bin.", "b.bin.", "bin."}) {
    Lookup l;
    ASSERT_TRUE(reader.lookup(z, key_of(n, kApex), l)) << n;
    EXPECT_TRUE(l.exact) << n << " is found after the upgrade";
  }
}

TEST(StoreFormat3, ReadOnlyOpenOfAFormat2StoreChangesNothing) {
  TempDir dir;
  {
    auto env = test::open_env(dir.path());
    ASSERT_NE(env, nullptr);
    auto p = test::publish_records(
        *env, kApex,
        test::parse_records(kApex, "@ SOA ns hostmaster 5 7200 3600 1209600 300\n\\001 TXT x\n"));
    ASSERT_TRUE(p.ok()) << p.error();
    downgrade(*env, p->snapshot);
  }
  EnvOptions opts;
  opts.path = dir.path();
  opts.initial_map_size = size_t{64} << 20;
  opts.read_only = true;
  auto env = Env::open(opts);
  ASSERT_TRUE(env.ok()) << env.error();
  EXPECT_EQ(stored_format(**env), 2u);
}

} // namespace
} // namespace holdfast::store
