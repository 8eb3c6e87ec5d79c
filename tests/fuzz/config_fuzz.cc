// SPDX-License-Identifier: MIT
// libFuzzer target: arbitrary bytes as a holdfast config file, through daemon/config.cc's
// loader (yaml-cpp, the schema, every key's parser and the cross-checks).
//
// What it looks for: crashes, sanitizer reports and exceptions escaping load_config (an
// escaping exception aborts the run); a config that loads without an address to listen on or
// a storage directory. The file is rewritten in one temp dir (under /dev/shm when present),
// which relative paths in the config resolve against.
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "daemon/config.h"

namespace {

std::string *config_path = nullptr;
std::string *config_dir = nullptr;

void remove_dir() {
  std::error_code ec;
  std::filesystem::remove_all(*config_dir, ec);
}

void set_up() {
  std::string tmpl = std::filesystem::is_directory("/dev/shm") ? "/dev/shm/holdfast-fuzz-XXXXXX"
                                                               : "/tmp/holdfast-fuzz-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::abort();
  }
  config_dir = new std::string(tmpl);
  config_path = new std::string(tmpl + "/holdfast.yaml");
  std::atexit(remove_dir);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (config_path == nullptr) {
    set_up();
  }
  FILE *f = std::fopen(config_path->c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size)) {
    std::abort();
  }
  std::fclose(f);
  auto cfg = holdfast::daemon::load_config(*config_path);
  if (cfg && (cfg->listen.empty() || cfg->storage.empty())) {
    std::fprintf(stderr, "config_fuzz: a config without listen or storage loaded\n");
    std::abort();
  }
  return 0;
}
