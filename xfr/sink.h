// SPDX-License-Identifier: MIT
// Where transferred records go: a full zone into a new snapshot (with the vanity nameserver
// set and the traffic layer's managed names substituted), an IXFR's differences into a
// ZoneDiff (filtered the same way).
#pragma once

#include <memory>

#include "common/knot.h"

#include "common/result.h"
#include "store/diff.h"
#include "store/overlay.h"
#include "store/writer.h"
#include "xfr/spec.h"

namespace holdfast::xfr {

// Receives the records of a full zone, one RR at a time.
class RecordSink {
public:
  virtual ~RecordSink() = default;
  virtual Status add(const knot_rrset_t &rr) = 0;
};

using store::seals_apex;

// The substitutions of a zone: its vanity nameserver set (DESIGN.md "Vanity nameservers": the
// apex NS RRset is the set's names, and the set's names inside the zone get its addresses as
// A/AAAA) and its managed names (store/overlay.h). The master's records for exactly those
// (owner, type) pairs are left out.
class Vanity {
public:
  explicit Vanity(const ZoneSpec &spec);
  bool active() const { return !set_.empty() || (overlay_ != nullptr && !overlay_->empty()); }
  // Turns the substitution off (for a sealed zone: see seals_apex).
  void disable() {
    set_.clear();
    overlay_ = nullptr;
  }
  const knot_dname_t *apex() const { return apex_.data(); }
  // True when the master's record is replaced by the set.
  bool replaces(const knot_dname_t *owner, uint16_t type) const;
  // Writes the set's records, with `ttl` (the master's apex NS TTL when it had one).
  Status emit(store::SnapshotWriter &writer, uint32_t ttl) const;

private:
  std::vector<uint8_t> apex_;
  std::vector<NameServer> set_;
  std::shared_ptr<const store::Overlay> overlay_;
};

// A full zone streamed into a new snapshot.
class SnapshotSink final : public RecordSink {
public:
  SnapshotSink(std::unique_ptr<store::SnapshotWriter> writer, const Vanity &vanity)
      : writer_(std::move(writer)), vanity_(vanity) {}
  Status add(const knot_rrset_t &rr) override;
  // Adds the vanity set and publishes atomically.
  Result<store::Published> publish();
  size_t records() const { return writer_->staged_records(); }
  // The staging bound is reached: flush() (writer thread) before adding more.
  bool flush_due() const { return writer_->flush_due(); }
  Status flush() { return writer_->flush(); }
  // Double buffering (see SnapshotWriter::take_staged): loop thread, then writer thread.
  store::StagedBatch take_staged() { return writer_->take_staged(); }
  Status flush(store::StagedBatch &batch) { return writer_->flush(batch); }
  // Deletes what was written of an unfinished snapshot (writer thread).
  void discard() {
    if (!writer_->done()) {
      writer_->abort();
    }
  }
  bool done() const { return writer_->done(); }
  // The zone is sealed (seals_apex: signed or carrying a ZONEMD), so the master's records were
  // kept instead of the vanity set.
  bool vanity_skipped() const { return vanity_skipped_; }

private:
  std::unique_ptr<store::SnapshotWriter> writer_;
  const Vanity &vanity_;
  uint32_t ns_ttl_ = 3600;
  store::SetAside replaced_; // the master's records the substitutions replace
  bool sealed_ = false;        // a record that seals_apex() went by
  bool vanity_skipped_ = false;
};

} // namespace holdfast::xfr
