// SPDX-License-Identifier: MIT
// Composition root: store, zone loading (the single writer), serve workers, signals.
//
// Start-up order matters for "serve at once": the store is opened and workers start serving
// whatever snapshots it holds before any zone file is looked at; zone files that changed are
// then loaded on the writer thread and published atomically one by one.
#pragma once

#include "daemon/config.h"

namespace holdfast::daemon {

// Runs until SIGTERM/SIGINT. Returns the process exit code.
int run_server(const Config &cfg);

// `holdfast check`: config and every zone file; prints problems, returns the exit code.
int check_config(const std::string &path);

} // namespace holdfast::daemon
