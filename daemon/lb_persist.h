// SPDX-License-Identifier: MIT
// lb::PersistedMember <-> the store's "lb-state" records (store/lb_state.h): the daemon saves the
// registry's member states through the writer thread and loads them before the first view.
#pragma once

#include <memory>
#include <vector>

#include "common/result.h"
#include "lb/status.h"
#include "store/env.h"
#include "store/lb_state.h"
#include "store/writer_thread.h"

namespace holdfast::daemon {

store::MemberStateRecord to_record(const lb::PersistedMember &m);
// Values a newer holdfast may write and this one does not know become the safe default
// (admin auto, reason error).
lb::PersistedMember from_record(const store::MemberStateRecord &r);

// Writer thread only (submit it as a job): replaces every stored member state.
Status save_members(store::Env &env, const std::vector<lb::PersistedMember> &members);
// Any thread (a gated read): what was saved last, empty on a fresh store.
Result<std::vector<lb::PersistedMember>> load_members(store::Env &env);

// The registry's persist hook: hands the member states to the writer thread. Saves coalesce: while
// one is queued, a newer set replaces its data instead of queueing another whole-table rewrite
// (a flapping pool of thousands of members costs one write per writer turn, not one per change).
// A failed save is logged (the next change tries again). Thread-safe; jobs keep their state
// alive, so the saver may go before the writer thread.
class MemberStateSaver {
public:
  MemberStateSaver(store::Env &env, store::WriterThread &writer);
  void save(std::vector<lb::PersistedMember> members);

private:
  struct Pending;
  store::Env &env_;
  store::WriterThread &writer_;
  std::shared_ptr<Pending> pending_;
};

} // namespace holdfast::daemon
