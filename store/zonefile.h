// SPDX-License-Identifier: MIT
// Primary zones: RFC 1035 master files parsed with libzscanner into a snapshot.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/knot.h"

#include "common/result.h"
#include "store/env.h"
#include "store/overlay.h"
#include "store/writer.h"

namespace holdfast::store {

enum class LoadOutcome {
  kLoaded,    // parsed and published
  kUnchanged, // the stored snapshot came from this file as it is now: nothing parsed
};

struct ZoneFileLoad {
  LoadOutcome outcome = LoadOutcome::kLoaded;
  Published published;
  double seconds = 0;
};

// Loads `path` as zone `apex` unless the zone's stored snapshot was made from the same file
// (same path, size, mtime and inode) and `force` is false. On any error the previously
// published snapshot stays current; the message names the file and line.
// With `shared`, everything happens inside that transaction and the caller commits. When
// `*stop` becomes true the parse ends early with an error; the unfinished snapshot is left for
// the next start's garbage collection instead of being deleted now (shutdown stays fast).
// With an `overlay`, its managed names replace the file's records (overlay.h) and the file is
// loaded even when unchanged (an empty one: written again without managed names).
Result<ZoneFileLoad> load_zone_file(Env &env, const knot_dname_t *apex, const std::string &path,
                                    bool force = false, MDB_txn *shared = nullptr,
                                    const std::atomic<bool> *stop = nullptr,
                                    const Overlay *overlay = nullptr);

struct ZoneFileJob {
  const knot_dname_t *apex;
  std::string path;
  const Overlay *overlay = nullptr; // managed names of the zone (owned by the caller)
};

// Loads many zone files. Small ones are grouped so that one commit (one fsync) publishes a few
// hundred zones: a provider's 100k zones load in seconds, not minutes. `done(i, result)` is
// called for every job, in order; loading stops early when `*stop` becomes true.
void load_zone_files(Env &env, const std::vector<ZoneFileJob> &jobs,
                     const std::function<void(size_t, const Result<ZoneFileLoad> &)> &done,
                     const std::atomic<bool> *stop = nullptr);

// Parses and checks the file as loading would (`holdfast check`), without touching the real
// store: the zone is published into a temporary one. Returns the record count.
Result<size_t> check_zone_file(const knot_dname_t *apex, const std::string &path);

} // namespace holdfast::store
