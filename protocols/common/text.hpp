// Small text helpers shared by the protocol engines: ASCII case handling, base64 (RFC 4648) for
// SASL, and sanitising client bytes before they reach a reply or the log.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sevenport {

char ascii_lower(char c);
std::string ascii_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

// Removes leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);

// Splits at the first space: {verb, rest-after-the-space}; rest is empty if there is no space.
std::pair<std::string_view, std::string_view> split_verb(std::string_view line);

// Printable ASCII only: other bytes become \xNN, and the result is cut at `max` characters
// (with "..." appended) so that a hostile line cannot flood a log or a reply.
std::string sanitize(std::string_view s, std::size_t max = 200);

std::string base64_encode(std::string_view bytes);
// Strict decoding: padding required, no whitespace. nullopt on any malformed input.
std::optional<std::string> base64_decode(std::string_view text);

// RFC 4616 PLAIN message: authzid NUL authcid NUL passwd.
struct PlainCredentials {
  std::string authzid;
  std::string authcid;
  std::string password;
};
std::optional<PlainCredentials> parse_sasl_plain(std::string_view decoded);

}  // namespace sevenport
