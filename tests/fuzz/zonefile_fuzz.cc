// SPDX-License-Identifier: MIT
// libFuzzer target: arbitrary bytes as a zone file for "fuzz.example.", loaded through the
// whole store path (libzscanner -> SnapshotWriter -> publish), then every stored name queried.
//
// What it looks for: crashes and sanitizer reports in the writer's staging, sorting, merging
// and finalize pass (empty non-terminals, flags, checks), in the reader, and in answer() on
// zone contents nobody wrote by hand (odd labels, escaped bytes, deep names, CNAME/DNAME
// webs). A zone that is rejected must leave the previous snapshot current; a published one
// must be queryable, and each reply must parse.
//
// The store lives in /dev/shm when it exists: every publish is an LMDB commit.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/knot.h"

#include "common/dname.h"
#include "serve/query.h"
#include "store/env.h"
#include "store/keys.h"
#include "store/writer.h"
#include "store/zonefile.h"
#include "tests/fuzz/fuzz_store.h"

namespace {

using holdfast::serve::QueryProcessor;
namespace store = holdfast::store;

constexpr size_t kMaxQueriedNames = 64;

struct Fixture : holdfast::fuzz::FuzzStore {
  std::string zone_path;
  uint8_t apex[KNOT_DNAME_MAXLEN];
};

Fixture *fixture = nullptr;

void set_up() {
  fixture = new Fixture();
  holdfast::fuzz::open_fuzz_store(*fixture, "zonefile_fuzz", size_t{16} << 20);
  fixture->zone_path = fixture->dir + "/fuzz.zone";
  knot_dname_from_str(fixture->apex, "fuzz.example.", sizeof(fixture->apex));
  holdfast::serve::ServeOptions serve;
  fixture->qp = std::make_unique<QueryProcessor>(*fixture->env, serve);
}

// The owner names of the zone's current snapshot (at most kMaxQueriedNames).
std::vector<std::vector<uint8_t>> stored_names(uint64_t snapshot) {
  std::vector<std::vector<uint8_t>> out;
  MDB_txn *txn = nullptr;
  if (mdb_txn_begin(fixture->env->raw(), nullptr, MDB_RDONLY, &txn) != MDB_SUCCESS) {
    std::abort();
  }
  MDB_cursor *cur = nullptr;
  if (mdb_cursor_open(txn, fixture->env->nodes(), &cur) != MDB_SUCCESS) {
    std::abort();
  }
  store::DbKey start;
  store::make_db_key(snapshot, holdfast::NameKey{}, start); // the apex: first key of the range
  MDB_val k = start.val(), v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
       rc == MDB_SUCCESS && store::key_snapshot(k) == snapshot && out.size() < kMaxQueriedNames;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    holdfast::NameKey key = store::key_owner(k);
    uint8_t name[KNOT_DNAME_MAXLEN + 64];
    size_t len = holdfast::key_to_name(key, fixture->apex, name);
    if (len > KNOT_DNAME_MAXLEN) {
      std::fprintf(stderr, "zonefile_fuzz: stored name of %zu octets\n", len);
      std::abort();
    }
    out.emplace_back(name, name + len);
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  return out;
}

// Asks `qname` `qtype` over UDP and TCP and checks that each reply parses.
void ask(const uint8_t *qname, uint16_t qtype) {
  // libknot zeroes the header only of packets it allocates itself.
  knot_pkt_t *q = knot_pkt_new(nullptr, KNOT_WIRE_MAX_PKTSIZE, nullptr);
  if (q == nullptr) {
    std::abort();
  }
  knot_wire_set_id(q->wire, 0x4242);
  if (knot_pkt_put_question(q, qname, KNOT_CLASS_IN, qtype) != KNOT_EOK) {
    knot_pkt_free(q);
    return; // a name too long to ask (with the child label added)
  }
  static uint8_t query[KNOT_WIRE_MAX_PKTSIZE];
  size_t qlen = q->size;
  std::memcpy(query, q->wire, qlen);
  knot_pkt_free(q);
  static uint8_t out[KNOT_WIRE_MAX_PKTSIZE];
  for (bool tcp : {false, true}) {
    size_t n = fixture->qp->process(query, qlen, out, sizeof(out), tcp);
    if (n < KNOT_WIRE_HEADER_SIZE || !knot_wire_get_qr(out)) {
      std::fprintf(stderr, "zonefile_fuzz: bad reply of %zu bytes\n", n);
      std::abort();
    }
    knot_pkt_t *r = knot_pkt_new(out, static_cast<uint16_t>(n), nullptr);
    int rc = knot_pkt_parse(r, 0);
    knot_pkt_free(r);
    if (rc != KNOT_EOK) {
      std::fprintf(stderr, "zonefile_fuzz: reply does not parse: %s\n", knot_strerror(rc));
      std::abort();
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fixture == nullptr) {
    set_up();
  }
  FILE *f = std::fopen(fixture->zone_path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size)) {
    std::abort();
  }
  std::fclose(f);

  auto before = store::read_zone(*fixture->env, fixture->apex);
  auto loaded = store::load_zone_file(*fixture->env, fixture->apex, fixture->zone_path, true);
  auto after = store::read_zone(*fixture->env, fixture->apex);
  if (!loaded) {
    // A rejected zone changes nothing.
    bool same = before.has_value() == after.has_value() &&
                (!before || before->record.current == after->record.current);
    if (!same) {
      std::fprintf(stderr, "zonefile_fuzz: a rejected zone changed the current snapshot\n");
      std::abort();
    }
    return 0;
  }
  if (!after || after->record.current != loaded->published.snapshot) {
    std::fprintf(stderr, "zonefile_fuzz: the published snapshot is not current\n");
    std::abort();
  }
  auto names = stored_names(after->record.current);
  if (!fixture->qp->begin_batch()) {
    std::abort();
  }
  for (const auto &name : names) {
    ask(name.data(), KNOT_RRTYPE_A);
    ask(name.data(), KNOT_RRTYPE_ANY);
    ask(name.data(), KNOT_RRTYPE_DS);
    // A child that does not exist: closest encloser, wildcard, NXDOMAIN, DNAME paths.
    uint8_t child[KNOT_DNAME_MAXLEN + 2];
    child[0] = 1;
    child[1] = 'q';
    if (name.size() + 2 <= KNOT_DNAME_MAXLEN) {
      std::memcpy(child + 2, name.data(), name.size());
      ask(child, KNOT_RRTYPE_TXT);
    }
  }
  fixture->qp->end_batch();
  return 0;
}
