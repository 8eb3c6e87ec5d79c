// SPDX-License-Identifier: MIT
// From the traffic-management config to each zone's managed-name placeholders
// (store/overlay.h): what a snapshot of that zone holds at its managed names.
#pragma once

#include <memory>
#include <vector>

#include "lb/spec.h"
#include "store/overlay.h"

namespace holdfast::daemon {

// The placeholders of the zone `apex` (null when no managed record lies in it): for each
// record, every member that can answer it, as if all were up.
std::shared_ptr<const store::Overlay> overlay_for(const lb::LbConfig &lb,
                                                  const std::vector<uint8_t> &apex);

} // namespace holdfast::daemon
