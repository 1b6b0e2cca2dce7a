// Small pieces of HTTP shared by the server's files (internal to server/http): request-target
// splitting, percent-decoding, the peer's printable address, a comparison that takes the same
// time wherever the strings differ.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http/http_server.hpp"

namespace sevenport::http {

// One read at a time is handled, so one buffer of this size serves every connection.
constexpr std::size_t kReadBufferSize = 64 * 1024;

inline std::uint64_t options_idle_ms(const Options& options) {
  return options.idle_timeout_seconds * 1000ULL;
}

// Splits a request target (origin-form "/p?q", absolute-form "http://h/p?q", or "*") into its
// percent-decoded path and raw query; a fragment is dropped. False if the path has a bad escape
// or decodes to a NUL.
bool split_target(std::string_view target, std::string& path, std::string& query);

// %XX escapes (and, with `plus_is_space`, '+') decoded. With `strict`, a '%' not followed by two
// hex digits fails; otherwise it is kept as it is.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space, bool strict);

// Equality whose time depends on the lengths only, not on where the strings differ: a token
// cannot be guessed byte by byte from response times.
bool constant_time_equal(std::string_view a, std::string_view b);

// "ip:port" ("[ip]:port" for IPv6) of the connected peer, "?" if unknown.
std::string peer_name(const uv_tcp_t* tcp);

}  // namespace sevenport::http
