// SPDX-License-Identifier: MIT
// The in-place path of applying an IXFR (see diff.h): only touched nodes are rewritten.
#pragma once

#include <optional>

#include "common/result.h"
#include "store/diff.h"

namespace holdfast::store {

// Applies `diff` to the zone's current snapshot in place and commits. Returns nullopt, with
// nothing changed, when the diff needs the copy path; an error when it does not apply.
Result<std::optional<Published>> patch_in_place(Env &env, const ZoneDiff &diff,
                                                const SourceInfo &source);

} // namespace holdfast::store
