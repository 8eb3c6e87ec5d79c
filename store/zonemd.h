// SPDX-License-Identifier: MIT
// ZONEMD (RFC 8976): placeholder, being written.
#pragma once
