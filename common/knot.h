// SPDX-License-Identifier: MIT
// The one way C++ code includes libknot and libzscanner: their headers carry no extern "C".
#pragma once

extern "C" {
#include <libknot/libknot.h>
#include <libzscanner/scanner.h>
}
