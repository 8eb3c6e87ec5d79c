// SPDX-License-Identifier: MIT
// libFuzzer target: a master's reply messages for an AXFR or IXFR of "fuzz.example.", fed
// through the transfer consumers (xfr/request.h checks, AxfrClient, IxfrClient, the sinks) into
// a scratch store, published (a new snapshot, or the IXFR's difference applied in place or by
// copy), then read back and queried.
//
// Input: one mode octet, then messages, each a big-endian u16 length and that many octets (the
// message ID is overwritten with the request's, so the fuzzer need not guess it).
//   mode bit 0: IXFR (from the stored serial 1), else AXFR
//   mode bit 1: a vanity nameserver set is configured for the zone
//   mode bit 2: ZONEMD required (else verified when present)
//   mode bit 3: the stored version is NSEC-signed (xfr-base-signed.zone)
//
// What it looks for: crashes and sanitizer reports; a failed transfer or publish that changes
// the stored zone (the old snapshot must stay as it was, byte for byte: the in-place IXFR path
// writes into the current snapshot); a published zone that is not current, or whose names do
// not answer with replies that parse.
//
// The store lives in /dev/shm when it exists. Before each input the zone is at the base
// version (tests/fuzz/data/xfr-base.zone, or xfr-base-signed.zone: serial 1); it is loaded again
// only after an input changed it or wants the other one.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/knot.h"

#include "common/dname.h"
#include "serve/query.h"
#include "store/diff.h"
#include "store/keys.h"
#include "store/writer.h"
#include "store/zonefile.h"
#include "tests/fuzz/fuzz_store.h"
#include "xfr/axfr_client.h"
#include "xfr/ixfr_client.h"
#include "xfr/request.h"
#include "xfr/sink.h"

#ifndef HOLDFAST_FUZZ_DATA
#error "HOLDFAST_FUZZ_DATA (the base zone's directory) is set by tests/fuzz/CMakeLists.txt"
#endif

namespace {

namespace store = holdfast::store;
namespace xfr = holdfast::xfr;
using holdfast::Result;
using holdfast::Status;

constexpr uint16_t kId = 0x4242;
constexpr uint32_t kBaseSerial = 1;
constexpr size_t kMaxMessages = 64;
constexpr size_t kMaxQueriedNames = 32;

[[noreturn]] void broken(const char *what) {
  std::fprintf(stderr, "xfr_fuzz: %s\n", what);
  std::abort();
}

struct Fixture : holdfast::fuzz::FuzzStore {
  xfr::ZoneSpec plain, vanity;
  bool base_signed = false;
  std::string base_dump; // every node of the base snapshot, key and value
  uint64_t base_snapshot = 0;
};

Fixture *fixture = nullptr;

xfr::ZoneSpec make_spec(bool with_vanity) {
  xfr::ZoneSpec spec;
  spec.name = "fuzz.example.";
  spec.apex.resize(KNOT_DNAME_MAXLEN);
  spec.apex.resize(
      knot_dname_size(knot_dname_from_str(spec.apex.data(), spec.name.c_str(), spec.apex.size())));
  if (with_vanity) {
    for (const char *ns : {"ns1.fuzz.example.", "ns.vanity.test."}) {
      xfr::NameServer server;
      server.name.resize(KNOT_DNAME_MAXLEN);
      server.name.resize(
          knot_dname_size(knot_dname_from_str(server.name.data(), ns, server.name.size())));
      server.addresses.push_back(*holdfast::parse_endpoint("192.0.2.53"));
      server.addresses.push_back(*holdfast::parse_endpoint("2001:db8::53"));
      spec.vanity.push_back(std::move(server));
    }
  }
  return spec;
}

// The nodes of `snapshot` (both key spaces), as one string to compare.
std::string dump(uint64_t snapshot) {
  std::string out;
  store::ReadTxn txn(*fixture->env);
  if (!txn.begin()) {
    broken("cannot begin a read transaction");
  }
  MDB_cursor *cur = nullptr;
  if (mdb_cursor_open(txn.get(), fixture->env->nodes(), &cur) != MDB_SUCCESS) {
    broken("cannot open a cursor");
  }
  for (uint64_t range : {snapshot, snapshot | store::kNsec3Space}) {
    store::DbKey start;
    store::make_db_key(range, nullptr, 0, start);
    MDB_val k = start.val(), v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == MDB_SUCCESS && store::key_snapshot(k) == range;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      out.append(static_cast<const char *>(k.mv_data), k.mv_size);
      out.push_back('\n');
      out.append(static_cast<const char *>(v.mv_data), v.mv_size);
      out.push_back('\n');
    }
  }
  mdb_cursor_close(cur);
  txn.end();
  return out;
}

// Loads the base version again (a new snapshot) and remembers it.
void load_base(bool signed_base) {
  std::string path =
      std::string(HOLDFAST_FUZZ_DATA) + (signed_base ? "/xfr-base-signed.zone" : "/xfr-base.zone");
  auto loaded = store::load_zone_file(*fixture->env, fixture->plain.apex.data(), path, true);
  if (!loaded) {
    std::fprintf(stderr, "xfr_fuzz: %s\n", loaded.error().c_str());
    std::abort();
  }
  fixture->base_signed = signed_base;
  fixture->base_snapshot = loaded->published.snapshot;
  fixture->base_dump = dump(fixture->base_snapshot);
}

void set_up() {
  fixture = new Fixture();
  holdfast::fuzz::open_fuzz_store(*fixture, "xfr_fuzz", size_t{64} << 20);
  fixture->plain = make_spec(false);
  fixture->vanity = make_spec(true);
  holdfast::serve::ServeOptions serve;
  fixture->qp = std::make_unique<holdfast::serve::QueryProcessor>(*fixture->env, serve);
  load_base(false);
}

// One transfer, as xfr/zone_controller.cc's TransferJob runs it, minus the sockets.
struct Transfer {
  Transfer(const xfr::ZoneSpec &spec, bool ixfr, store::ZonemdPolicy zonemd)
      : spec(spec), tsig(nullptr), vanity(spec), qtype(ixfr ? KNOT_RRTYPE_IXFR : KNOT_RRTYPE_AXFR),
        zonemd(zonemd) {
    if (ixfr) {
      client = std::make_unique<xfr::IxfrClient>(
          spec.apex.data(), kBaseSerial, vanity, [this]() -> Result<xfr::RecordSink *> {
            auto st = open_sink();
            if (!st) {
              return holdfast::fail(st.error());
            }
            return static_cast<xfr::RecordSink *>(sink.get());
          });
    }
  }
  Status open_sink() {
    store::SourceInfo src;
    src.kind = store::SourceKind::kTransfer;
    src.source = "192.0.2.1@53";
    src.zonemd = zonemd;
    auto w = store::SnapshotWriter::begin(*fixture->env, spec.apex.data(), src);
    if (!w) {
      return holdfast::fail(w.error());
    }
    (*w)->set_flush_bytes(size_t{1} << 20);
    sink = std::make_unique<xfr::SnapshotSink>(std::move(*w), vanity);
    axfr = std::make_unique<xfr::AxfrClient>(spec.apex.data(), *sink);
    return holdfast::Ok{};
  }
  bool done() const { return client ? client->done() : axfr->done(); }
  // Parse, the reply checks, the consumer.
  Status message(uint8_t *wire, size_t n, bool first) {
    if (n >= 2) {
      knot_wire_set_id(wire, kId);
    }
    knot_pkt_t *pkt = knot_pkt_new(wire, static_cast<uint16_t>(n), nullptr);
    if (pkt == nullptr) {
      broken("out of memory");
    }
    Status st = xfr::parse_reply(pkt);
    if (st) {
      st = xfr::check_reply(pkt, kId, spec.apex.data(), qtype, first, tsig);
    }
    if (st) {
      st = client ? client->consume(pkt) : axfr->consume(pkt);
    }
    knot_pkt_free(pkt);
    return st;
  }
  Result<store::Published> publish() {
    if (auto fin = tsig.finish(); !fin) {
      return holdfast::fail(fin.error());
    }
    if (!client || client->kind() == xfr::IxfrClient::Kind::kFull) {
      return sink->publish();
    }
    store::SourceInfo src;
    src.kind = store::SourceKind::kTransfer;
    src.source = "192.0.2.1@53";
    src.zonemd = zonemd;
    return store::apply_diff(*fixture->env, client->diff(), src);
  }

  const xfr::ZoneSpec &spec;
  holdfast::TsigClient tsig;
  xfr::Vanity vanity;
  uint16_t qtype;
  store::ZonemdPolicy zonemd;
  std::unique_ptr<xfr::SnapshotSink> sink;
  std::unique_ptr<xfr::AxfrClient> axfr;
  std::unique_ptr<xfr::IxfrClient> client;
};

// The owner names of `snapshot` (at most kMaxQueriedNames).
std::vector<std::vector<uint8_t>> stored_names(uint64_t snapshot) {
  std::vector<std::vector<uint8_t>> out;
  store::ReadTxn txn(*fixture->env);
  MDB_cursor *cur = nullptr;
  if (!txn.begin() || mdb_cursor_open(txn.get(), fixture->env->nodes(), &cur) != MDB_SUCCESS) {
    broken("cannot read the snapshot");
  }
  store::DbKey start;
  store::make_db_key(snapshot, nullptr, 0, start);
  MDB_val k = start.val(), v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
       rc == MDB_SUCCESS && store::key_snapshot(k) == snapshot && out.size() < kMaxQueriedNames;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    uint8_t name[KNOT_DNAME_MAXLEN + 64];
    size_t len = holdfast::key_to_name(store::key_owner(k), fixture->plain.apex.data(), name);
    if (len > KNOT_DNAME_MAXLEN) {
      broken("a stored name longer than a name");
    }
    out.emplace_back(name, name + len);
  }
  mdb_cursor_close(cur);
  txn.end();
  return out;
}

// Asks `qname` `qtype` (with DO, so denial proofs are built) and checks that the reply parses.
void ask(const uint8_t *qname, uint16_t qtype) {
  knot_pkt_t *q = knot_pkt_new(nullptr, KNOT_WIRE_MAX_PKTSIZE, nullptr);
  if (q == nullptr) {
    broken("out of memory");
  }
  knot_wire_set_id(q->wire, 0x4243);
  knot_rrset_t opt;
  bool ok = knot_pkt_put_question(q, qname, KNOT_CLASS_IN, qtype) == KNOT_EOK &&
            knot_pkt_begin(q, KNOT_ADDITIONAL) == KNOT_EOK &&
            knot_edns_init(&opt, 1232, 0, 0, nullptr) == KNOT_EOK;
  if (ok) {
    knot_edns_set_do(&opt);
    if (knot_pkt_put(q, 0, &opt, KNOT_PF_FREE) != KNOT_EOK) {
      knot_rrset_clear(&opt, nullptr);
      ok = false;
    }
  }
  static uint8_t query[KNOT_WIRE_MAX_PKTSIZE], out[KNOT_WIRE_MAX_PKTSIZE];
  size_t qlen = q->size;
  std::memcpy(query, q->wire, qlen);
  knot_pkt_free(q);
  if (!ok) {
    return; // a name too long to ask (with the child label added)
  }
  size_t n = fixture->qp->process(query, qlen, out, sizeof(out), true);
  if (n < KNOT_WIRE_HEADER_SIZE || !knot_wire_get_qr(out)) {
    broken("a reply that is not one");
  }
  knot_pkt_t *r = knot_pkt_new(out, static_cast<uint16_t>(n), nullptr);
  int rc = knot_pkt_parse(r, 0);
  knot_pkt_free(r);
  if (rc != KNOT_EOK) {
    std::fprintf(stderr, "xfr_fuzz: reply does not parse: %s\n", knot_strerror(rc));
    std::abort();
  }
}

void query_zone(uint64_t snapshot) {
  auto names = stored_names(snapshot);
  if (!fixture->qp->begin_batch()) {
    broken("cannot begin a batch");
  }
  for (const auto &name : names) {
    ask(name.data(), KNOT_RRTYPE_A);
    ask(name.data(), KNOT_RRTYPE_NS);
    uint8_t child[KNOT_DNAME_MAXLEN + 2] = {1, 'q'};
    if (name.size() + 2 <= KNOT_DNAME_MAXLEN) {
      std::memcpy(child + 2, name.data(), name.size());
      ask(child, KNOT_RRTYPE_TXT);
    }
  }
  fixture->qp->end_batch();
}

// XFR_FUZZ_VERBOSE=1 tells what became of each input (to check that seeds get where meant).
void verbose(const char *outcome) {
  static const bool on = std::getenv("XFR_FUZZ_VERBOSE") != nullptr;
  if (on) {
    std::fprintf(stderr, "xfr_fuzz: %s\n", outcome);
  }
}

// The zone is at the base version, unchanged.
void expect_base(const char *what) {
  auto zone = store::read_zone(*fixture->env, fixture->plain.apex.data());
  if (!zone || zone->record.current != fixture->base_snapshot ||
      zone->record.serial != kBaseSerial || dump(fixture->base_snapshot) != fixture->base_dump) {
    broken(what);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fixture == nullptr) {
    set_up();
  }
  if (size == 0) {
    return 0;
  }
  uint8_t mode = data[0];
  bool ixfr = (mode & 1) != 0;
  if (((mode & 8) != 0) != fixture->base_signed) {
    load_base((mode & 8) != 0);
  }
  const xfr::ZoneSpec &spec = (mode & 2) != 0 ? fixture->vanity : fixture->plain;
  auto t = std::make_unique<Transfer>(
      spec, ixfr, (mode & 4) != 0 ? store::ZonemdPolicy::kRequire : store::ZonemdPolicy::kVerify);
  if (!ixfr && !t->open_sink()) {
    broken("cannot open a snapshot");
  }
  static uint8_t wire[65536];
  size_t at = 1;
  Status st = holdfast::Ok{};
  for (size_t i = 0; i < kMaxMessages && st && !t->done() && at + 2 <= size; ++i) {
    size_t n = std::min<size_t>(size_t{data[at]} << 8 | data[at + 1], size - at - 2);
    std::memcpy(wire, data + at + 2, n);
    at += 2 + n;
    st = t->message(wire, n, i == 0);
  }
  bool up_to_date = t->client && t->client->kind() == xfr::IxfrClient::Kind::kUpToDate;
  if (!st || !t->done() || up_to_date) {
    verbose(!st ? st.error().c_str() : up_to_date ? "up to date" : "unfinished");
    t.reset(); // drops an unpublished snapshot
    expect_base("a failed or unfinished transfer changed the stored zone");
    return 0;
  }
  auto pub = t->publish();
  t.reset();
  if (!pub) {
    verbose(pub.error().c_str());
    expect_base("a refused zone changed the stored zone");
    return 0;
  }
  auto zone = store::read_zone(*fixture->env, spec.apex.data());
  if (!zone || zone->record.current != pub->snapshot || zone->record.serial != pub->serial) {
    broken("the published version is not current");
  }
  verbose(pub->snapshot == fixture->base_snapshot ? "applied in place" : "published");
  query_zone(pub->snapshot);
  load_base(fixture->base_signed);
  return 0;
}
