// SPDX-License-Identifier: MIT
// Requests to a master (SOA, AXFR, IXFR) and the checks every reply message must pass before
// its records are looked at: id, QR, opcode, question, RCODE and TSIG. No I/O here.
#pragma once

#include <cstdint>
#include <string>

#include "common/knot.h"

#include "common/result.h"
#include "common/tsig.h"

namespace holdfast::xfr {

constexpr size_t kRequestMax = 512;

// Builds the query for `apex` into buf (kRequestMax bytes): SOA, AXFR, or IXFR with an SOA of
// `ixfr_serial` in the authority section (RFC 1995 3; only the serial matters to masters).
// Signs it with TSIG when the session has a key. Returns the message length.
Result<size_t> make_request(uint8_t *buf, const knot_dname_t *apex, uint16_t qtype, uint16_t id,
                            uint32_t ixfr_serial, TsigClient &tsig);

// Checks one reply message, already parsed into `pkt`. The question must match on the first
// message; RFC 5936 2.2.1 lets later messages of a transfer omit it. TC is left to the caller
// (an SOA reply over UDP is retried over TCP).
Status check_reply(const knot_pkt_t *pkt, uint16_t id, const knot_dname_t *apex, uint16_t qtype,
                   bool first, TsigClient &tsig);

// Parses wire into pkt (which must wrap it); the error text names what is malformed.
Status parse_reply(knot_pkt_t *pkt);

// The serial of an SOA record's rdata.
inline uint32_t soa_serial(const knot_rrset_t &soa) {
  return knot_soa_serial(soa.rrs.rdata);
}

// "NOERROR", "REFUSED", ... for an RCODE.
std::string rcode_name(unsigned rcode);

} // namespace holdfast::xfr
