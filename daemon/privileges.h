// SPDX-License-Identifier: MIT
// The storage directory's lock and the drop from root to `server.user`, both careful never to
// follow a symlink planted in the storage directory (a server started as root must not write
// or chown through one).
#pragma once

#include <string>

#include "common/result.h"

namespace holdfast::daemon {

// Locks `dir`/holdfast.lock (opened with O_NOFOLLOW) for this process; returns the descriptor
// to keep open, or why another server has it.
Result<int> lock_storage(const std::string &dir);

// Becomes `user` (if not empty) after handing it the storage directory and its entries; a
// no-op when already running as that user.
Status drop_privileges(const std::string &user, const std::string &storage);

} // namespace holdfast::daemon
