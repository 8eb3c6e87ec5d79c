// SPDX-License-Identifier: MIT
// Zone file loading with libzscanner (see zonefile.h).
#include "store/zonefile.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include "common/knot.h"

#include "common/dname.h"

namespace holdfast::store {
namespace {

struct ParseState {
  SnapshotWriter *writer = nullptr; // null when only checking
  const Overlay *overlay = nullptr; // managed names substituted (overlay.h)
  const knot_dname_t *apex = nullptr;
  SetAside replaced; // the file's records the overlay replaces
  bool sealed = false;
  std::string path;
  std::string error;
  size_t records = 0;
  const std::atomic<bool> *stop = nullptr;
  bool stopped = false;
};

// Sets aside a record the overlay replaces; notes a record that seals the apex.
bool substituted(ParseState *st, zs_scanner_t *s) {
  knot_rdata_t *rd = nullptr;
  uint8_t buf[knot_rdata_size(UINT16_MAX)];
  rd = reinterpret_cast<knot_rdata_t *>(buf);
  knot_rdata_init(rd, static_cast<uint16_t>(s->r_data_length), s->r_data);
  knot_rrset_t rr;
  knot_rrset_init(&rr, s->r_owner, s->r_type, s->r_class, s->r_ttl);
  rr.rrs.count = 1;
  rr.rrs.size = static_cast<uint32_t>(knot_rdata_size(rd->len));
  rr.rrs.rdata = rd;
  st->sealed = st->sealed || seals_apex(rr, st->apex);
  if (!st->overlay->replaces(s->r_owner, s->r_type)) {
    return false;
  }
  st->replaced.keep(rr);
  return true;
}

void on_record(zs_scanner_t *s) {
  auto *st = static_cast<ParseState *>(s->process.data);
  ++st->records;
  if (st->writer == nullptr) {
    return;
  }
  if (st->stop != nullptr && (st->records & 0xfff) == 0 && st->stop->load()) {
    st->stopped = true;
    st->error = st->path + ": loading interrupted by shutdown";
    s->state = ZS_STATE_STOP;
    return;
  }
  if (st->overlay != nullptr && substituted(st, s)) {
    return;
  }
  auto added = st->writer->add(s->r_owner, s->r_type, s->r_class, s->r_ttl, s->r_data,
                               static_cast<uint16_t>(s->r_data_length));
  if (!added) {
    st->error = st->path + ":" + std::to_string(s->line_counter) + ": " + added.error();
    s->state = ZS_STATE_STOP;
  }
}

void on_error(zs_scanner_t *s) {
  auto *st = static_cast<ParseState *>(s->process.data);
  if (st->error.empty()) {
    st->error =
        st->path + ":" + std::to_string(s->line_counter) + ": " + zs_strerror(s->error.code);
  }
  s->state = ZS_STATE_STOP; // the first error is the one the operator needs
}

// Runs the scanner over the whole file; the writer (if any) receives every record.
Status parse(const knot_dname_t *apex, const std::string &path, ParseState &st) {
  std::string origin = name_to_string(apex);
  auto scanner = std::make_unique<zs_scanner_t>();
  if (zs_init(scanner.get(), origin.c_str(), KNOT_CLASS_IN, 3600) != 0) {
    return fail(path + ": cannot initialise the zone file parser");
  }
  auto release = [](zs_scanner_t *p) {
    zs_deinit(p); // frees the scanner's buffers; the struct itself is ours
    delete p;
  };
  std::unique_ptr<zs_scanner_t, decltype(release)> guard(scanner.release(), release);
  zs_scanner_t *s = guard.get();
  if (zs_set_input_file(s, path.c_str()) != 0) {
    int err = errno;
    return fail(
        path + ": cannot read zone file: " +
        (::access(path.c_str(), R_OK) != 0 ? std::strerror(err) : zs_strerror(s->error.code)));
  }
  if (zs_set_processing(s, on_record, on_error, &st) != 0) {
    return fail(path + ": cannot initialise the zone file parser");
  }
  int rc = zs_parse_all(s);
  if (!st.error.empty()) {
    return fail(st.error);
  }
  if (rc != 0 || s->error.counter > 0) {
    return fail(path + ":" + std::to_string(s->line_counter) + ": " + zs_strerror(s->error.code));
  }
  return Ok{};
}

} // namespace

Result<size_t> check_zone_file(const knot_dname_t *apex, const std::string &path) {
  ParseState st;
  st.path = path;
  auto rc = parse(apex, path, st);
  if (!rc) {
    return fail(rc.error());
  }
  // The zone-level checks (SOA at the apex, CNAME and other data, ...) run when a snapshot is
  // published: publish into a throwaway store so that `check` finds what `run` would reject.
  char tmpl[] = "/tmp/holdfast-check-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    return fail(std::string("cannot create a temporary store: ") + std::strerror(errno));
  }
  std::string dir = tmpl;
  Result<size_t> out = st.records;
  {
    auto env = Env::open({dir, size_t{64} << 20});
    auto loaded =
        env ? load_zone_file(**env, apex, path, true) : Result<ZoneFileLoad>(fail(env.error()));
    if (!loaded) {
      out = fail(loaded.error());
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

Result<ZoneFileLoad> load_zone_file(Env &env, const knot_dname_t *apex, const std::string &path,
                                    bool force, MDB_txn *shared, const std::atomic<bool> *stop,
                                    const Overlay *overlay) {
  // The stored snapshot does not record which managed names it was written with: a zone with
  // managed names (or an empty overlay: it had some and has none now) is written again.
  force = force || overlay != nullptr;
  if (overlay != nullptr && overlay->empty()) {
    overlay = nullptr;
  }
  auto start = std::chrono::steady_clock::now();
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    return fail(path + ": cannot read zone file: " + std::strerror(errno));
  }
  SourceInfo source;
  source.kind = SourceKind::kZoneFile;
  source.source = path;
  source.mtime_ns = int64_t{sb.st_mtim.tv_sec} * 1000000000 + sb.st_mtim.tv_nsec;
  source.size = static_cast<uint64_t>(sb.st_size);
  source.inode = sb.st_ino;

  ZoneFileLoad out;
  if (!force) {
    auto stored = read_zone(env, apex, shared);
    if (stored && stored->record.source_kind == SourceKind::kZoneFile && stored->source == path &&
        stored->record.source_mtime_ns == source.mtime_ns &&
        stored->record.source_size == source.size && stored->record.source_inode == source.inode) {
      out.outcome = LoadOutcome::kUnchanged;
      out.published.snapshot = stored->record.current;
      out.published.serial = stored->record.serial;
      out.published.records = stored->record.records;
      return out;
    }
  }
  auto writer = SnapshotWriter::begin(env, apex, source, shared);
  if (!writer) {
    return fail(path + ": " + writer.error());
  }
  ParseState st;
  st.writer = writer->get();
  st.overlay = overlay;
  st.apex = apex;
  st.path = path;
  st.stop = stop;
  auto rc = parse(apex, path, st);
  if (rc && overlay != nullptr) {
    // A sealed zone keeps its own records (overlay.h); the daemon's lb view is not asked
    // for them either (the zone is signed).
    rc = st.sealed ? st.replaced.write_back(**writer) : overlay->emit(**writer);
  }
  if (!rc) {
    if (st.stopped) {
      (*writer)->abandon();
    } else {
      (*writer)->abort();
    }
    return fail(rc.error());
  }
  auto published = (*writer)->publish();
  if (!published) {
    return fail(path + ": " + published.error());
  }
  out.published = *published;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

void load_zone_files(Env &env, const std::vector<ZoneFileJob> &jobs,
                     const std::function<void(size_t, const Result<ZoneFileLoad> &)> &done,
                     const std::atomic<bool> *stop) {
  constexpr size_t kGroupZones = 512;
  constexpr off_t kSmallFile = 1 << 20; // larger files get their own transactions
  auto stopped = [stop] { return stop != nullptr && stop->load(); };
  size_t i = 0;
  while (i < jobs.size() && !stopped()) {
    struct stat sb {};
    if (::stat(jobs[i].path.c_str(), &sb) != 0 || sb.st_size >= kSmallFile) {
      done(i, load_zone_file(env, jobs[i].apex, jobs[i].path, false, nullptr, stop,
                             jobs[i].overlay));
      ++i;
      continue;
    }
    // A group of small files: room for all of them first, since a shared transaction cannot
    // grow the map midway.
    size_t end = i, bytes = 0;
    while (end < jobs.size() && end - i < kGroupZones) {
      struct stat jb {};
      if (::stat(jobs[end].path.c_str(), &jb) != 0 || jb.st_size >= kSmallFile) {
        break;
      }
      bytes += static_cast<size_t>(jb.st_size);
      ++end;
    }
    bool committed = false;
    std::vector<Result<ZoneFileLoad>> results;
    if (env.ensure_room(bytes * 8 + (size_t{16} << 20))) {
      if (auto txn = env.begin_write()) {
        for (size_t j = i; j < end; ++j) {
          results.push_back(load_zone_file(env, jobs[j].apex, jobs[j].path, false, txn->get(),
                                           nullptr, jobs[j].overlay));
        }
        committed = txn->commit() == MDB_SUCCESS;
      }
    }
    if (committed) {
      for (size_t j = i; j < end; ++j) {
        done(j, results[j - i]);
      }
    } else {
      for (size_t j = i; j < end && !stopped(); ++j) { // one by one, each with its own commits
        done(j, load_zone_file(env, jobs[j].apex, jobs[j].path, false, nullptr, nullptr,
                               jobs[j].overlay));
      }
    }
    i = end;
  }
}

} // namespace holdfast::store
