#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Formats the C++ sources with clang-format (--check: only report) and runs clang-tidy on them.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files 'common/*.cc' 'common/*.h' 'store/*.cc' 'store/*.h' 'serve/*.cc' 'serve/*.h' \
        'daemon/*.cc' 'daemon/*.h' 'tests/*.cc')
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror $files
else
  clang-format -i $files
fi
[ -f build/compile_commands.json ] || cmake -S . -B build >/dev/null
clang-tidy -p build --quiet $(echo "$files" | grep '\.cc$' | grep -v '^tests/') 2>/dev/null \
  | grep -E "warning:|error:" || echo "clang-tidy: no findings"
