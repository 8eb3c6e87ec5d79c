// SPDX-License-Identifier: MIT
// Logging setup: spdlog writing to stderr, level set from the config.
#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace holdfast {

bool init_logging(std::string_view level) {
  static bool sink_ready = false;
  if (!sink_ready) {
    auto logger = spdlog::stderr_color_mt("holdfast");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);
    sink_ready = true;
  }
  if (level == "debug") {
    spdlog::set_level(spdlog::level::debug);
  } else if (level == "info") {
    spdlog::set_level(spdlog::level::info);
  } else if (level == "warning") {
    spdlog::set_level(spdlog::level::warn);
  } else if (level == "error") {
    spdlog::set_level(spdlog::level::err);
  } else {
    return false;
  }
  return true;
}

} // namespace holdfast
