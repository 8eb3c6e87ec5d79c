// SPDX-License-Identifier: MIT
// lb::PersistedMember <-> the store's "lb-state" records (store/lb_state.h): the daemon saves the
// registry's member states through the writer thread and loads them before the first view.
#pragma once

#include <vector>

#include "common/result.h"
#include "lb/status.h"
#include "store/env.h"
#include "store/lb_state.h"

namespace holdfast::daemon {

store::MemberStateRecord to_record(const lb::PersistedMember &m);
// Values a newer holdfast may write and this one does not know become the safe default
// (admin auto, reason error).
lb::PersistedMember from_record(const store::MemberStateRecord &r);

// Writer thread only (submit it as a job): replaces every stored member state.
Status save_members(store::Env &env, const std::vector<lb::PersistedMember> &members);
// Any thread (a gated read): what was saved last, empty on a fresh store.
Result<std::vector<lb::PersistedMember>> load_members(store::Env &env);

} // namespace holdfast::daemon
