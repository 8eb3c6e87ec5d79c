// SPDX-License-Identifier: MIT
// One logging setup for the whole program (spdlog to stderr) and the zone-prefixed helper.
#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace holdfast {

// Sets the global level from "debug", "info", "warning", "error"; false if unknown.
bool init_logging(std::string_view level);

// Log lines about one zone start with its name in brackets, as Knot DNS does:
//   [example.com.] loaded from zones/example.com.zone, serial 5, 1024 records, 0.02 s
template <typename... Args>
void zone_log(spdlog::level::level_enum lvl, std::string_view zone, fmt::format_string<Args...> f,
              Args &&...args) {
  if (spdlog::should_log(lvl)) {
    spdlog::log(lvl, "[{}] {}", zone, fmt::format(f, std::forward<Args>(args)...));
  }
}

} // namespace holdfast
