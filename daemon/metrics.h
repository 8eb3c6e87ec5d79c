// SPDX-License-Identifier: MIT
// Prometheus text exposition (format 0.0.4) of the status view: every metric is declared here
// once, with its help text and type, and rendered by one function (STYLE.md 10).
#pragma once

#include <string>
#include <vector>

#include "daemon/status.h"
#include "lb/status.h"

namespace holdfast::daemon {

// `traffic`: traffic management (pools, answers, probes); nothing of it is rendered when it is
// empty (no pools configured).
std::string render_metrics(const std::vector<ZoneStatus> &zones, const ServerStatus &server,
                           const lb::LbStats &traffic = {});

} // namespace holdfast::daemon
