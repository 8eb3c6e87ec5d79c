// SPDX-License-Identifier: MIT
// The per-node checks every way of making a zone version applies (the publish pass of a new
// snapshot and the in-place IXFR patch): one function, so both refuse the same nodes alike.
#pragma once

#include <string>

#include "common/knot.h"
#include "store/keys.h"
#include "store/node.h"

namespace holdfast::store {

// Checks a node of the zone `apex` the way a loader must (RFC 1034 3.6.2: CNAME and other
// data; RFC 1035 5.2: one SOA, at the apex). Returns the error message for the operator, or "".
std::string check_node(const NodeView &node, const NameKey &key, const knot_dname_t *apex);

} // namespace holdfast::store
