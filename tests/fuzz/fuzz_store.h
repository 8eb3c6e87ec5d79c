// SPDX-License-Identifier: MIT
// Shared by the fuzz targets: a throwaway LMDB store in a fresh temp dir (under /dev/shm when
// present: every publish is a commit), removed at exit, and the QueryProcessor over it.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "serve/query.h"
#include "store/env.h"

namespace holdfast::fuzz {

struct FuzzStore {
  std::string dir;
  std::unique_ptr<store::Env> env;
  std::unique_ptr<serve::QueryProcessor> qp;
};

inline FuzzStore *g_fuzz_store = nullptr;

inline void remove_fuzz_store() {
  if (g_fuzz_store != nullptr) {
    g_fuzz_store->qp.reset();
    g_fuzz_store->env.reset();
    std::error_code ec;
    std::filesystem::remove_all(g_fuzz_store->dir, ec);
  }
}

// Creates the directory and opens the store; aborts (a broken harness, not a finding) on error.
inline void open_fuzz_store(FuzzStore &fs, const char *target, size_t map_size) {
  std::string tmpl = std::filesystem::is_directory("/dev/shm") ? "/dev/shm/holdfast-fuzz-XXXXXX"
                                                               : "/tmp/holdfast-fuzz-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::abort();
  }
  fs.dir = tmpl;
  g_fuzz_store = &fs;
  std::atexit(remove_fuzz_store);
  store::EnvOptions opts;
  opts.path = fs.dir + "/store";
  opts.initial_map_size = map_size;
  auto env = store::Env::open(opts);
  if (!env) {
    std::fprintf(stderr, "%s: %s\n", target, env.error().c_str());
    std::abort();
  }
  fs.env = std::move(*env);
}

} // namespace holdfast::fuzz
